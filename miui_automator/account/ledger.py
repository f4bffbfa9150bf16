"""The account-deletion ledger: every deletion request, its waiting period and how it ended.

A deletion request is the one step of the mission that cannot be taken back once its 30 days
have passed, and nothing on the phone remembers it (the account is usually signed out by then),
so the tool keeps its own record: which account (masked), requested from which phone (hardware
serial), when, and the day Xiaomi said the deletion completes. ``account status`` reads it to say
how many days are left to cancel.

It lives in the ledger file the fleet uses too (default ``runs/ledger.sqlite3``), in its own table;
the file's schema and settings belong to :mod:`miui_automator.ledger_file`, whose WAL mode and busy
timeout let a fleet controller and these flows write the same file. Rows are written the moment
the flow sees the result on the page: a run killed right after the request still leaves its record.

The ledger never holds a full account id, only the masked form (``12******90``); rows of one
account are found again by that form, the most recent first.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable

from ..device.info import mask_account
from ..ledger_file import connect

ENV = "MIUI_AUTOMATOR_LEDGER"
DEFAULT_PATH = Path("runs") / "ledger.sqlite3"
PENDING, CANCELLED, COMPLETED = "pending", "cancelled", "completed"



def ledger_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Where the ledger is: the given path, else ``$MIUI_AUTOMATOR_LEDGER``, else ``runs/ledger.sqlite3``."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(ENV)
    return Path(env) if env else DEFAULT_PATH


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Deletion:
    """One row: a deletion request and where it stands."""

    id: int
    account: str
    device: str
    requested_at: datetime | None
    ends_on: date | None
    status: str
    updated_at: datetime

    def days_left(self, today: date) -> int | None:
        """Days until the deletion completes (0 or less: the waiting period is over); None when unknown."""
        return None if self.ends_on is None else (self.ends_on - today).days

    def state(self, today: date) -> str:
        """The row in words, for ``account status``."""
        if self.status == CANCELLED:
            return "cancelled"
        if self.status == COMPLETED:
            return "deleted (verified)"
        left = self.days_left(today)
        if left is None:
            return "pending"
        if left <= 0:
            return "pending, waiting period over: run verify-account-deleted"
        return f"pending, {left} day{'s' if left != 1 else ''} left to cancel"

    def as_dict(self, today: date) -> dict[str, object]:
        return {
            "account": self.account, "device": self.device, "status": self.status,
            "requested_at": self.requested_at.isoformat() if self.requested_at else None,
            "ends_on": self.ends_on.isoformat() if self.ends_on else None,
            "days_left": self.days_left(today) if self.status == PENDING else None,
            "updated_at": self.updated_at.isoformat(), "state": self.state(today),
        }


class DeletionLedger:
    """The ``account_deletions`` table of one SQLite file; ``now`` is injectable for tests."""

    def __init__(self, path: str | os.PathLike[str], *, now: Callable[[], datetime] = _utc_now) -> None:
        self.path = Path(path)
        self.now = now
        self._db = connect(self.path)

    def __enter__(self) -> "DeletionLedger":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def today(self) -> date:
        return self.now().astimezone(timezone.utc).date()

    # ------------------------------------------------------------------ events
    def requested(self, account: str, device: str, ends_on: date) -> Deletion:
        """Record a request; seeing the same pending request again (same account and day) updates it."""
        masked, stamp = mask_account(account), self._stamp()
        with self._transaction():
            row = self._db.execute("SELECT id FROM account_deletions WHERE account = ? AND status = ? AND ends_on = ? "
                                   "ORDER BY id DESC LIMIT 1", (masked, PENDING, ends_on.isoformat())).fetchone()
            if row is not None:
                self._db.execute("UPDATE account_deletions SET device = ?, updated_at = ? WHERE id = ?", (device, stamp, row[0]))
                row_id = row[0]
            else:
                row_id = self._db.execute(
                    "INSERT INTO account_deletions (account, device, requested_at, ends_on, status, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)", (masked, device, stamp, ends_on.isoformat(), PENDING, stamp)).lastrowid
        return self._get(row_id)

    def cancelled(self, account: str, device: str) -> Deletion:
        return self._close_pending(account, device, CANCELLED)

    def completed(self, account: str, device: str) -> Deletion:
        return self._close_pending(account, device, COMPLETED)

    def _close_pending(self, account: str, device: str, status: str) -> Deletion:
        """Mark the account's latest pending request; without one (requested elsewhere) add a row saying so."""
        masked, stamp = mask_account(account), self._stamp()
        with self._transaction():
            row = self._db.execute("SELECT id FROM account_deletions WHERE account = ? AND status = ? ORDER BY id DESC LIMIT 1",
                                   (masked, PENDING)).fetchone()
            if row is not None:
                self._db.execute("UPDATE account_deletions SET status = ?, device = ?, updated_at = ? WHERE id = ?",
                                 (status, device, stamp, row[0]))
                row_id = row[0]
            else:
                row_id = self._db.execute(
                    "INSERT INTO account_deletions (account, device, status, updated_at) VALUES (?, ?, ?, ?)",
                    (masked, device, status, stamp)).lastrowid
        return self._get(row_id)

    # ------------------------------------------------------------------ reading
    def entries(self) -> list[Deletion]:
        """Every row, newest first."""
        rows = self._db.execute("SELECT id, account, device, requested_at, ends_on, status, updated_at "
                                "FROM account_deletions ORDER BY id DESC").fetchall()
        return [_deletion(row) for row in rows]

    def _get(self, row_id: int) -> Deletion:
        row = self._db.execute("SELECT id, account, device, requested_at, ends_on, status, updated_at "
                               "FROM account_deletions WHERE id = ?", (row_id,)).fetchone()
        return _deletion(row)

    def _stamp(self) -> str:
        return self.now().astimezone(timezone.utc).isoformat(timespec="seconds")

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE ... COMMIT: a look-up and the write it decides happen under one write lock."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


def _deletion(row: tuple) -> Deletion:
    row_id, account, device, requested_at, ends_on, status, updated_at = row
    return Deletion(row_id, account, device, datetime.fromisoformat(requested_at) if requested_at else None,
                    date.fromisoformat(ends_on) if ends_on else None, status, datetime.fromisoformat(updated_at))
