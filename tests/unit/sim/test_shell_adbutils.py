"""adbutils' own output parsers (ShellExtension, ScreenshotExtesion) fed by the simulated shell.

No sockets: a minimal device object hands adbutils' command lines to :class:`Shell` exactly as
``AdbDevice.shell`` would send them (lists joined with ``shlex.quote``, v1 output = both
streams in order), so these tests prove the real parsers accept what the phone prints.
"""

import hashlib
import shlex

import pytest
from adbutils.screenshot import ScreenshotExtesion
from adbutils.shell import ShellExtension

from miui_automator.sim.phone import Phone
from miui_automator.sim.shell import Shell


class SimDevice(ShellExtension, ScreenshotExtesion):
    def __init__(self, phone: Phone) -> None:
        self.phone = phone
        self._shell = Shell(phone)

    def shell(self, cmdargs, stream=False, timeout=None, encoding="utf-8", rstrip=True):
        cmdline = cmdargs if isinstance(cmdargs, str) else " ".join(map(shlex.quote, map(str, cmdargs)))
        output = self._shell.run(cmdline).combined
        if encoding is None:
            return output
        text = output.decode(encoding, "replace")
        return text.rstrip() if rstrip else text

    def shell_v1_x4exit(self, cmd: str) -> tuple[str, int]:
        """adbutils ``_shell_v1``: append the marker and split on its last occurrence."""
        output = self.shell(cmd + "; echo X4EXIT:$?", encoding=None, rstrip=False)
        at = output.rfind(b"X4EXIT:")
        return output[:at].decode(), int(output[at + len(b"X4EXIT:"):])

    @property
    def sync(self):
        raise NotImplementedError("sync is the transport's business")

    def framebuffer(self):
        raise NotImplementedError


@pytest.fixture
def device():
    return SimDevice(Phone(media_files=0))


def test_window_size_and_rotation(device):
    assert tuple(device.window_size()) == (1080, 2400)
    assert device.rotation() == 0


def test_app_current_follows_the_screen_with_the_apps_real_pid(device):
    assert device.app_current().package == "com.miui.home"
    device.phone.start_activity(action="android.settings.XIAOMI_ACCOUNT_SYNC_SETTINGS")
    current = device.app_current()
    assert (current.package, current.activity) == ("com.xiaomi.account", ".ui.AccountSettingsActivity")
    ps = device.shell("ps -A").splitlines()
    assert any(line.split()[1] == str(current.pid) and line.split()[-1] == "com.xiaomi.account" for line in ps)


def test_app_current_on_keyguard_falls_back_to_activity_dumps(device):
    device.phone.start_activity(component="com.android.settings/.MainSettings")
    device.phone.state.locked = True
    current = device.app_current()
    assert current.package == "com.android.settings" and current.pid > 0


def test_getprop_battery_and_screen(device):
    assert device.getprop("ro.product.brand") == "Xiaomi"
    battery = device.battery()
    assert battery.level == device.phone.state.battery and battery.usb_powered is True
    assert device.is_screen_on() is True
    device.phone.sleep()
    assert device.is_screen_on() is False


def test_packages_and_app_info(device):
    assert "com.whatsapp" in device.list_packages()
    info = device.app_info("com.whatsapp")
    assert info.version_name == "2.24.10.74" and info.first_install_time is not None
    assert info.path.endswith("/base.apk")
    assert device.app_info("com.example.nothing") is None


def test_app_start_with_and_without_activity(device):
    device.app_start("com.android.settings", ".MainSettings")
    assert device.app_current().package == "com.android.settings"
    device.app_stop("com.android.settings")
    device.app_start("com.miui.backup")  # monkey path
    assert device.app_current().package == "com.miui.backup"


def test_keyevent_and_click_reach_the_phone(device):
    before = device.phone.input_events
    device.keyevent("HOME")
    device.click(540, 1200)
    device.swipe(540, 1800, 540, 600, 0.2)
    assert device.phone.input_events == before + 3


def test_screenshot_via_surfaceflinger_display_id(device):
    image = device.screenshot(display_id=0, error_ok=False)
    assert image.size == (1080, 2400) and image.mode == "RGB"


def test_x4exit_round_trip(device):
    assert device.shell_v1_x4exit("getprop ro.product.model") == (device.phone.state.props["ro.product.model"] + "\n", 0)
    output, code = device.shell_v1_x4exit("nosuchcommand")
    assert code == 127 and "inaccessible or not found" in output
    output, code = device.shell_v1_x4exit("ls /nope")
    assert code == 1 and output == "ls: /nope: No such file or directory\n"


def test_uiautomator2_md5_check_sees_pushed_jar(device):
    jar = b"PK\x03\x04 pretend u2.jar"
    device.phone.state.fs.write("/data/local/tmp/u2.jar", jar, mode=0o100755)
    output = device.shell(["toybox", "md5sum", "/data/local/tmp/u2.jar"])
    assert not ("toybox" in output and "not found" in output)
    assert hashlib.md5(jar).hexdigest() in output
