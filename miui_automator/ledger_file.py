"""The ledger file (``runs/ledger.sqlite3`` by default): one SQLite file, two users, one schema.

The fleet keeps its runs, phones and steps there (:mod:`miui_automator.fleet.ledger`) and the account
flows their deletion requests (:mod:`miui_automator.account.ledger`), so a lab has one file to keep.
Both open it through :func:`connect`, which owns what the file is: the connection settings (WAL, so
``fleet status`` reads while a controller writes; a busy timeout, so the two writers wait for each
other; ``synchronous=NORMAL``: a killed process loses nothing, a power cut at most the last events),
the schema version (``PRAGMA user_version``) and the migrations that bring an older file up to it.
A file written by a newer version is refused rather than guessed at.

Every migration only adds (``IF NOT EXISTS``), so a file one user created before the schema was
shared (an account-only file at version 0, a fleet file at version 1) comes up to date in place.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from .errors import UsageError
from .private_files import open_private, private_dir

BUSY_TIMEOUT_S = 10.0

_FLEET_TABLES = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    mode TEXT NOT NULL,              -- run | watch
    flow TEXT NOT NULL,              -- the flow's name
    flow_ref TEXT NOT NULL,          -- what to load again on resume: built-in name or path
    flow_digest TEXT NOT NULL,       -- top-level steps; resume refuses a flow that changed
    top_steps INTEGER NOT NULL,
    destructive INTEGER NOT NULL,
    status TEXT NOT NULL,            -- running | passed | failed | interrupted
    started TEXT NOT NULL,
    ended TEXT,
    controller TEXT NOT NULL,        -- host:pid, to tell a run going on from one whose controller died
    out_dir TEXT NOT NULL,
    settings TEXT NOT NULL           -- JSON: servers, parallel, phone timeout, password file
);
CREATE TABLE IF NOT EXISTS phones (
    run_id TEXT NOT NULL REFERENCES runs(id),
    key TEXT NOT NULL,               -- the phone's identity: ro.serialno, else server/serial
    server TEXT NOT NULL,
    serial TEXT NOT NULL,
    hardware_serial TEXT NOT NULL DEFAULT '',
    label TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    variant TEXT NOT NULL DEFAULT '',
    params TEXT NOT NULL DEFAULT '{}',   -- JSON, plain params only
    password TEXT NOT NULL DEFAULT '{}', -- JSON: {"env": NAME} or {"file": PATH}, never a value
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    start_at INTEGER NOT NULL DEFAULT 1,
    current_step TEXT NOT NULL DEFAULT '',
    started TEXT,
    ended TEXT,
    duration_s REAL,
    exit_code INTEGER,
    error TEXT NOT NULL DEFAULT '',
    run_dir TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, key)
);
CREATE TABLE IF NOT EXISTS steps (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    phone TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    step TEXT NOT NULL,              -- "3", or "5.2" for a nested step
    top INTEGER NOT NULL,            -- the top-level step it belongs to
    description TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    started TEXT NOT NULL,
    ended TEXT,
    error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS steps_by_phone ON steps(run_id, phone, attempt);
"""

_ACCOUNT_TABLES = """
CREATE TABLE IF NOT EXISTS account_deletions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,        -- masked account id: the full id is never stored
    device TEXT NOT NULL,         -- hardware serial (ro.serialno) of the phone that made the last change
    requested_at TEXT,            -- UTC time of the request; NULL when it was not recorded here
    ends_on TEXT,                 -- UTC day the waiting period ends, as Xiaomi's page stated it
    status TEXT NOT NULL CHECK (status IN ('pending', 'cancelled', 'completed')),
    updated_at TEXT NOT NULL      -- UTC time of the last change
);
CREATE INDEX IF NOT EXISTS account_deletions_by_account ON account_deletions (account, status);
"""

MIGRATIONS: tuple[str, ...] = (
    _FLEET_TABLES,    # 0 -> 1: runs, phones, steps
    _ACCOUNT_TABLES,  # 1 -> 2: account_deletions (created on its own by earlier versions, at version 0)
)
SCHEMA_VERSION = len(MIGRATIONS)


def _statements(script: str) -> list[str]:
    """The statements of ``script`` (a ``;`` inside a comment or a string does not end one)."""
    statements, buffer = [], ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip() != ";":
                statements.append(buffer.strip())
            buffer = ""
    return statements


def connect(path: str | os.PathLike[str], *, threads: bool = False) -> sqlite3.Connection:
    """An autocommit connection to the ledger file at ``path`` (created, and migrated, as needed).

    ``threads``: the connection is shared by threads (the caller serialises its use). :class:`UsageError`
    when the file is not a ledger this version can use.
    """
    path = Path(path)
    private_dir(path.parent)
    open_private(path, "ab").close()  # 0600 before sqlite opens it; its -wal/-shm files copy the mode
    try:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=not threads, timeout=BUSY_TIMEOUT_S)
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        _migrate(db, path)
    except sqlite3.DatabaseError as err:
        raise UsageError(f"{path}: not a usable ledger: {err}") from None
    return db


def _migrate(db: sqlite3.Connection, path: Path) -> None:
    """Bring the file to :data:`SCHEMA_VERSION` in one transaction (another process migrating waits, then finds
    nothing left to do)."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise UsageError(f"{path}: ledger written by a newer miui-automator (schema {version})")
        for script in MIGRATIONS[version:]:
            for statement in _statements(script):
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
