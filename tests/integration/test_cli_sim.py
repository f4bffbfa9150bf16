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
from miui_automator.sim.faults import BUILTIN_FAULTS, parse_faults
from miui_automator.sim.host import device_state, free_port, kill_adb_server
from miui_automator.sim.state import hardware_serial

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
    (["--port", "80"], "must lie in 1024-65535"),
    (["--name", "../x"], "--name '../x'"),
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


def sim_cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "miui_automator.cli.main", "sim", *args], env=env, capture_output=True,
                          text=True, timeout=60)


def test_detached_start_and_stop(adb_port, tmp_path):
    env = dict(os.environ, MIUI_AUTOMATOR_STATE_DIR=str(tmp_path), ANDROID_ADB_SERVER_PORT=str(adb_port))
    started = sim_cli(env, "start", "--devices", "2", "--variant", "miui14-en,hyperos2-zh", "--port", "0", "--detach")
    assert started.returncode == 0, started.stderr
    serials = started.stdout.split()
    assert len(set(serials)) == 2 and all(s.startswith("127.0.0.1:") for s in serials)
    try:
        listed = {d.serial: d for d in adbutils.AdbClient(port=adb_port).list(extended=True)}
        assert listed[serials[1]].state == "device"
        assert AndroidDevice(serials[1]).info().variant == "hyperos2-zh"
    finally:
        stopped = sim_cli(env, "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert "stopped 2" in stopped.stdout
    assert device_state(serials[0], adb_port) is None
    again = sim_cli(env, "stop")
    assert again.returncode == 2 and "no detached simulator" in again.stderr


def test_two_named_simulators_side_by_side_have_distinct_phones(adb_port, tmp_path):
    """Two simulated USB hosts, each with its own adb server: both run at once, with different phones."""
    env = dict(os.environ, MIUI_AUTOMATOR_STATE_DIR=str(tmp_path), ANDROID_ADB_SERVER_PORT=str(adb_port))
    other_adb = free_port()
    servers = {"host-a": adb_port, "host-b": other_adb}
    serials: dict[str, str] = {}
    try:
        for name, server in servers.items():
            started = sim_cli(env, "start", "--detach", "--name", name, "--port", "0", "--adb-port", str(server))
            assert started.returncode == 0, started.stderr
            (serials[name],) = started.stdout.split()
        twice = sim_cli(env, "start", "--detach", "--name", "host-a", "--port", "0")
        assert twice.returncode == 2 and "named 'host-a' is already running" in twice.stderr
        assert device_state(serials["host-b"], other_adb) == "device" and device_state(serials["host-b"], adb_port) is None
        hardware = {name: adbutils.AdbClient(port=servers[name]).device(s).shell("getprop ro.serialno").strip()
                    for name, s in serials.items()}
        assert hardware["host-a"] != hardware["host-b"] and "" not in hardware.values()
        listed = sim_cli(env, "list").stdout
        for name in serials:
            assert f"{name}  pid" in listed and f"{serials[name]} ({hardware[name]})" in listed
        ambiguous = sim_cli(env, "stop")
        assert ambiguous.returncode == 2 and "--name or stop them all with --all" in ambiguous.stderr
        one = sim_cli(env, "stop", "--name", "host-a")
        assert one.returncode == 0 and "'host-a'" in one.stdout
        assert device_state(serials["host-a"], adb_port) is None
        assert device_state(serials["host-b"], other_adb) == "device"
        assert "host-a" not in sim_cli(env, "list").stdout
    finally:
        sim_cli(env, "stop", "--all")
        kill_adb_server(other_adb)
    assert "no detached simulator is running" in sim_cli(env, "list").stdout
    assert device_state(serials["host-a"], adb_port) is None


def test_a_pinned_seed_pins_the_serial(adb_port, tmp_path):
    env = dict(os.environ, MIUI_AUTOMATOR_STATE_DIR=str(tmp_path), ANDROID_ADB_SERVER_PORT=str(adb_port))
    try:
        started = sim_cli(env, "start", "--detach", "--port", "0", "--seed", "7", "--signed-out", "--unactivated-account")
        assert started.returncode == 0, started.stderr
        device = adbutils.AdbClient(port=adb_port).device(started.stdout.strip())
        assert device.shell("getprop ro.serialno").strip() == hardware_serial(7)
        assert "type=com.xiaomi.unactivated}" in device.shell("dumpsys account")
    finally:
        sim_cli(env, "stop", "--all")


def test_faults_are_listed_by_sim_faults_and_start_help(capsys):
    assert main(["sim", "faults"]) == 0
    listed = capsys.readouterr().out
    assert main(["sim", "start", "--help"]) == 0
    helped = capsys.readouterr().out
    for kind in BUILTIN_FAULTS:
        assert f"{kind.name}{kind.usage}" in listed and f"{kind.name}{kind.usage}" in helped


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
