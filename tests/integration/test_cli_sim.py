"""`miui-automator sim …` as a user runs it: start/stop, and one-line errors with exit 2."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import adbutils
import pytest

from miui_automator.cli.main import main
from miui_automator import run
from miui_automator.device.android import AndroidDevice
from miui_automator.sim.faults import parse_faults
from miui_automator.sim.host import device_state, free_port

pytestmark = pytest.mark.integration


def test_variants_lists_all_four(capsys):
    assert main(["sim", "variants"]) == 0
    out = capsys.readouterr().out
    for name in ("miui12.5-en", "miui14-en", "hyperos1-en", "hyperos2-zh"):
        assert name in out


@pytest.mark.parametrize("args, message", [
    (["--variant", "miui99-xx"], "unknown variant 'miui99-xx'"),
    (["--faults", "popup=often"], "fault 'popup'"),
    (["--faults", "meteor"], "unknown fault 'meteor'"),
])
def test_bad_input_is_one_line_exit_2(args, message, capsys):
    assert main(["sim", "start", "--port", str(free_port()), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.strip().count("\n") == 0 and "Traceback" not in err


def test_port_in_use_is_one_line_exit_2(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["sim", "start", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"port {port} is already in use" in err and err.strip().count("\n") == 0


def test_detached_start_and_stop(adb_port, tmp_path):
    env = dict(os.environ, MIUI_AUTOMATOR_STATE_DIR=str(tmp_path), ANDROID_ADB_SERVER_PORT=str(adb_port))
    port = free_port()
    cli = [sys.executable, "-m", "miui_automator.cli.main"]
    started = subprocess.run([*cli, "sim", "start", "--devices", "2", "--variant", "miui14-en,hyperos2-zh",
                              "--port", str(port), "--detach"], env=env, capture_output=True, text=True, timeout=60)
    assert started.returncode == 0, started.stderr
    serials = started.stdout.split()
    assert serials == [f"127.0.0.1:{port}", f"127.0.0.1:{port + 1}"]
    try:
        listed = {d.serial: d for d in adbutils.AdbClient(port=adb_port).list(extended=True)}
        assert listed[serials[1]].state == "device"
        assert AndroidDevice(serials[1]).info().variant == "hyperos2-zh"
    finally:
        stopped = subprocess.run([*cli, "sim", "stop"], env=env, capture_output=True, text=True, timeout=60)
    assert stopped.returncode == 0, stopped.stderr
    assert "stopped 2" in stopped.stdout
    assert device_state(serials[0], adb_port) is None
    again = subprocess.run([*cli, "sim", "stop"], env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and "no detached simulator" in again.stderr


def test_disconnect_on_a_named_screen_fails_the_run_with_exit_3(make_phone, tmp_path, wait_until, adb_port):
    dev = make_phone("miui12.5-en", faults=parse_faults("disconnect=screen:account"))
    flow = run.load("open-account-page")
    driver = AndroidDevice(dev.serial)
    outcome = run.execute(run.RunPlan(flow, driver.info()), driver, run_dir=tmp_path / "run")
    assert outcome.result.exit_code == 3 and outcome.result.outcome == "error"
    assert wait_until(lambda: device_state(dev.serial, adb_port) != "device", 10)
    assert (tmp_path / "run" / "report.html").exists()


@pytest.mark.parametrize("spec, words", [("locked", "locked"), ("battery=5", "battery at 5%"), ("screenoff", "screen is off")])
def test_preflight_names_the_fix(make_phone, capsys, spec, words):
    dev = make_phone("miui14-en", faults=parse_faults(spec))
    assert main(["run", "open-account-page", "-s", dev.serial, "--dry-run"]) == 3
    err = capsys.readouterr().err
    assert words in err and "preflight failed" in err


def test_missing_device_is_one_line_exit_3(adb_port, capsys):
    assert main(["run", "open-account-page", "-s", "127.0.0.1:1", "--dry-run"]) == 3
    err = capsys.readouterr().err
    assert "no such device" in err and err.strip().count("\n") == 0
