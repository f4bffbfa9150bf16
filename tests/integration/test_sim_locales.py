"""A simulated phone's languages and APKs seen the way a tool sees a real phone: through Google's
adb binary, adbutils and uiautomator2 — `pm path`, `dumpsys package`, `ls -l`, `unzip -p`,
`adb pull`, `getprop`/`settings`, and the screen in the phone's locale."""

from __future__ import annotations

import re
import subprocess

import adbutils
import pytest
import uiautomator2 as u2

from miui_automator.cli.main import main
from miui_automator.sim.host import adb_path
from miui_automator.sim.labels import APPS
from shared_strings import shared_locales

pytestmark = pytest.mark.integration
CLI_TIMEOUT = 60


def adb(port: int, serial: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([adb_path(), "-P", str(port), "-s", serial, *args], capture_output=True, timeout=CLI_TIMEOUT)


def androguard_value(data: bytes, package: str, key: str, language: str) -> str:
    from androguard.core.apk import APK
    from loguru import logger

    logger.remove()
    arsc = APK(data, raw=True).get_android_resources()
    rid = arsc.get_res_id_by_key(package, "string", key)
    return next(v for cfg, v in arsc.get_resolved_res_configs(rid) if cfg.get_language() == language)


@pytest.fixture
def german(make_phone):
    return make_phone("hyperos1-en", locale="de-DE", strings=[shared_locales()], media_files=0)


def test_pm_path_list_and_dumpsys_package(adb_port, german):
    serial = german.serial
    package, path = APPS["XiaomiAccount"]
    assert adb(adb_port, serial, "shell", "pm", "path", package).stdout == f"package:{path}\n".encode()
    listed = adb(adb_port, serial, "shell", "pm", "list", "packages", "-f").stdout.decode()
    for pkg, apk in APPS.values():
        assert f"package:{apk}={pkg}\n" in listed
    dump = adb(adb_port, serial, "shell", "dumpsys", "package", package).stdout.decode()
    code = int(re.search(r"versionCode=(\d+)", dump).group(1))
    name = re.search(r"versionName=(\S+)", dump).group(1)
    pulled = german.phone.state.fs.read(path)
    from androguard.core.apk import APK

    apk = APK(pulled, raw=True)
    assert (apk.get_androidversion_code(), apk.get_androidversion_name()) == (str(code), name)
    ls = adb(adb_port, serial, "shell", "ls", "-l", path).stdout.decode()
    assert ls.startswith("-rw-r--r--") and str(len(pulled)) in ls and ls.rstrip().endswith(path)


def test_unzip_streams_the_resource_table(adb_port, german):
    serial = german.serial
    package, path = APPS["XiaomiAccount"]
    listing = adb(adb_port, serial, "shell", "unzip", "-l", path).stdout.decode()
    assert "AndroidManifest.xml" in listing and "resources.arsc" in listing and listing.rstrip().endswith("2 files")
    arsc = adb(adb_port, serial, "exec-out", "unzip", "-p", path, "resources.arsc").stdout
    assert arsc[:2] == b"\x02\x00"  # a ResTable chunk
    from androguard.core.axml import ARSCParser

    parser = ARSCParser(arsc)
    rid = parser.get_res_id_by_key(package, "string", "logout_account")
    values = {cfg.get_language(): v for cfg, v in parser.get_resolved_res_configs(rid)}
    assert values["de"] == "Abmelden"
    missing = adb(adb_port, serial, "shell", "unzip", "-p", path, "classes.dex")
    assert missing.returncode != 0 and b"couldn't find classes.dex" in missing.stderr + missing.stdout


def test_adb_pull_gives_the_same_apk(adb_port, german, tmp_path):
    _, path = APPS["Settings"]
    out = tmp_path / "Settings.apk"
    assert adb(adb_port, german.serial, "pull", path, str(out)).returncode == 0
    assert out.read_bytes() == german.phone.state.fs.read(path)
    assert androguard_value(out.read_bytes(), "com.android.settings", "usb_adb_input", "de") == \
        "USB-Debugging (Sicherheitseinstellungen)"


def test_locale_properties_and_screen_agree(adb_port, german):
    device = adbutils.AdbClient(port=adb_port).device(german.serial)
    assert device.shell("getprop persist.sys.locale").strip() == "de-DE"
    assert device.shell("settings get system system_locales").strip() == "de-DE"
    d = u2.connect(device)
    device.shell("am start -a android.settings.XIAOMI_ACCOUNT_SYNC_SETTINGS")
    assert d(text="Abmelden").wait(timeout=10)


def test_sim_start_rejects_a_bad_locale_and_a_bad_strings_folder(tmp_path, capsys):
    assert main(["sim", "start", "--locale", "not a locale", "--port", "0"]) == 2
    assert "locale" in capsys.readouterr().err
    bad = tmp_path / "XiaomiAccount.apk" / "res" / "values-xx"
    bad.mkdir(parents=True)
    (bad / "strings.xml").write_text("<resources><string name='a'>x</strin></resources>")
    assert main(["sim", "start", "--strings", str(tmp_path), "--port", "0"]) == 2
    assert f"{bad / 'strings.xml'}:1" in capsys.readouterr().err
