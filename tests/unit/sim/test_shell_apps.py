"""am / monkey / pm / ime / input against the phone model, with MIUI's Security-settings gate."""

import base64
from importlib import resources


from miui_automator.sim.phone import Phone
from miui_automator.sim.shell import Shell


def out(sh, cmd: str) -> str:
    return sh.run(cmd).stdout.decode()


ADB_KEYBOARD = "com.github.uiautomator/.AdbKeyboard"
# A real APK with an input method: the one uiautomator2 installs for its AdbKeyboard.
KEYBOARD_APK = (resources.files("uiautomator2") / "assets" / "app-uiautomator.apk").read_bytes()


def install_keyboard(sh, phone) -> None:
    phone.state.fs.write("/data/local/tmp/unknown.apk", KEYBOARD_APK)
    assert sh.run("pm install -r -t /data/local/tmp/unknown.apk").stdout.endswith(b"Success\n")


def gate_off(phone) -> None:
    phone.state.props["persist.security.adbinput"] = "0"


# ----------------------------------------------------------------------------- am
def test_am_start_by_action_opens_the_account_page(sh, phone):
    result = sh.run("am start -a android.settings.XIAOMI_ACCOUNT_SYNC_SETTINGS")
    assert result.rc == 0
    assert result.stdout == b"Starting: Intent { act=android.settings.XIAOMI_ACCOUNT_SYNC_SETTINGS }\n"
    assert phone.focus()[0] == "com.xiaomi.account"


def test_am_start_component_short_form_with_wait(sh, phone):
    result = sh.run("am start -W -n com.android.settings/.MainSettings")
    lines = result.stdout.decode().splitlines()
    assert lines[0] == "Starting: Intent { cmp=com.android.settings/.MainSettings }"
    assert "Status: ok" in lines and "Activity: com.android.settings/.MainSettings" in lines
    assert any(line.startswith("TotalTime: ") for line in lines) and lines[-1] == "Complete"
    assert phone.focus() == ("com.android.settings", "com.android.settings.MainSettings")


def test_am_start_uiautomator2_app_start_form(sh, phone):
    result = sh.run("am start -a android.intent.action.MAIN -c android.intent.category.LAUNCHER "
                    "-n com.android.settings/com.android.settings.MainSettings; echo X4EXIT:$?")
    assert result.stdout.decode().startswith(
        "Starting: Intent { act=android.intent.action.MAIN cat=[android.intent.category.LAUNCHER] "
        "cmp=com.android.settings/.MainSettings }")
    assert result.stdout.endswith(b"X4EXIT:0\n")


def test_am_start_extras_and_flags_are_described(sh, phone):
    text = out(sh, "am start --user 0 -f 0x10000000 -a android.settings.XIAOMI_ACCOUNT_SYNC_SETTINGS "
                   "--es account_type com.xiaomi --ez flag true")
    assert text == ("Starting: Intent { act=android.settings.XIAOMI_ACCOUNT_SYNC_SETTINGS flg=0x10000000 "
                    "(has extras) }\n")


def test_am_start_unknown_activity_fails(sh, phone):
    before = phone.focus()
    result = sh.run("am start -n com.android.settings/.NoSuchActivity")
    assert result.rc == 1
    assert b"Error type 3" in result.stderr and b"does not exist" in result.stderr
    assert phone.focus() == before


def test_am_start_unresolvable_action(sh):
    result = sh.run("am start -a com.example.NOPE")
    assert result.rc == 1
    assert result.stderr.startswith(b"Error: Activity not started, unable to resolve Intent")


def test_am_start_dash_s_force_stops_first(sh, phone):
    sh.run("am start -n com.android.settings/.MainSettings")
    sh.run("am start -n com.android.settings/.MainSettings")
    depth = len(phone.stack)
    sh.run("am start -S -n com.android.settings/.MainSettings")
    assert len(phone.stack) == depth - 1


def test_am_force_stop_returns_home(sh, phone):
    sh.run("am start -n com.xiaomi.account/.ui.AccountSettingsActivity")
    assert phone.focus()[0] == "com.xiaomi.account"
    assert sh.run("am force-stop com.xiaomi.account").rc == 0
    assert phone.focus()[0] == "com.miui.home"


def test_am_broadcast(sh):
    text = out(sh, "am broadcast -a ADB_KEYBOARD_INPUT_TEXT --es text aGk=")
    assert text == ("Broadcasting: Intent { act=ADB_KEYBOARD_INPUT_TEXT flg=0x400000 (has extras) }\n"
                    "Broadcast completed: result=0\n")


def test_am_unknown_verb(sh):
    assert sh.run("am frobnicate").rc == 255


# ----------------------------------------------------------------------------- monkey
def test_monkey_launches_the_app(sh, phone):
    result = sh.run("monkey -p com.android.settings -c android.intent.category.LAUNCHER 1")
    assert result.rc == 0
    assert b"Events injected: 1\n" in result.stdout
    assert phone.focus()[0] == "com.android.settings"


def test_monkey_without_launcher_aborts(sh):
    result = sh.run("monkey -p com.example.none -c android.intent.category.LAUNCHER 1")
    assert result.rc == 251
    assert b"No activities found to run, monkey aborted." in result.stdout


# ----------------------------------------------------------------------------- input
def test_input_tap_reaches_the_phone(sh, phone):
    before = phone.input_events
    assert sh.run("input tap 540 1200").rc == 0
    assert phone.input_events == before + 1


def test_input_keyevent_back_and_names(sh, phone):
    sh.run("am start -n com.android.settings/.MainSettings")
    assert sh.run("input keyevent KEYCODE_BACK").rc == 0
    assert phone.focus()[0] == "com.miui.home"
    sh.run("am start -n com.android.settings/.MainSettings")
    sh.run("input keyevent 4")
    assert phone.focus()[0] == "com.miui.home"
    before = phone.input_events
    sh.run("input keyevent --longpress HOME BACK")
    assert phone.input_events == before + 2


def test_input_keyevent_power_sleeps_and_wakes(sh, phone):
    sh.run("input keyevent POWER")
    assert not phone.state.screen_on
    sh.run("input keyevent KEYCODE_WAKEUP")
    assert phone.state.screen_on


def test_input_refused_when_gate_is_off(sh, phone):
    gate_off(phone)
    before = phone.input_events
    for cmd in ("input tap 10 10", "input swipe 500 1800 500 600 300", "input keyevent BACK", "input text abc"):
        result = sh.run(cmd)
        assert result.rc == 255, cmd
        err = result.stderr.decode()
        assert err.startswith(f"Exception occurred while executing '{cmd.split()[1]}':\n")
        assert "java.lang.SecurityException" in err and "INJECT_EVENTS" in err
        assert "\tat com.android.server.input.InputManagerService" in err
    assert phone.input_events == before + 4  # every attempt is counted


def test_input_text_non_ascii_crashes_like_miui(sh, phone):
    result = sh.run("input text 你好")
    assert result.rc == 255
    assert b"java.lang.NullPointerException" in result.stderr


def test_input_text_types_into_the_focused_field(sh, phone):
    typed = []
    phone.input_text = lambda text: typed.append(text) or True  # observe what the phone receives
    assert sh.run("input text hello%sworld").rc == 0
    assert typed == ["hello world"]


def test_input_usage_errors(sh):
    assert sh.run("input tap 10").rc == 1
    assert sh.run("input tap x y").rc == 1
    assert sh.run("input").rc == 1


# ----------------------------------------------------------------------------- pm
def test_pm_list_packages_variants(sh, phone):
    names = {p.name for p in phone.state.packages}
    listed = out(sh, "pm list packages").splitlines()
    assert {line.removeprefix("package:") for line in listed} == names
    third = out(sh, "pm list packages -3").splitlines()
    assert third and all(not p.system for p in phone.state.packages if f"package:{p.name}" in third)
    assert "package:com.whatsapp" in third and "package:com.android.settings" not in third
    assert out(sh, "pm list packages -s xiaomi.account") == "package:com.xiaomi.account\n"
    with_path = out(sh, "pm list packages -f com.android.settings").splitlines()
    assert with_path == ["package:/system/priv-app/Settings/Settings.apk=com.android.settings"]
    settings = next(p for p in phone.state.packages if p.name == "com.android.settings")
    versioned = out(sh, "pm list packages -f --show-versioncode com.android.settings").splitlines()
    assert versioned == [f"package:/system/priv-app/Settings/Settings.apk=com.android.settings "
                         f"versionCode:{settings.version_code}"]


def test_pm_path(sh):
    assert out(sh, "pm path com.android.settings") == "package:/system/priv-app/Settings/Settings.apk\n"
    result = sh.run("pm path com.example.none")
    assert (result.stdout, result.rc) == (b"", 1)


def test_pm_clear_needs_the_gate(sh, phone):
    assert out(sh, "pm clear com.whatsapp") == "Success\n"
    gate_off(phone)
    result = sh.run("pm clear com.whatsapp")
    assert result.rc == 255
    assert b"CLEAR_APP_USER_DATA" in result.stderr and b"SecurityException" in result.stderr


def test_pm_uninstall_user_app_but_not_system_app(sh, phone):
    assert out(sh, "pm uninstall com.spotify.music") == "Success\n"
    assert "com.spotify.music" not in {p.name for p in phone.state.packages}
    result = sh.run("pm uninstall com.android.settings")
    assert result.rc == 1 and b"Failure" in result.stdout


def test_pm_install_reads_the_package_from_the_apk_and_keeps_it(sh, phone):
    install_keyboard(sh, phone)
    (pkg,) = [p for p in phone.state.packages if p.name == "com.github.uiautomator"]
    assert (pkg.version_name, pkg.system) == ("2.4.0", False)
    assert out(sh, "pm path com.github.uiautomator") == f"package:{pkg.path}\n"
    assert phone.state.fs.read(pkg.path) == KEYBOARD_APK
    assert sh.run("pm install /data/local/tmp/missing.apk").rc == 255
    phone.state.fs.write("/data/local/tmp/com.example.tool.apk", b"PK\x03\x04apk")
    broken = sh.run("pm install /data/local/tmp/com.example.tool.apk")
    assert broken.rc == 1 and b"Failure [INSTALL_PARSE_FAILED_NOT_APK" in broken.stdout
    assert "com.example.tool" not in {p.name for p in phone.state.packages}


def test_pm_install_refused_without_install_via_usb(sh, phone):
    phone.state.usb_install = False
    phone.state.fs.write("/data/local/tmp/unknown.apk", KEYBOARD_APK)
    refused = sh.run("pm install -r -t /data/local/tmp/unknown.apk")
    assert refused.rc == 1 and refused.stdout.endswith(
        b"Failure [INSTALL_FAILED_USER_RESTRICTED: Install canceled by user]\n")
    assert "com.github.uiautomator" not in {p.name for p in phone.state.packages}


# ----------------------------------------------------------------------------- ime
def test_ime_list_never_offers_adbkeyboard_before_it_is_installed(sh):
    listed = out(sh, "ime list -s -a").splitlines()
    assert "com.android.inputmethod.latin/.LatinIME" in listed
    assert "com.github.uiautomator/.AdbKeyboard" not in listed


def test_ime_list_china_rom_has_security_keyboard_only_with_all():
    sh = Shell(Phone("hyperos2-zh", media_files=0))
    assert "com.miui.securityinputmethod" not in out(sh, "ime list -s")
    assert "com.miui.securityinputmethod" in out(sh, "ime list -s -a")


def test_ime_set(sh, phone):
    assert out(sh, "ime set com.android.inputmethod.latin/.LatinIME").startswith("Input method")
    result = sh.run("ime set com.github.uiautomator/.AdbKeyboard")
    assert result.rc == 255 and b"Unknown input method" in result.stdout


def test_installed_keyboard_is_listed_enabled_set_and_types_into_the_focused_field(sh, phone):
    install_keyboard(sh, phone)
    assert ADB_KEYBOARD in out(sh, "ime list -s -a") and ADB_KEYBOARD not in out(sh, "ime list -s")
    assert out(sh, f"ime enable {ADB_KEYBOARD}") == f"Input method {ADB_KEYBOARD}: now enabled for user #0\n"
    assert ADB_KEYBOARD in out(sh, "ime list -s")
    assert sh.run(f"ime set {ADB_KEYBOARD}").rc == 0
    assert out(sh, "settings get secure default_input_method") == ADB_KEYBOARD + "\n"
    sh.run("am start -n com.android.settings/.MiuiMasterClear")
    phone.dispatch(next(n for w in phone.windows() for n in w.walk() if n.rid == "com.android.settings:id/erase_data"))
    text = base64.b64encode("pässwörd".encode()).decode()
    typed = out(sh, f"am broadcast -a ADB_KEYBOARD_INPUT_TEXT --es text {text}")
    assert typed.endswith('Broadcast completed: result=-1, data="success"\n')
    assert phone.top.typed.get("password") == "pässwörd"
    gate_off(phone)  # an IME commits text without input injection: MIUI's gate does not apply
    out(sh, f"am broadcast -a ADB_KEYBOARD_INPUT_TEXT --es text {base64.b64encode(b'!').decode()}")
    assert phone.top.typed.get("password") == "pässwörd!"


def test_keyboard_clipboard_and_uninstall(sh, phone):
    install_keyboard(sh, phone)
    assert out(sh, "am broadcast -a ADB_KEYBOARD_GET_CLIPBOARD").endswith("result=0\n")  # not the current IME
    sh.run(f"ime enable {ADB_KEYBOARD}; ime set {ADB_KEYBOARD}")
    phone.clipboard = "copied text"
    got = out(sh, "am broadcast -a ADB_KEYBOARD_GET_CLIPBOARD")
    assert f'result=-1, data="{base64.b64encode(b"copied text").decode()}"' in got
    assert out(sh, "pm uninstall com.github.uiautomator") == "Success\n"
    assert ADB_KEYBOARD not in out(sh, "ime list -s -a")
    assert out(sh, "settings get secure default_input_method") != ADB_KEYBOARD + "\n"
