"""``miui-automator account status``: pending deletions first with the days left, then cancelled and
completed ones; JSON for scripts; a missing ledger is not an error."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from miui_automator.account.ledger import DeletionLedger
from miui_automator.cli.main import main


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.sqlite3"
    today = datetime.now(timezone.utc).date()  # the command counts days from today, UTC like the page's dates
    with DeletionLedger(path) as led:
        led.requested("5550001111", "phone-a", today + timedelta(days=12))
        led.cancelled("5550001111", "phone-a")
        led.requested("1234567890", "phone-b", today + timedelta(days=30))
        led.requested("9998887777", "phone-c", today - timedelta(days=1))
        led.requested("4443332222", "phone-d", today + timedelta(days=3))
        led.completed("4443332222", "phone-d")
    return path


def test_status_lists_pending_first_with_days_left(ledger: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["account", "status", "--ledger", str(ledger)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["account", "device", "requested"]
    body = lines[1:]
    assert [line.split()[0] for line in body] == ["99******77", "12******90", "55******11", "44******22"]
    assert body[0].endswith("pending, waiting period over: run verify-account-deleted")
    assert body[1].endswith("pending, 30 days left to cancel") and "phone-b" in body[1]
    assert body[2].endswith("cancelled") and body[3].endswith("deleted (verified)")
    assert "1234567890" not in "\n".join(lines)


def test_status_json(ledger: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["account", "status", "--ledger", str(ledger), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["account"], r["status"], r["days_left"]) for r in rows] == [
        ("99******77", "pending", -1), ("12******90", "pending", 30), ("55******11", "cancelled", None),
        ("44******22", "completed", None)]
    assert rows[1]["ends_on"] == (datetime.now(timezone.utc).date() + timedelta(days=30)).isoformat() and rows[1]["device"] == "phone-b"


def test_status_without_a_ledger_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("MIUI_AUTOMATOR_LEDGER", str(tmp_path / "none.sqlite3"))
    assert main(["account", "status"]) == 0
    assert "no account deletions recorded" in capsys.readouterr().out
    assert not (tmp_path / "none.sqlite3").exists(), "reading the status creates no ledger"
