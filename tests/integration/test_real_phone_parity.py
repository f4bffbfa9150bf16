"""Device-facing behaviour the real clients see on a real phone, against the simulated one.

Driven through Google's adb (the binary in the adbutils wheel), adbutils and uiautomator2:
processes and kill, commands that take time (gestures, sleeps a client times out on),
app_current's pid, logcat streaming, settings, WLAN address, framebuffer, reverse forwarding,
and installing uiautomator2's input method (refused while "Install via USB" is off).
"""

from __future__ import annotations

import base64
import io
import socket
import subprocess
import threading
import time
from importlib import resources

import adbutils
import pytest
from PIL import Image

from miui_automator.sim.host import adb_path

pytestmark = pytest.mark.integration

CLI_TIMEOUT = 60
GESTURE_S = 0.3
KEYBOARD_APK = (resources.files("uiautomator2") / "assets" / "app-uiautomator.apk").read_bytes()


def adb(port: int, serial: str, *args: str, timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess:
    return subprocess.run([adb_path(), "-P", str(port), "-s", serial, *args], capture_output=True, timeout=timeout)


@pytest.fixture
def u2_phone(connect):
    """(uiautomator2 device, SimDevice, read) for a hyperos1-en phone with the u2 server running."""

    def make(**kwargs):
        d, sim, read = connect(**kwargs)
        d.info  # launches the server
        return d, sim, read

    return make


# ---------------------------------------------------------------------------- processes
def test_ps_shows_the_u2_server_as_shell_and_kill_ends_it(u2_phone, adb_port, wait_until):
    d, sim, read = u2_phone()
    for command in ("ps -A", "ps -u shell"):
        out = adb(adb_port, sim.serial, "shell", command).stdout.decode().splitlines()
        servers = [line.split() for line in out if line.split()[-1:] == ["app_process"]]
        assert servers and servers[0][0] == "shell", command
    pid = servers[0][1]
    killed = adb(adb_port, sim.serial, "shell", "kill", pid)
    assert killed.returncode == 0, killed.stderr
    wait_until(lambda: not read(lambda p: p.u2_running), timeout=5, message="u2 server ended")
    assert "app_process" not in adb(adb_port, sim.serial, "shell", "ps -A").stdout.decode()


def test_app_current_reports_the_foreground_apps_pid(u2_phone, adb_port, wait_until):
    d, sim, _ = u2_phone()
    d.app_start("com.android.settings")
    wait_until(lambda: d.app_current()["package"] == "com.android.settings", timeout=10, message="Settings in front")
    pid = d.app_current()["pid"]
    assert pid > 0
    assert adb(adb_port, sim.serial, "shell", "pidof com.android.settings").stdout.split() == [str(pid).encode()]


# ---------------------------------------------------------------------------- time
def test_shell_swipe_takes_its_duration(adb_port, make_phone):
    sim = make_phone()
    started = time.monotonic()
    run = adb(adb_port, sim.serial, "shell", "input", "swipe", "540", "1800", "540", "600", str(int(GESTURE_S * 1000)))
    assert run.returncode == 0 and time.monotonic() - started >= GESTURE_S


def test_u2_swipe_and_drag_take_their_duration(u2_phone):
    d, _, _ = u2_phone()
    for gesture in (d.swipe, d.drag):
        started = time.monotonic()
        gesture(540, 1800, 540, 600, GESTURE_S)
        assert time.monotonic() - started >= GESTURE_S, gesture.__name__


def test_a_command_past_the_clients_timeout_is_killed_and_the_client_times_out(adb_device):
    started = time.monotonic()
    with pytest.raises(adbutils.AdbTimeout):
        adb_device.shell("sleep 30", timeout=1)
    assert time.monotonic() - started < 10
    assert adb_device.shell("echo alive", timeout=5) == "alive"  # the phone is not stuck behind it


# ---------------------------------------------------------------------------- logcat
def test_logcat_keeps_streaming_while_open_and_dump_ends(adb_device, wait_until):
    dump = adb_device.shell("logcat -d", timeout=10)
    assert dump.startswith("--------- beginning of main")
    stream = adb_device.shell("logcat -v time", stream=True)
    try:
        reader = stream.conn.makefile("r", encoding="utf-8")
        lines = [reader.readline() for _ in range(6)]  # the buffer, then lines that keep coming
        assert all(line.endswith("\n") for line in lines) and lines[0].startswith("--------- beginning of")
        assert all("): " in line for line in lines[1:])
    finally:
        stream.close()


# ---------------------------------------------------------------------------- settings, network
def test_brightness_settings_are_integers(adb_device):
    assert adb_device.brightness_value == 128
    assert adb_device.brightness_mode in (adbutils.BrightnessMode.AUTO, adbutils.BrightnessMode.MANUAL)


def test_wlan_address_answers_like_a_phone(adb_device):
    ip = adb_device.wlan_ip()
    assert ip.count(".") == 3 and not ip.startswith("127.")
    assert f"inet {ip}/" in adb_device.shell("ip addr show wlan0")
    assert f"src {ip}" in adb_device.shell("ip route")


# ---------------------------------------------------------------------------- framebuffer
def test_framebuffer_is_the_screen(adb_device):
    frame = adb_device.framebuffer()
    png = Image.open(io.BytesIO(adb_device.shell("screencap -p", encoding=None))).convert("RGBA")
    assert frame.size == (1080, 2400) and frame.mode == "RGBA"
    assert frame.tobytes() == png.tobytes()


# ---------------------------------------------------------------------------- reverse
@pytest.fixture
def echo_server():
    """A host TCP server that answers one line with it upper-cased, then closes."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(20)

    def serve() -> None:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        with conn:
            data = b""
            while not data.endswith(b"\n"):
                chunk = conn.recv(1024)
                if not chunk:
                    break
                data += chunk
            conn.sendall(data.upper())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    server.close()
    thread.join(5)


def test_adbutils_reverse_carries_a_phone_connection_to_the_host(adb_device, echo_server):
    adb_device.reverse("tcp:6100", f"tcp:{echo_server}")
    assert [(r.remote, r.local) for r in adb_device.reverse_list()] == [("tcp:6100", f"tcp:{echo_server}")]
    assert adb_device.shell("echo hello phone | nc localhost 6100", timeout=20) == "HELLO PHONE"
    adb_device.reverse_remove("tcp:6100")
    assert adb_device.reverse_list() == []
    assert "Connection refused" in adb_device.shell("nc localhost 6100 </dev/null", timeout=10)


def test_adb_cli_reverse_list_and_remove(adb_port, make_phone):
    sim = make_phone()
    assert adb(adb_port, sim.serial, "reverse", "tcp:6200", "tcp:6201").returncode == 0
    bound = adb(adb_port, sim.serial, "reverse", "tcp:0", "tcp:6202")
    assert bound.returncode == 0 and int(bound.stdout) > 0
    listing = adb(adb_port, sim.serial, "reverse", "--list").stdout.decode().split("\n")[:-2]  # adb adds a newline
    assert [line.split()[1:] for line in listing] == [["tcp:6200", "tcp:6201"], [f"tcp:{int(bound.stdout)}", "tcp:6202"]]
    again = adb(adb_port, sim.serial, "reverse", "--no-rebind", "tcp:6200", "tcp:6203")
    assert again.returncode == 1 and b"cannot rebind" in again.stderr
    assert adb(adb_port, sim.serial, "reverse", "--remove-all").returncode == 0
    assert adb(adb_port, sim.serial, "reverse", "--list").stdout.strip() == b""


# ---------------------------------------------------------------------------- input method
ADB_KEYBOARD = "com.github.uiautomator/.AdbKeyboard"


def focus_password_field(d) -> None:
    assert d.shell("am start -n com.android.settings/.MiuiMasterClear").exit_code == 0
    d(resourceId="com.android.settings:id/erase_data").click()
    assert d(resourceId="android:id/input", focused=True).wait(timeout=5)


def test_u2_installs_its_keyboard_which_types_and_reads_the_clipboard(u2_phone, adb_port):
    d, sim, read = u2_phone()
    assert ADB_KEYBOARD not in adb(adb_port, sim.serial, "shell", "ime list -s -a").stdout.decode()
    d.set_input_ime(True)  # adbutils install of uiautomator2's APK, ime enable, ime set
    assert ADB_KEYBOARD in adb(adb_port, sim.serial, "shell", "ime list -s").stdout.decode().split()
    assert d.current_ime() == ADB_KEYBOARD
    focus_password_field(d)
    text = base64.b64encode("héllo wörld".encode()).decode()
    typed = adb(adb_port, sim.serial, "shell", "am", "broadcast", "-a", "ADB_KEYBOARD_INPUT_TEXT", "--es", "text", text)
    assert b'result=-1, data="success"' in typed.stdout
    assert read(lambda p: p.top.typed.get("password")) == "héllo wörld"
    d.send_action("done")  # the keyboard's editor action answers RESULT_OK
    d.clipboard = "from the clipboard"
    clip = d._broadcast("ADB_KEYBOARD_GET_CLIPBOARD")
    assert clip.code == -1 and base64.b64decode(clip.data).decode() == "from the clipboard"


def test_install_is_refused_without_install_via_usb(make_phone, adb_port, sim_host, tmp_path):
    sim = make_phone()
    sim_host.call(lambda: setattr(sim.phone.state, "usb_install", False))
    apk = tmp_path / "keyboard.apk"
    apk.write_bytes(KEYBOARD_APK)
    run = adb(adb_port, sim.serial, "install", str(apk))
    assert run.returncode == 1 and b"INSTALL_FAILED_USER_RESTRICTED" in run.stdout + run.stderr
    with pytest.raises(adbutils.AdbInstallError, match="INSTALL_FAILED_USER_RESTRICTED"):
        adbutils.AdbClient(port=adb_port).device(sim.serial).install(str(apk), nolaunch=True, silent=True)
    sim_host.call(lambda: setattr(sim.phone.state, "usb_install", True))
    assert adb(adb_port, sim.serial, "install", str(apk)).returncode == 0
    assert adb(adb_port, sim.serial, "shell", "pm path com.github.uiautomator").stdout.startswith(b"package:/data/app/")


# ---------------------------------------------------------------------------- screenrecord
def decoded_duration(data: bytes) -> tuple[str, tuple[int, int], float]:
    import av

    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        times = [frame.time for frame in container.decode(video=0)]
        return stream.codec_context.name, (stream.width, stream.height), times[-1]


def test_screenrecord_time_limit_gives_a_playable_mp4(adb_port, make_phone, tmp_path):
    sim = make_phone()
    started = time.monotonic()
    run = adb(adb_port, sim.serial, "shell", "screenrecord", "--time-limit", "1", "/sdcard/Movies/rec.mp4")
    assert run.returncode == 0, run.stderr
    assert time.monotonic() - started >= 1.0
    assert adb(adb_port, sim.serial, "pull", "/sdcard/Movies/rec.mp4", str(tmp_path / "rec.mp4")).returncode == 0
    codec, size, last = decoded_duration((tmp_path / "rec.mp4").read_bytes())
    assert codec == "h264" and size == (1080, 2400) and last == pytest.approx(1.0, abs=0.1)


def test_screenrecord_stopped_by_the_host_still_finishes_the_file(adb_device, wait_until):
    stream = adb_device.shell("screenrecord --size 540x1200 /sdcard/Movies/stopped.mp4", stream=True)
    started = time.monotonic()
    wait_until(lambda: time.monotonic() - started >= 0.5, timeout=5, message="half a second of recording")
    stream.close()  # like Ctrl-C on `adb shell screenrecord`: the phone finishes the MP4
    wait_until(lambda: adb_device.sync.exists("/sdcard/Movies/stopped.mp4"), timeout=20, message="MP4 written")
    codec, size, last = decoded_duration(adb_device.sync.read_bytes("/sdcard/Movies/stopped.mp4"))
    assert codec == "h264" and size == (540, 1200) and 0.4 <= last < 5
