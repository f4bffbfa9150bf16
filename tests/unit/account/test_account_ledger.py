"""The account-deletion ledger: its own table in a shared SQLite file (WAL), masked accounts only,
requests / cancellations / completions, and the days left to cancel."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from miui_automator.account.ledger import DEFAULT_PATH, DeletionLedger, ledger_path

ACCOUNT = "1234567890"
MASKED = "12******90"


class Clock:
    def __init__(self) -> None:
        self.t = datetime(2026, 11, 30, 15, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(tmp_path: Path, clock: Clock):
    with DeletionLedger(tmp_path / "runs" / "ledger.sqlite3", now=clock) as led:
        yield led


def test_table_is_created_in_wal_mode_beside_other_tables(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    with sqlite3.connect(path) as other:  # the fleet ledger's own tables in the same file
        other.execute("CREATE TABLE runs (id TEXT PRIMARY KEY)")
        other.execute("INSERT INTO runs VALUES ('r1')")
    with DeletionLedger(path) as led:
        led.requested(ACCOUNT, "serial1", date(2026, 12, 30))
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"runs", "account_deletions"} <= tables
    assert db.execute("SELECT id FROM runs").fetchall() == [("r1",)]
    db.close()
    with DeletionLedger(path) as again:  # opening an existing ledger keeps its rows
        assert len(again.entries()) == 1


def test_request_is_recorded_masked_with_device_and_dates(ledger: DeletionLedger, clock: Clock) -> None:
    entry = ledger.requested(ACCOUNT, "a1b2c3d4", date(2026, 12, 30))
    assert (entry.account, entry.device, entry.status) == (MASKED, "a1b2c3d4", "pending")
    assert entry.requested_at == clock.t and entry.ends_on == date(2026, 12, 30)
    assert entry.days_left(ledger.today()) == 30
    assert entry.state(ledger.today()) == "pending, 30 days left to cancel"
    assert ACCOUNT.encode() not in ledger.path.read_bytes()
    wal = ledger.path.with_name(ledger.path.name + "-wal")
    assert not wal.exists() or ACCOUNT.encode() not in wal.read_bytes()


def test_seeing_the_same_request_again_does_not_add_a_row(ledger: DeletionLedger, clock: Clock) -> None:
    first = ledger.requested(ACCOUNT, "serial1", date(2026, 12, 30))
    clock.t += timedelta(hours=2)
    second = ledger.requested(ACCOUNT, "serial2", date(2026, 12, 30))
    assert second.id == first.id and second.device == "serial2" and second.updated_at == clock.t
    assert len(ledger.entries()) == 1
    ledger.requested("9876543210", "serial1", date(2026, 12, 30))
    assert len(ledger.entries()) == 2


def test_cancel_and_complete_close_the_latest_pending_request(ledger: DeletionLedger, clock: Clock) -> None:
    ledger.requested(ACCOUNT, "serial1", date(2026, 12, 30))
    cancelled = ledger.cancelled(ACCOUNT, "serial1")
    assert cancelled.status == "cancelled" and cancelled.state(ledger.today()) == "cancelled"
    clock.t += timedelta(days=1)
    again = ledger.requested(ACCOUNT, "serial1", date(2026, 12, 31))
    assert again.id != cancelled.id
    clock.t += timedelta(days=30)
    assert again.days_left(ledger.today()) == 0
    assert again.state(ledger.today()) == "pending, waiting period over: run verify-account-deleted"
    done = ledger.completed(ACCOUNT, "serial9")
    assert (done.id, done.status, done.device) == (again.id, "completed", "serial9")
    assert [e.status for e in ledger.entries()] == ["completed", "cancelled"]  # newest first
    assert done.as_dict(ledger.today())["state"] == "deleted (verified)"


def test_cancel_without_a_recorded_request_adds_a_row_saying_so(ledger: DeletionLedger) -> None:
    entry = ledger.cancelled(ACCOUNT, "serial1")
    assert (entry.account, entry.status, entry.requested_at, entry.ends_on) == (MASKED, "cancelled", None, None)
    assert entry.days_left(ledger.today()) is None
    assert entry.as_dict(ledger.today())["requested_at"] is None


def test_a_failed_write_leaves_no_half_row(ledger: DeletionLedger) -> None:
    ledger.requested(ACCOUNT, "serial1", date(2026, 12, 30))
    with pytest.raises(sqlite3.IntegrityError):
        ledger._close_pending(ACCOUNT, "serial1", "bogus")  # the CHECK constraint refuses unknown statuses
    assert [e.status for e in ledger.entries()] == ["pending"]
    assert ledger.completed(ACCOUNT, "serial1").status == "completed"  # the write lock was released


def test_ledger_path_explicit_then_environment_then_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MIUI_AUTOMATOR_LEDGER", raising=False)
    assert ledger_path() == DEFAULT_PATH == Path("runs/ledger.sqlite3")
    monkeypatch.setenv("MIUI_AUTOMATOR_LEDGER", str(tmp_path / "env.sqlite3"))
    assert ledger_path() == tmp_path / "env.sqlite3"
    assert ledger_path(tmp_path / "given.sqlite3") == tmp_path / "given.sqlite3"
    assert ledger_path("") == tmp_path / "env.sqlite3"
