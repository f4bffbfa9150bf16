"""The SQLite ledger: runs, phones and steps recorded per event, readable by another connection at any time,
and the resume point that never repeats a completed top-level step."""

from __future__ import annotations

import os
import socket
import sqlite3
import threading

import pytest

from miui_automator.errors import UsageError
from miui_automator.fleet.ledger import PASSED, STEP_DONE, STEP_FAILED, Ledger


def new_run(ledger: Ledger, tmp_path, flow="demo") -> str:
    return ledger.new_run(mode="run", flow=flow, flow_ref=flow, flow_digest="abc", top_steps=4, destructive=False,
                          out_base=str(tmp_path), settings={"servers": ["local"], "parallel": 2})


def test_run_phone_and_steps_are_visible_to_another_connection_as_they_happen(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    ledger = Ledger(path)
    run_id = new_run(ledger, tmp_path)
    ledger.add_phone(run_id, "hw1", server="local", serial="127.0.0.1:5600", hardware_serial="hw1", model="M1",
                     params={"synced_data": "keep"}, password={"env": "PW"})
    attempt = ledger.phone_started(run_id, "hw1", start_at=1, run_dir="phones/x", server="local", serial="127.0.0.1:5600")
    ledger.step_started(run_id, "hw1", attempt, "1", "open settings")
    # A second, independent reader (fleet status in another terminal, or after a kill -9) sees it already.
    other = sqlite3.connect(path)
    assert other.execute("SELECT status, current_step FROM phones").fetchone() == ("running", "1")
    assert other.execute("SELECT step, status FROM steps").fetchall() == [("1", "running")]
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    ledger.step_ended(run_id, "hw1", attempt, "1", STEP_DONE)
    assert other.execute("SELECT status FROM steps").fetchone() == ("done",)
    ledger.phone_finished(run_id, "hw1", PASSED, exit_code=0, duration_s=1.5)
    ledger.end_run(run_id, PASSED)
    other.close()
    ledger.close()

    again = Ledger(path)
    run = again.run("latest")
    assert (run.id, run.status, run.settings["parallel"]) == (run_id, "passed", 2)
    assert run.out_dir == os.path.join(str(tmp_path), f"fleet-{run_id}")
    [phone] = again.phones(run_id)
    assert (phone.status, phone.attempts, phone.params, phone.password) == ("passed", 1, {"synced_data": "keep"}, {"env": "PW"})
    assert again.last_step(run_id, "hw1").status == "done"


def test_run_ids_are_unique_and_found_by_prefix(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    first = new_run(ledger, tmp_path)
    second = new_run(ledger, tmp_path)
    assert first != second and second.startswith(first)
    assert ledger.run(second).id == second
    assert ledger.run(None).id == second  # latest
    with pytest.raises(UsageError, match="ambiguous"):
        ledger.run(first[:8])
    with pytest.raises(UsageError, match="no fleet run 'nope'"):
        ledger.run("nope")
    assert [r.id for r in ledger.runs()] == [second, first]


def test_empty_ledger_says_so(tmp_path):
    with pytest.raises(UsageError, match="no fleet runs recorded yet"):
        Ledger(tmp_path / "l.sqlite3").run()


def test_resume_point_counts_completed_top_level_steps_of_every_attempt(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    run_id = new_run(ledger, tmp_path)
    ledger.add_phone(run_id, "p", server="local", serial="s")
    assert ledger.resume_point(run_id, "p") == 1
    a1 = ledger.phone_started(run_id, "p", start_at=1, run_dir="", server="local", serial="s")
    for step in ("1", "2"):
        ledger.step_started(run_id, "p", a1, step, "")
        ledger.step_ended(run_id, "p", a1, step, STEP_DONE)
    ledger.step_started(run_id, "p", a1, "3", "")
    ledger.step_started(run_id, "p", a1, "3.1", "")
    ledger.step_ended(run_id, "p", a1, "3.1", STEP_DONE)  # a nested step done does not finish step 3
    assert ledger.resume_point(run_id, "p") == 3
    a2 = ledger.phone_started(run_id, "p", start_at=3, run_dir="", server="local", serial="s")
    assert a2 == 2
    ledger.step_started(run_id, "p", a2, "3", "")
    ledger.step_ended(run_id, "p", a2, "3", STEP_FAILED, "boom")
    assert ledger.resume_point(run_id, "p") == 3
    ledger.step_started(run_id, "p", a2, "3", "")
    ledger.step_ended(run_id, "p", a2, "3", STEP_DONE)
    assert ledger.resume_point(run_id, "p") == 4
    statuses = [(s.attempt, s.step, s.status) for s in ledger.steps(run_id, "p")]
    assert statuses[-2:] == [(2, "3", "failed"), (2, "3", "done")]


def test_many_threads_write_without_losing_an_event(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    run_id = new_run(ledger, tmp_path)
    phones = [f"p{i}" for i in range(12)]
    for key in phones:
        ledger.add_phone(run_id, key, server="local", serial=key)

    def work(key: str) -> None:
        attempt = ledger.phone_started(run_id, key, start_at=1, run_dir="", server="local", serial=key)
        for n in range(1, 21):
            ledger.step_started(run_id, key, attempt, str(n), f"step {n}")
            ledger.step_ended(run_id, key, attempt, str(n), STEP_DONE)
        ledger.phone_finished(run_id, key, PASSED, exit_code=0)

    threads = [threading.Thread(target=work, args=(k,)) for k in phones]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert all(ledger.resume_point(run_id, k) == 21 for k in phones)
    assert len(ledger.steps(run_id)) == 12 * 20
    assert {p.status for p in ledger.phones(run_id)} == {"passed"}


def test_phone_seen_again_updates_where_it_is_attached(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    run_id = new_run(ledger, tmp_path)
    ledger.add_phone(run_id, "hw", server="local", serial="usb-1")
    ledger.add_phone(run_id, "hw", server="10.0.0.2:5037", serial="usb-7")
    [phone] = ledger.phones(run_id)
    assert (phone.server, phone.serial) == ("10.0.0.2:5037", "usb-7")


def test_a_file_that_is_not_a_ledger_is_refused(tmp_path):
    bad = tmp_path / "l.sqlite3"
    bad.write_bytes(b"not a database at all" * 100)
    with pytest.raises(UsageError, match="not a usable ledger"):
        Ledger(bad)


def test_dead_controller_shows_as_stopped(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    run_id = new_run(ledger, tmp_path)
    assert ledger.run(run_id).shown_status == "running"  # this process is the controller
    ledger._exec("UPDATE runs SET controller = ?", (f"{socket.gethostname()}:999999999",))
    assert ledger.run(run_id).controller_alive is False
    assert "controller gone" in ledger.run(run_id).shown_status
