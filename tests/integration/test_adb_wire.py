"""The simulated adbd against the real adb 36 server, the adb CLI and adbutils, over real sockets."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import subprocess
from concurrent.futures import ThreadPoolExecutor

import adbutils
import pytest
from PIL import Image

from miui_automator.sim.host import adb_connect, adb_path, device_state, wait_for_state
from miui_automator.sim.phone import Phone

pytestmark = pytest.mark.integration

CLI_TIMEOUT = 60
BIG = 20 * 1024 * 1024


def adb(port: int, *args: str, serial: str | None = None, input: bytes | None = None) -> subprocess.CompletedProcess:
    cmd = [adb_path(), "-P", str(port)] + (["-s", serial] if serial else []) + list(args)
    return subprocess.run(cmd, capture_output=True, input=input, timeout=CLI_TIMEOUT)


def client(port: int) -> adbutils.AdbClient:
    return adbutils.AdbClient(port=port)


@pytest.fixture(scope="module")
def big_file(tmp_path_factory) -> tuple[str, bytes]:
    data = os.urandom(BIG)
    path = tmp_path_factory.mktemp("big") / "random.bin"
    path.write_bytes(data)
    return str(path), data


# ---------------------------------------------------------------------------- adb CLI
def test_devices_lists_the_phone_with_its_model(adb_port, sim_host):
    phone = Phone("miui14-en", seed=11)
    phone.state.props["ro.product.model"] = "Redmi Note 11-Pro+"
    device = sim_host.add_phone(phone)
    try:
        adb_connect(device.serial, adb_port)
        out = adb(adb_port, "devices", "-l").stdout.decode()
        line = next(line for line in out.splitlines() if line.startswith(device.serial))
        assert line.split()[1] == "device"
        assert "model:Redmi_Note_11_Pro_" in line and f"product:{phone.state.props['ro.product.name']}" in line
    finally:
        client(adb_port).disconnect(device.serial)
        sim_host.remove_phone(device)


def test_adb_shell_output_and_exit_codes(adb_port, make_phone):
    device = make_phone("miui12.5-en")
    run = adb(adb_port, "shell", "getprop", "ro.product.model", serial=device.serial)
    assert (run.returncode, run.stdout) == (0, b"M2007J20CG\n")
    assert adb(adb_port, "shell", "true", serial=device.serial).returncode == 0
    assert adb(adb_port, "shell", "false", serial=device.serial).returncode == 1
    missing = adb(adb_port, "shell", "no-such-command", serial=device.serial)
    assert missing.returncode == 127 and b"no-such-command" in missing.stderr and missing.stdout == b""


def test_adb_push_pull_20mb_round_trip_and_ls(adb_port, make_phone, big_file, tmp_path):
    device = make_phone()
    src, data = big_file
    pushed = adb(adb_port, "push", src, "/sdcard/Download/new/random.bin", serial=device.serial)
    assert pushed.returncode == 0, pushed.stderr
    pulled = tmp_path / "back.bin"
    run = adb(adb_port, "pull", "/sdcard/Download/new/random.bin", str(pulled), serial=device.serial)
    assert run.returncode == 0, run.stderr
    assert hashlib.sha256(pulled.read_bytes()).digest() == hashlib.sha256(data).digest()
    listing = adb(adb_port, "ls", "/sdcard/Download/new", serial=device.serial).stdout.decode().splitlines()
    mode, size, _mtime, name = listing[-1].split(maxsplit=3)
    assert name == "random.bin" and int(size, 16) == BIG and stat.S_ISREG(int(mode, 16))
    assert [line.split()[-1] for line in listing[:2]] == [".", ".."]


def test_adb_pull_of_a_missing_file_fails(adb_port, make_phone, tmp_path):
    device = make_phone()
    run = adb(adb_port, "pull", "/sdcard/nope.bin", str(tmp_path / "x"), serial=device.serial)
    assert run.returncode == 1 and b"No such file or directory" in run.stderr


# ---------------------------------------------------------------------------- adbutils
def test_adbutils_device_list_shell_and_shell2(adb_port, adb_device):
    assert adb_device.serial in [d.serial for d in client(adb_port).device_list()]
    assert adb_device.shell("getprop ro.product.model") == "23078PND5G"
    assert adb_device.shell2("false").returncode == 1
    v1 = adb_device.shell2("echo hi; true")
    assert (v1.returncode, v1.output) == (0, "hi\n")
    v2 = adb_device.shell2("no-such-command", v2=True)
    assert v2.returncode == 127 and "no-such-command" in v2.stderr
    assert adb_device.shell2("echo hi", v2=True).stdout == "hi\n"


def test_adbutils_sync_push_pull_stat_list_read(adb_port, adb_device, big_file, tmp_path):
    src, data = big_file
    assert adb_device.sync.push(src, "/data/local/tmp/r.bin", check=True) == BIG
    info = adb_device.sync.stat("/data/local/tmp/r.bin")
    assert info.size == BIG and stat.S_ISREG(info.mode)
    assert not adb_device.sync.exists("/data/local/tmp/missing")
    assert "r.bin" in [f.path for f in adb_device.sync.list("/data/local/tmp")]
    out = tmp_path / "r.bin"
    assert adb_device.sync.pull("/data/local/tmp/r.bin", str(out)) == BIG
    assert out.read_bytes() == data
    adb_device.sync.push(b"small text", "/sdcard/note.txt")
    assert adb_device.sync.read_bytes("/sdcard/note.txt") == b"small text"
    with pytest.raises(adbutils.AdbError, match="No such file"):
        adb_device.sync.read_bytes("/sdcard/missing.txt")


def test_refused_service_gives_adberror_closed(adb_device):
    with pytest.raises(adbutils.AdbError, match="closed"):
        adb_device.create_connection(adbutils.Network.TCP, 5555)
    with pytest.raises(adbutils.AdbError, match="closed"):
        adb_device.create_connection(adbutils.Network.TCP, 9008)  # no uiautomator2 server running yet


def test_eight_phones_answer_200_concurrent_shells(adb_port, make_phone, sim_host):
    devices = [make_phone(seed=100 + i) for i in range(8)]
    serialno = {d.serial: sim_host.call(lambda d=d: d.phone.state.props["ro.serialno"]) for d in devices}
    assert len(set(serialno.values())) == 8
    adb_client = client(adb_port)

    def ask(i: int) -> tuple[str, str, str]:
        serial = devices[i % 8].serial
        token = f"tok{i}"
        out = adb_client.device(serial).shell(f"getprop ro.serialno; echo {token}")
        return serial, token, out

    with ThreadPoolExecutor(max_workers=24) as pool:
        answers = list(pool.map(ask, range(200)))
    for serial, token, out in answers:
        assert out.split() == [serialno[serial], token]


# ---------------------------------------------------------------------------- connection life
def test_restarted_adbd_is_reattached_without_a_new_connect(adb_port, make_phone):
    device = make_phone()
    device.stop()
    wait_for_state(device.serial, adb_port, "offline", timeout=10)
    device.start()
    wait_for_state(device.serial, adb_port, "device", timeout=15)
    assert client(adb_port).device(device.serial).shell("echo back") == "back"


def test_unplug_and_replug_events_drop_and_restore_the_phone(adb_port, make_phone, sim_host):
    device = make_phone()
    sim_host.call(device.phone.unplug)
    wait_for_state(device.serial, adb_port, "offline", timeout=10)
    assert not device.listening
    sim_host.call(device.phone.replug)
    wait_for_state(device.serial, adb_port, "device", timeout=15)


def test_auth_mode_shows_unauthorized_until_authorized(adb_port, sim_host):
    device = sim_host.add_phone(Phone(seed=7), require_auth=True)
    try:
        message = adb_connect(device.serial, adb_port, state="unauthorized")
        assert "failed to authenticate" in message
        listing = adb(adb_port, "devices").stdout.decode()
        assert f"{device.serial}\tunauthorized" in listing
        with pytest.raises(adbutils.AdbError):
            client(adb_port).device(device.serial).shell("echo hi")
        device.authorize()
        wait_for_state(device.serial, adb_port, "device", timeout=10)
        assert client(adb_port).device(device.serial).shell("echo hi") == "hi"
    finally:
        client(adb_port).disconnect(device.serial)
        sim_host.remove_phone(device)
    assert device_state(device.serial, adb_port) is None


# ---------------------------------------------------------------------------- needs the full shell (sim/shell.py)
def test_adbutils_window_size(adb_device):
    assert tuple(adb_device.window_size()) == (1080, 2400)


def test_adbutils_app_current_is_the_home_screen(adb_device):
    current = adb_device.app_current()
    assert current.package == "com.miui.home"


def test_adbutils_screenshot_is_a_real_frame(adb_device):
    png = adb_device.shell("screencap -p", encoding=None)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(png))
    assert image.size == (1080, 2400)
    assert image.convert("L").getextrema()[1] > 0  # not an all-black frame
