"""The fleet ledger: every run, phone and step in SQLite, committed the moment it happens.

It is what lets a lab kill the controller (a crash, ``kill -9``, a power cut of the laptop) and
carry on: ``fleet status`` reads it while a run is going or after it died, and ``fleet run
--resume`` reads which top-level steps each phone completed and starts after them, so a
destructive step that completed is never repeated.

The file, its schema and its settings belong to :mod:`miui_automator.ledger_file` (the account
deletions share it). Every event is its own transaction (autocommit), so a killed controller loses
at most the event it was writing. One connection, shared by the phone threads under a lock.
Nothing secret is stored: params are plain ones, the password only as where to read it. Errors and step
descriptions quote what a phone showed (the account page shows the Mi account id), so they are stored
through :func:`~miui_automator.privacy.mask_text`.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from ..errors import UsageError
from ..ledger_file import connect
from ..privacy import mask_text

# Phone statuses. A phone is "done" only when it passed; everything else is resumed.
PENDING, RUNNING, PASSED = "pending", "running", "passed"
FAILED, ERROR, TIMEOUT, MISSING, REFUSED, INTERRUPTED = "failed", "error", "timeout", "missing", "refused", "interrupted"
FINAL = (PASSED, FAILED, ERROR, TIMEOUT, MISSING, REFUSED, INTERRUPTED)
# Step statuses.
STEP_RUNNING, STEP_DONE, STEP_FAILED = "running", "done", "failed"



def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def controller_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class RunRow:
    id: str
    mode: str
    flow: str
    flow_ref: str
    flow_digest: str
    top_steps: int
    destructive: bool
    status: str
    started: str
    ended: str | None
    controller: str
    out_dir: str
    settings: dict[str, Any]

    @property
    def controller_alive(self) -> bool | None:
        """True/False for a controller on this host; None when it ran elsewhere (cannot tell)."""
        host, _, pid = self.controller.rpartition(":")
        if host != socket.gethostname() or not pid.isdigit():
            return None
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    @property
    def shown_status(self) -> str:
        """The status, or what it really is when the controller of a "running" run is gone."""
        if self.status == RUNNING and self.controller_alive is False:
            return "stopped (controller gone; resume it)"
        return self.status


@dataclass(frozen=True)
class PhoneRow:
    run_id: str
    key: str
    server: str
    serial: str
    hardware_serial: str
    label: str
    model: str
    variant: str
    params: dict[str, str]
    password: dict[str, str]
    status: str
    attempts: int
    start_at: int
    current_step: str
    started: str | None
    ended: str | None
    duration_s: float | None
    exit_code: int | None
    error: str
    run_dir: str

    @property
    def name(self) -> str:
        return self.label or self.serial


@dataclass(frozen=True)
class StepRow:
    phone: str
    attempt: int
    step: str
    top: int
    description: str
    status: str
    started: str
    ended: str | None
    error: str


def top_of(step_id: str) -> int:
    head = step_id.split(".", 1)[0]
    return int(head) if head.isdigit() else 0


class Ledger:
    """One SQLite file; safe to use from many threads (one connection, one lock)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = connect(self.path, threads=True)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _exec(self, sql: str, args: tuple | Mapping = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._db.execute(sql, args)

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # ------------------------------------------------------------------ runs
    def new_run(self, *, mode: str, flow: str, flow_ref: str, flow_digest: str, top_steps: int, destructive: bool,
                out_base: str, settings: Mapping[str, Any]) -> str:
        """Record a new run and return its id (``20240501-091203-reset``, made unique); its reports go to
        ``out_base/fleet-<id>``."""
        base = f"{time.strftime('%Y%m%d-%H%M%S')}-{flow}"
        with self._lock:
            n = 1
            run_id = base
            while self._db.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone():
                n += 1
                run_id = f"{base}-{n}"
            self._db.execute("INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                             (run_id, mode, flow, flow_ref, flow_digest, top_steps, int(destructive), RUNNING, utc_now(),
                              None, controller_id(), os.path.join(out_base, f"fleet-{run_id}"), json.dumps(dict(settings))))
        return run_id

    def reopen_run(self, run_id: str) -> None:
        """A resumed run is this controller's again."""
        self._exec("UPDATE runs SET status = ?, ended = NULL, controller = ? WHERE id = ?", (RUNNING, controller_id(), run_id))

    def end_run(self, run_id: str, status: str) -> None:
        self._exec("UPDATE runs SET status = ?, ended = ? WHERE id = ?", (status, utc_now(), run_id))

    def run(self, run_id: str | None = None) -> RunRow:
        """A run by id, unique id prefix or ``latest`` (also for None)."""
        if run_id in (None, "latest"):
            rows = self._query("SELECT * FROM runs ORDER BY started DESC, rowid DESC LIMIT 1")
            if not rows:
                raise UsageError(f"{self.path}: no fleet runs recorded yet")
        else:
            rows = self._query("SELECT * FROM runs WHERE id = ?", (run_id,)) or \
                self._query("SELECT * FROM runs WHERE id LIKE ? ESCAPE '\\' ORDER BY started", (_like_prefix(run_id),))
            if not rows:
                raise UsageError(f"{self.path}: no fleet run {run_id!r} (see: miui-automator fleet status)")
            if len(rows) > 1:
                raise UsageError(f"run {run_id!r} is ambiguous: {', '.join(r[0] for r in rows[:5])}")
        r = rows[0]
        return RunRow(id=r[0], mode=r[1], flow=r[2], flow_ref=r[3], flow_digest=r[4], top_steps=r[5], destructive=bool(r[6]),
                      status=r[7], started=r[8], ended=r[9], controller=r[10], out_dir=r[11], settings=json.loads(r[12]))

    def runs(self, limit: int = 20) -> list[RunRow]:
        ids = [r[0] for r in self._query("SELECT id FROM runs ORDER BY started DESC, rowid DESC LIMIT ?", (limit,))]
        return [self.run(i) for i in ids]

    # ------------------------------------------------------------------ phones
    def add_phone(self, run_id: str, key: str, *, server: str, serial: str, hardware_serial: str = "", label: str = "",
                  model: str = "", variant: str = "", params: Mapping[str, str] | None = None,
                  password: Mapping[str, str] | None = None, status: str = PENDING, error: str = "") -> None:
        """Add a phone to a run, or refresh where it is attached now (a phone seen again in watch mode)."""
        self._exec("INSERT INTO phones (run_id, key, server, serial, hardware_serial, label, model, variant, params, password,"
                   " status, error) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (run_id, key) DO UPDATE SET"
                   " server = excluded.server, serial = excluded.serial, status = excluded.status, error = excluded.error,"
                   " params = excluded.params, password = excluded.password",
                   (run_id, key, server, serial, hardware_serial, label, model, variant, json.dumps(dict(params or {})),
                    json.dumps(dict(password or {})), status, mask_text(error)))

    def phone_started(self, run_id: str, key: str, *, start_at: int, run_dir: str, server: str, serial: str) -> int:
        """A new attempt of the phone begins; returns its number (1 for the first)."""
        with self._lock:
            self._db.execute("UPDATE phones SET status = ?, attempts = attempts + 1, start_at = ?, current_step = '',"
                             " started = ?, ended = NULL, duration_s = NULL, exit_code = NULL, error = '', run_dir = ?,"
                             " server = ?, serial = ? WHERE run_id = ? AND key = ?",
                             (RUNNING, start_at, utc_now(), run_dir, server, serial, run_id, key))
            return self._db.execute("SELECT attempts FROM phones WHERE run_id = ? AND key = ?", (run_id, key)).fetchone()[0]

    def phone_finished(self, run_id: str, key: str, status: str, *, exit_code: int | None, error: str = "",
                       duration_s: float | None = None) -> None:
        self._exec("UPDATE phones SET status = ?, exit_code = ?, error = ?, duration_s = ?, ended = ?"
                   " WHERE run_id = ? AND key = ?", (status, exit_code, mask_text(error), duration_s, utc_now(), run_id, key))

    def phones(self, run_id: str) -> list[PhoneRow]:
        rows = self._query("SELECT run_id, key, server, serial, hardware_serial, label, model, variant, params, password, status,"
                           " attempts, start_at, current_step, started, ended, duration_s, exit_code, error, run_dir"
                           " FROM phones WHERE run_id = ? ORDER BY rowid", (run_id,))
        return [PhoneRow(*r[:8], json.loads(r[8]), json.loads(r[9]), *r[10:]) for r in rows]

    # ------------------------------------------------------------------ steps
    def step_started(self, run_id: str, phone: str, attempt: int, step: str, description: str) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute("INSERT INTO steps (run_id, phone, attempt, step, top, description, status, started)"
                             " VALUES (?,?,?,?,?,?,?,?)",
                             (run_id, phone, attempt, step, top_of(step), mask_text(description), STEP_RUNNING, utc_now()))
            self._db.execute("UPDATE phones SET current_step = ? WHERE run_id = ? AND key = ?", (step, run_id, phone))
            self._db.execute("COMMIT")

    def step_ended(self, run_id: str, phone: str, attempt: int, step: str, status: str, error: str = "") -> None:
        self._exec("UPDATE steps SET status = ?, ended = ?, error = ? WHERE id = (SELECT max(id) FROM steps"
                   " WHERE run_id = ? AND phone = ? AND attempt = ? AND step = ?)",
                   (status, utc_now(), mask_text(error), run_id, phone, attempt, step))

    def steps(self, run_id: str, phone: str | None = None) -> list[StepRow]:
        where, args = ("run_id = ? AND phone = ?", (run_id, phone)) if phone else ("run_id = ?", (run_id,))
        rows = self._query(f"SELECT phone, attempt, step, top, description, status, started, ended, error FROM steps"
                           f" WHERE {where} ORDER BY id", args)
        return [StepRow(*r) for r in rows]

    def resume_point(self, run_id: str, phone: str) -> int:
        """The top-level step a resumed phone starts at: the one after the last top-level step that completed
        in any attempt. The engine runs steps in order, so every earlier one completed (or was optional)."""
        row = self._query("SELECT max(top) FROM steps WHERE run_id = ? AND phone = ? AND status = ? AND step = CAST(top AS TEXT)",
                          (run_id, phone, STEP_DONE))
        return (row[0][0] or 0) + 1

    def last_step(self, run_id: str, phone: str) -> StepRow | None:
        rows = self.steps(run_id, phone)
        return rows[-1] if rows else None


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"

