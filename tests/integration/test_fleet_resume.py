"""The controller killed with ``kill -9`` mid-run and resumed, and station (watch) mode, with the fleet CLI in
a subprocess against simulated phones on the session's real adb server.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import adbutils
import pytest

from miui_automator.cli.main import main
from miui_automator.fleet.ledger import Ledger
from miui_automator.sim.faults import parse_faults
from miui_automator.sim.host import adb_connect
from miui_automator.sim.phone import Phone

pytestmark = pytest.mark.integration

CLI = [sys.executable, "-m", "miui_automator.cli.main"]

# Every step opens its own screen, so the one step a kill cuts off half-way (started, not recorded done) can run
# again on resume. That step is the only one ever repeated; a step recorded done never is.
RESUMABLE = """
name: resumable
description: settings and the account page, back and forth
steps:
  - open: {component: com.android.settings/.MainSettings}
    expect: settings_home
  - open: {action: android.settings.XIAOMI_ACCOUNT_SYNC_SETTINGS}
    expect: account
  - open: {component: com.android.settings/.MainSettings}
    expect: settings_home
  - open: {action: android.settings.XIAOMI_ACCOUNT_SYNC_SETTINGS}
    expect: account
  - open: {component: com.android.settings/.MainSettings}
    expect: settings_home
"""


def read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)


def done_steps(path: Path) -> set[tuple[str, str]]:
    if not path.exists():
        return set()
    try:
        with read_only(path) as db:
            return set(db.execute("SELECT phone, step FROM steps WHERE status = 'done'").fetchall())
    except sqlite3.OperationalError:  # the schema is not there yet
        return set()


def test_controller_killed_mid_run_resumes_without_repeating_a_done_step(make_phone, tmp_path, wait_until, capsys):
    phones = [make_phone(v, faults=parse_faults("slow=0.5")) for v in ("miui12.5-en", "miui14-en", "hyperos1-en", "hyperos2-zh")]
    flow = tmp_path / "resumable.yaml"
    flow.write_text(RESUMABLE)
    out = tmp_path / "runs"
    ledger_path = out / "ledger.sqlite3"
    args = [a for p in phones for a in ("-s", p.serial)]
    proc = subprocess.Popen([*CLI, "fleet", "run", str(flow), *args, "--parallel", "4", "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ))
    try:
        wait_until(lambda: len(done_steps(ledger_path)) >= 3 or proc.poll() is not None, 60, message="some steps done")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]

    ledger = Ledger(ledger_path)
    run = ledger.run()
    before = {p.key: p for p in ledger.phones(run.id)}
    done_before = done_steps(ledger_path)
    assert done_before and any(p.status != "passed" for p in before.values()), "the kill came too late to test anything"
    assert run.status == "running" and run.controller_alive is False
    assert main(["fleet", "status", "--out", str(out)]) == 0
    assert "controller gone" in capsys.readouterr().out
    assert "running" in (Path(run.out_dir) / "index.html").read_text()  # a killed run still has a report

    assert main(["fleet", "run", "--resume", "latest", "--out", str(out)]) == 0
    after = {p.key: p for p in ledger.phones(run.id)}
    assert {p.status for p in after.values()} == {"passed"}
    assert any(p.start_at > 1 for p in after.values() if p.attempts > 1), "no phone resumed past its first step"
    assert ledger.run(run.id).status == "passed"
    for key, row in after.items():
        done_tops = {int(step) for phone, step in done_before if phone == key and step.isdigit()}
        resumed = [s for s in ledger.steps(run.id, key) if s.attempt == row.attempts and row.attempts > 1]
        assert not {s.top for s in resumed} & done_tops, f"{row.serial} repeated a step it had completed"
        if before[key].status == "passed":
            assert row.attempts == before[key].attempts  # finished phones are not run again
            continue
        expected_start = max(done_tops, default=0) + 1
        assert row.start_at == expected_start
        assert min(s.top for s in resumed) == expected_start
        events = [json.loads(line) for line in (Path(run.out_dir) / row.run_dir / "events.jsonl").read_text().splitlines()]
        started = {int(e["step"]) for e in events if e["type"] == "step_start"}
        assert started == set(range(expected_start, 6))


def test_watch_runs_a_phone_plugged_in_after_it_started(sim_host, adb_port, tmp_path, wait_until):
    phone = sim_host.add_phone(Phone("miui14-en", seed=77))  # listening, not yet attached to adb: "unplugged"
    out = tmp_path / "runs"
    ledger_path = out / "ledger.sqlite3"
    proc = subprocess.Popen([*CLI, "fleet", "watch", "open-account-page", "-s", phone.serial, "--max-devices", "1",
                             "--timeout", "60", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ), text=True)
    try:
        def watching() -> bool:
            if proc.poll() is not None or not ledger_path.exists():
                return proc.poll() is not None
            try:
                with read_only(ledger_path) as db:
                    return bool(db.execute("SELECT count(*) FROM runs").fetchone()[0])
            except sqlite3.OperationalError:
                return False

        wait_until(watching, 30, message="watch started")
        assert proc.poll() is None
        adb_connect(phone.serial, adb_port)  # plugged in
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        adbutils.AdbClient(port=adb_port).disconnect(phone.serial)
        sim_host.remove_phone(phone)
    assert proc.returncode == 0, stderr[-2000:]
    assert "fleet watch" in stdout and "1 passed" in stdout
    ledger = Ledger(ledger_path)
    run = ledger.run()
    assert run.mode == "watch" and run.status == "passed"
    [row] = ledger.phones(run.id)
    assert (row.serial, row.status, row.variant) == (phone.serial, "passed", "miui14-en")


def test_watch_with_nothing_plugged_in_ends_at_its_timeout(tmp_path, adb_port, capsys):
    out = tmp_path / "runs"
    assert main(["fleet", "watch", "open-account-page", "-s", "not-plugged", "--timeout", "0.5", "--out", str(out)]) == 0
    assert "no phones" in capsys.readouterr().out
    assert main(["fleet", "run", "--resume", "latest", "--out", str(out)]) == 2  # a watch session is not resumed


def test_sigterm_stops_the_station_and_records_the_running_phone_interrupted(make_phone, tmp_path, wait_until):
    phone = make_phone("hyperos1-en", faults=parse_faults("slow=2"))
    out = tmp_path / "runs"
    ledger_path = out / "ledger.sqlite3"
    proc = subprocess.Popen([*CLI, "fleet", "watch", "open-account-page", "-s", phone.serial, "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ), text=True)
    try:
        def step_running() -> bool:
            if proc.poll() is not None:
                return True
            if not ledger_path.exists():
                return False
            try:
                with read_only(ledger_path) as db:
                    return bool(db.execute("SELECT count(*) FROM steps WHERE status = 'running'").fetchone()[0])
            except sqlite3.OperationalError:
                return False

        wait_until(step_running, 30, message="a step running")
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr[-2000:]
    assert "interrupted" in stderr
    ledger = Ledger(ledger_path)
    run = ledger.run()
    assert run.status == "interrupted"
    [row] = ledger.phones(run.id)
    assert (row.serial, row.status, row.exit_code) == (phone.serial, "interrupted", 130)
