"""The ledger file both ledgers share: one schema version, migrations that bring older files up to it."""

from __future__ import annotations

import sqlite3

import pytest

from miui_automator import ledger_file
from miui_automator.account.ledger import DeletionLedger
from miui_automator.errors import UsageError
from miui_automator.fleet.ledger import Ledger


def tables(path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def version(path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute("PRAGMA user_version").fetchone()[0]


@pytest.mark.parametrize("opener", [Ledger, DeletionLedger])
def test_either_ledger_creates_the_whole_schema_at_the_current_version(tmp_path, opener):
    path = tmp_path / "ledger.sqlite3"
    opener(path).close()
    assert {"runs", "phones", "steps", "account_deletions"} <= tables(path)
    assert version(path) == ledger_file.SCHEMA_VERSION == 2


def test_a_fleet_file_of_version_1_gains_the_account_table(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    with sqlite3.connect(path) as db:
        for statement in ledger_file._statements(ledger_file.MIGRATIONS[0]):
            db.execute(statement)
        db.execute("INSERT INTO runs VALUES ('r1','run','f','f','d',1,0,'passed','t',NULL,'h:1','o','{}')")
        db.execute("PRAGMA user_version = 1")
    with DeletionLedger(path) as ledger:
        assert ledger.entries() == []
    assert "account_deletions" in tables(path) and version(path) == 2
    assert Ledger(path).run("r1").status == "passed"  # the fleet's rows are untouched


def test_an_account_only_file_of_version_0_gains_the_fleet_tables(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    with sqlite3.connect(path) as db:
        for statement in ledger_file._statements(ledger_file.MIGRATIONS[1]):
            db.execute(statement)
        db.execute("INSERT INTO account_deletions (account, device, status, updated_at) "
                   "VALUES ('12******90', 'hw', 'pending', '2026-01-01T00:00:00+00:00')")
    Ledger(path).close()
    assert {"runs", "phones", "steps"} <= tables(path) and version(path) == 2
    with DeletionLedger(path) as ledger:
        assert [e.account for e in ledger.entries()] == ["12******90"]


def test_a_file_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    for opener in (Ledger, DeletionLedger):
        with pytest.raises(UsageError, match="newer miui-automator"):
            opener(path)


def test_a_file_that_is_not_sqlite_is_one_usage_error(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(UsageError, match="not a usable ledger"):
        DeletionLedger(path)


def test_a_semicolon_in_a_comment_does_not_split_a_statement():
    assert ledger_file._statements("CREATE TABLE t (a TEXT -- one; two\n);\nCREATE INDEX i ON t (a);\n") == [
        "CREATE TABLE t (a TEXT -- one; two\n);", "CREATE INDEX i ON t (a);"]
