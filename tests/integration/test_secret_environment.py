"""A password given in the environment reaches no process the run starts.

The adb server that adbutils starts on demand outlives the CLI; if it inherited
``MIUI_ACCOUNT_PASSWORD``, ``/proc/<pid>/environ`` would show the password for as long as that
server lives. This starts from no adb server at all, signs a simulated phone out with a canary
password through the CLI in a subprocess, then reads the environment of every process that
appeared meanwhile.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from miui_automator.sim.host import adb_server_alive, free_port, kill_adb_server
from miui_automator.sim.phone import Phone

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")]

CANARY = "canary-pw-7f3a91"
RUN_TIMEOUT_S = 240


def _pids() -> set[int]:
    return {int(p) for p in os.listdir("/proc") if p.isdigit()}


def _environ(pid: int) -> bytes | None:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:  # gone meanwhile, or not ours to read
        return None


def test_sign_out_leaves_the_password_in_no_process_environment(sim_host, tmp_path):
    device = sim_host.add_phone(Phone("hyperos1-en", password=CANARY, seed=71))
    port = free_port()
    assert not adb_server_alive(port)
    env = dict(os.environ, ANDROID_ADB_SERVER_PORT=str(port), MIUI_ACCOUNT_PASSWORD=CANARY,
               MIUI_AUTOMATOR_HOME=str(tmp_path / "home"))
    before = _pids()
    try:
        proc = subprocess.run([sys.executable, "-m", "miui_automator.cli.main", "run", "remove-mi-account",
                               "-s", device.serial, "--yes", "--no-backup-gate", "--out", str(tmp_path / "runs")],
                              env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, proc.stderr
        assert sim_host.call(lambda: device.phone.state.has_xiaomi_account()) is False  # the password was typed
        assert adb_server_alive(port), "the run started its own adb server"
        started = {pid: _environ(pid) for pid in _pids() - before}
        readable = {pid: environ for pid, environ in started.items() if environ is not None}
        assert any(b"ANDROID_ADB_SERVER_PORT" in e or b"adb" in Path(f"/proc/{pid}/cmdline").read_bytes()
                   for pid, e in readable.items()), "the adb server the run started is among the processes read"
        for pid, environ in readable.items():
            assert CANARY.encode() not in environ, f"process {pid} inherited the password"
        assert CANARY not in proc.stdout + proc.stderr
    finally:
        kill_adb_server(port)
        sim_host.remove_phone(device)
