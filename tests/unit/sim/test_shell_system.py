"""Properties, settings, window manager and dumpsys, in the formats real tools parse."""

import re


from miui_automator.sim.phone import Phone
from miui_automator.sim.shell import Shell

FOCUS_RE = re.compile(r"mCurrentFocus=Window{.*\s+(?P<package>[^\s]+)/(?P<activity>[^\s]+)\}")  # adbutils app_current
RESUMED_RE = re.compile(r"mResumedActivity: ActivityRecord\{.*?\s+(?P<package>[^\s]+)/(?P<activity>[^\s]+)\s.*?\}")
TOP_RE = re.compile(r"ACTIVITY (?P<package>[^\s]+)/(?P<activity>[^/\s]+) \w+ pid=(?P<pid>\d+)")
VIEWPORT_RE = re.compile(r".*DisplayViewport{.*?valid=true, .*?orientation=(?P<orientation>\d+), "
                         r".*?deviceWidth=(?P<width>\d+), deviceHeight=(?P<height>\d+).*")


def out(sh, cmd: str) -> str:
    return sh.run(cmd).stdout.decode()


def gate_off(phone) -> None:
    phone.state.props["persist.security.adbinput"] = "0"


# ----------------------------------------------------------------------------- getprop / setprop
def test_getprop_single_missing_and_default(sh, phone):
    assert out(sh, "getprop ro.product.model") == phone.state.props["ro.product.model"] + "\n"
    assert out(sh, "getprop no.such.prop") == "\n"
    assert out(sh, "getprop no.such.prop fallback") == "fallback\n"


def test_getprop_all_is_bracketed_and_sorted(sh, phone):
    lines = out(sh, "getprop").splitlines()
    assert len(lines) == len(phone.state.props)
    assert all(re.fullmatch(r"\[[^\]]+\]: \[.*\]", line) for line in lines)
    assert lines == sorted(lines)
    assert "[ro.mi.os.version.name]: [OS1.0]" in lines


def test_setprop_refuses_persist_and_ro_but_sets_debug(sh, phone):
    result = sh.run("setprop persist.security.adbinput 1")
    assert result.rc == 1
    assert result.stderr.startswith(b"Failed to set property 'persist.security.adbinput' to '1'.")
    gate_off(phone)
    sh.run("setprop persist.security.adbinput 1")
    assert phone.state.props["persist.security.adbinput"] == "0"
    assert sh.run("setprop debug.sim.flag on").rc == 0
    assert out(sh, "getprop debug.sim.flag") == "on\n"


# ----------------------------------------------------------------------------- settings
def test_settings_get_put_list(sh, phone):
    assert out(sh, "settings get secure enable_miui_security_ime") == "1\n"
    assert out(sh, "settings get global no_such_key") == "null\n"
    assert sh.run("settings put secure enable_miui_security_ime 0").rc == 0
    assert phone.state.settings["secure"]["enable_miui_security_ime"] == "0"
    assert "adb_enabled=1" in out(sh, "settings list global").splitlines()


def test_settings_put_needs_the_security_settings_gate(sh, phone):
    gate_off(phone)
    result = sh.run("settings put secure enable_miui_security_ime 0")
    assert result.rc == 255
    err = result.stderr.decode()
    assert err.startswith("Exception occurred while executing 'put':\n")
    assert "java.lang.SecurityException: Permission denial" in err
    assert "WRITE_SECURE_SETTINGS" in err
    assert phone.state.settings["secure"]["enable_miui_security_ime"] == "1"
    assert "WRITE_SETTINGS" in sh.run("settings put system screen_brightness 10").stderr.decode()
    assert out(sh, "settings get secure enable_miui_security_ime") == "1\n"  # reads still work


def test_settings_bad_namespace(sh):
    assert sh.run("settings get nowhere x").rc == 255


# ----------------------------------------------------------------------------- wm
def test_wm_size_and_density(sh):
    size = out(sh, "wm size")
    assert re.search(r"Physical size: (\d+)x(\d+)", size).groups() == ("1080", "2400")
    assert "Override" not in size
    assert out(sh, "wm density") == "Physical density: 440\n"


def test_wm_size_override_and_reset(sh):
    assert sh.run("wm size 1080x6000").rc == 0
    assert re.search(r"Override size: (\d+)x(\d+)", out(sh, "wm size")).groups() == ("1080", "6000")
    sh.run("wm size reset")
    assert "Override" not in out(sh, "wm size")


def test_wm_size_override_refused_without_gate(sh, phone):
    gate_off(phone)
    result = sh.run("wm size 1080x6000")
    assert result.rc == 255
    assert b"java.lang.SecurityException" in result.stderr
    assert "Override" not in out(sh, "wm size")


# ----------------------------------------------------------------------------- dumpsys window / activity
def test_dumpsys_window_focus_matches_adbutils_regex(sh, phone):
    text = out(sh, "dumpsys window")
    m = FOCUS_RE.search(text)
    assert m and (m.group("package"), m.group("activity")) == phone.focus()
    assert re.search(r"mFocusedApp=ActivityRecord\{\w+ u0 com\.miui\.home/\.launcher\.Launcher t\d+\}", text)
    assert FOCUS_RE.search(out(sh, "dumpsys window displays"))


def test_dumpsys_window_windows_has_no_focus_line_as_on_android_10_and_later(sh):
    text = out(sh, "dumpsys window windows")
    assert "Window #0" in text and "mCurrentFocus" not in text and "WINDOW MANAGER POLICY" not in text


def test_dumpsys_window_follows_the_screen_stack(sh, phone):
    phone.start_activity(action="android.settings.XIAOMI_ACCOUNT_SYNC_SETTINGS")
    m = FOCUS_RE.search(out(sh, "dumpsys window"))
    assert (m.group("package"), m.group("activity")) == ("com.xiaomi.account",
                                                         "com.xiaomi.account.ui.AccountSettingsActivity")


def test_dumpsys_window_keyguard_flags_follow_lock_state(sh, phone):
    unlocked = out(sh, "dumpsys window")
    for flag in ("mDreamingLockscreen", "isStatusBarKeyguard", "mShowingLockscreen"):
        assert f"{flag}=false" in unlocked
    phone.state.locked = True
    locked = out(sh, "dumpsys window")
    for flag in ("mDreamingLockscreen", "isStatusBarKeyguard", "mShowingLockscreen"):
        assert f"{flag}=true" in locked
    assert "mCurrentFocus=Window{" in locked and "NotificationShade}" in locked
    assert FOCUS_RE.search(locked) is None  # the keyguard has no package/activity, as on a real phone


def test_dumpsys_activity_activities_and_top(sh, phone):
    phone.start_activity(component="com.android.settings/.MainSettings")
    m = RESUMED_RE.search(out(sh, "dumpsys activity activities"))
    assert (m.group("package"), m.group("activity")) == ("com.android.settings", ".MainSettings")
    top = TOP_RE.search(out(sh, "dumpsys activity top"))
    assert (top.group("package"), top.group("activity")) == ("com.android.settings", ".MainSettings")
    pid = top.group("pid")
    ps_line = [line for line in out(sh, "ps -A").splitlines() if line.endswith(" com.android.settings")]
    assert ps_line and ps_line[0].split()[1] == pid


# ----------------------------------------------------------------------------- display / SurfaceFlinger
def test_dumpsys_display_first_orientation_is_zero(sh):
    text = out(sh, "dumpsys display")
    first = next(m for line in text.splitlines() if (m := re.search(r".*?orientation=(\d+)", line)))
    assert first.group(1) == "0"
    viewport = next(m for line in text.splitlines() if (m := VIEWPORT_RE.match(line)))
    assert (viewport.group("width"), viewport.group("height")) == ("1080", "2400")


def test_surfaceflinger_display_ids(sh):
    text = out(sh, "dumpsys SurfaceFlinger --display-id")
    assert re.findall(r"Display (\d+) ", text) == ["4619827259835644672"]
    assert "(HWC display 0): port=0 pnpId=" in text


# ----------------------------------------------------------------------------- account / battery / power
def test_dumpsys_account_lists_xiaomi_until_signed_out(sh, phone):
    text = out(sh, "dumpsys account")
    assert text.startswith("User UserInfo{0:Owner:c13}:\n")
    assert f"  Accounts: {len(phone.state.accounts)}\n" in text
    assert f"    Account {{name={phone.state.account_id}, type=com.xiaomi}}\n" in text
    phone.state.sign_out()
    after = out(sh, "dumpsys account")
    assert not re.search(r"Account \{name=[^,]+, type=com\.xiaomi\}", after)
    assert "type=com.google}" in after


def test_dumpsys_battery(sh, phone):
    text = out(sh, "dumpsys battery")
    assert text.startswith("Current Battery Service state:\n")
    kv = dict(line.strip().split(": ", 1) for line in text.splitlines()[1:])
    assert kv["level"] == str(phone.state.battery)
    assert kv["status"] == "2" and kv["USB powered"] == "true"
    low = Shell(Phone(media_files=0, faults="battery=4")).run("dumpsys battery").stdout.decode()
    assert "  level: 4\n" in low and "  status: 3\n" in low and "  USB powered: false\n" in low


def test_dumpsys_power_reflects_screen(sh, phone):
    awake = out(sh, "dumpsys power")
    assert "mWakefulness=Awake" in awake and "mHoldingDisplaySuspendBlocker=true" in awake
    phone.sleep()
    asleep = out(sh, "dumpsys power")
    assert "mWakefulness=Asleep" in asleep and "mHoldingDisplaySuspendBlocker=false" in asleep


def test_dumpsys_package_fields_adbutils_reads(sh):
    text = out(sh, "dumpsys package com.whatsapp")
    assert re.search(r"versionName=(?P<name>[^\s]+)", text).group("name") == "2.24.10.74"
    assert re.search(r"versionCode=(\d+)", text)
    assert re.search(r"PackageSignatures\{.*?\[(.*)\]\}", text)
    assert re.search(r"firstInstallTime=[-\d]+\s+[:\d]+", text)
    assert re.search(r"lastUpdateTime=[-\d]+\s+[:\d]+", text)
    assert re.search(r"targetSdk=(\d+)", text)
    assert not re.findall(r"permission\.\w+: granted=false", text)  # nothing for uiautomator2 to `pm grant`


def test_dumpsys_input_method_and_unknown_service(sh):
    assert "mCurMethodId=com.android.inputmethod.latin/.LatinIME" in out(sh, "dumpsys input_method")
    result = sh.run("dumpsys nosuchservice")
    assert result.stderr == b"Can't find service: nosuchservice\n" and result.rc == 0


def test_cmd_dispatches_to_services(sh):
    assert out(sh, "cmd package list packages com.whatsapp") == "package:com.whatsapp\n"
    assert sh.run("cmd statusbar expand-notifications").rc == 0
    assert sh.run("cmd nosuch").rc == 20


def test_svc_power_stayon_is_gated(sh, phone):
    assert sh.run("svc power stayon true").rc == 0
    assert phone.state.settings["global"]["stay_on_while_plugged_in"] == "7"
    gate_off(phone)
    assert sh.run("svc power stayon false").rc == 255
    assert phone.state.settings["global"]["stay_on_while_plugged_in"] == "7"


def test_settings_delete(sh, phone):
    sh.run("settings put global sim_key 1")
    assert out(sh, "settings delete global sim_key") == "Deleted 1 rows\n"
    assert out(sh, "settings get global sim_key") == "null\n"
