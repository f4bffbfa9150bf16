"""Account deletion on every simulated variant, through the CLI a user runs: request (typed or
--confirm-account confirmation), `account status`, cancel, verify after the simulated 30 days, a wrong
password, pages the flows do not know, and the refusals before anything is touched."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import pytest

from miui_automator.account.ledger import DeletionLedger
from miui_automator.cli.main import main

pytestmark = pytest.mark.integration

VARIANTS = ["miui12.5-en", "miui14-en", "hyperos1-en", "hyperos2-zh"]
PASSWORD = "Corr3ct-Horse"
ACCOUNT = "1234567890"  # the simulated phone's default Mi account
MASKED = "12******90"


class _Terminal:
    """stdin of a person at a terminal (nothing is read from it: click.prompt is replaced)."""

    def isatty(self) -> bool:
        return True

    def readline(self) -> str:
        return ""


@pytest.fixture
def ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "ledger.sqlite3"
    monkeypatch.setenv("MIUI_AUTOMATOR_LEDGER", str(path))
    monkeypatch.setenv("MIUI_ACCOUNT_PASSWORD", PASSWORD)
    return path


def _run_dir(out: Path) -> Path:
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    return run


def _events(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]


def _evidence(run: Path, name: str) -> Path:
    shots = [e for e in _events(run) if e["type"] == "screenshot" and f"evidence-{name}" in e["path"]]
    assert shots, f"no {name} screenshot in {run}"
    path = run / shots[0]["path"]
    assert path.stat().st_size > 10_000
    return path


def _entries(path: Path):
    with DeletionLedger(path) as ledger:
        return ledger.entries()


def _request(serial: str, out: Path, *extra: str) -> int:
    return main(["run", "request-account-deletion", "-s", serial, "--yes", "--no-backup-gate", *extra, "--out", str(out)])


def _status(capsys: pytest.CaptureFixture) -> str:
    capsys.readouterr()
    assert main(["account", "status"]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("variant", VARIANTS)
def test_request_typed_confirmation_status_and_cancel(variant, make_phone, sim_host, ledger, tmp_path, monkeypatch, capsys):
    dev = make_phone(variant, password=PASSWORD)
    server = dev.phone.account_server
    prompts: list[str] = []

    def typed(prompt: str, **kwargs) -> str:
        prompts.append(prompt)
        assert kwargs.get("hide_input") is True
        return ACCOUNT

    with monkeypatch.context() as terminal:
        terminal.setattr(sys, "stdin", _Terminal())
        terminal.setattr(click, "prompt", typed)
        assert _request(dev.serial, tmp_path / "request") == 0, capsys.readouterr()
    assert len(prompts) == 1 and MASKED in prompts[0] and ACCOUNT not in prompts[0]

    assert sim_host.call(lambda: server.status(ACCOUNT)) == "pending"
    ends_on = sim_host.call(lambda: server.deletion_date(ACCOUNT))
    run = _run_dir(tmp_path / "request")
    _evidence(run, "deletion-consequences")
    _evidence(run, "deletion-requested")
    (entry,) = _entries(ledger)
    serial_no = sim_host.call(lambda: dev.phone.state.props["ro.serialno"])
    assert (entry.account, entry.device, entry.status, entry.ends_on) == (MASKED, serial_no, "pending", ends_on)
    assert entry.requested_at is not None
    out = _status(capsys)
    assert MASKED in out and serial_no in out and ends_on.isoformat() in out and "30 days left to cancel" in out

    assert main(["run", "cancel-account-deletion", "-s", dev.serial, "--param", f"account={ACCOUNT}",
                 "--out", str(tmp_path / "cancel")]) == 0, capsys.readouterr()
    assert sim_host.call(lambda: server.status(ACCOUNT)) == "active"
    _evidence(_run_dir(tmp_path / "cancel"), "deletion-pending")
    _evidence(_run_dir(tmp_path / "cancel"), "deletion-cancelled")
    assert [e.status for e in _entries(ledger)] == ["cancelled"]
    assert "cancelled" in _status(capsys)

    for f in [*tmp_path.rglob("*"), ledger]:
        if f.is_file():
            assert PASSWORD.encode() not in f.read_bytes(), f"password found in {f}"
    assert ACCOUNT.encode() not in ledger.read_bytes() and ACCOUNT not in str(_entries(ledger))
    history = sim_host.call(lambda: list(dev.phone.state.shell_history))
    assert not any(PASSWORD in cmd for cmd in history), "password reached a command line on the phone"
    assert any("-d 'https://account.xiaomi.com/pass/del?_locale=en_US'" in cmd for cmd in history)  # quoted: ? is a glob


@pytest.mark.parametrize("variant", VARIANTS)
def test_verify_after_the_waiting_period(variant, make_phone, sim_host, ledger, tmp_path, capsys):
    dev = make_phone(variant, password=PASSWORD)
    server = dev.phone.account_server
    assert _request(dev.serial, tmp_path / "request", "--confirm-account", ACCOUNT) == 0, capsys.readouterr()

    verify = ["run", "verify-account-deleted", "-s", dev.serial, "--param", f"account={ACCOUNT}"]
    assert main([*verify, "--out", str(tmp_path / "too-early")]) == 1
    assert "not deleted yet" in capsys.readouterr().out
    assert [e.status for e in _entries(ledger)] == ["pending"]

    sim_host.call(lambda: dev.phone.advance_time(days=30))
    assert sim_host.call(lambda: server.status(ACCOUNT)) == "deleted"
    assert main([*verify, "--out", str(tmp_path / "verify")]) == 0, capsys.readouterr()
    _evidence(_run_dir(tmp_path / "verify"), "account-deleted")
    (entry,) = _entries(ledger)
    assert entry.status == "completed" and entry.account == MASKED
    assert "deleted (verified)" in _status(capsys)


@pytest.mark.parametrize("variant", VARIANTS)
def test_wrong_password_requests_nothing(variant, make_phone, sim_host, ledger, tmp_path, monkeypatch, capsys):
    dev = make_phone(variant, password=PASSWORD)
    monkeypatch.setenv("MIUI_ACCOUNT_PASSWORD", "not-the-password")
    assert _request(dev.serial, tmp_path, "--confirm-account", ACCOUNT) == 1
    assert "did not accept the account id or password" in capsys.readouterr().out
    assert sim_host.call(lambda: dev.phone.account_server.status(ACCOUNT)) == "active"
    assert sim_host.call(lambda: dev.phone.current_screen_name()) == "web_signin_failed"
    assert not ledger.exists() or _entries(ledger) == []


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("change", ["sms_check", "waiting_days"])
def test_unknown_page_stops_without_tapping(variant, change, make_phone, sim_host, ledger, tmp_path, capsys):
    """An extra SMS check, or a consequences page that no longer says 30 days: the flow stops on it."""
    dev = make_phone(variant, password=PASSWORD)
    server = dev.phone.account_server
    sim_host.call(lambda: setattr(server, *(("sms_check", True) if change == "sms_check" else ("waiting_days", 15))))
    assert _request(dev.serial, tmp_path, "--confirm-account", ACCOUNT) == 1
    assert "a page this flow does not know" in capsys.readouterr().out
    browser = sim_host.call(lambda: dev.phone.top)
    page = "sms_check" if change == "sms_check" else "consequences"
    seen = sim_host.call(lambda: (browser.page, browser.agreed, browser.focus, "code" in browser.typed))
    assert seen == (page, False, None, False), "nothing on the unknown page was ticked, focused or typed into"
    assert sim_host.call(lambda: server.status(ACCOUNT)) == "active"
    (failed,) = [e for e in _events(_run_dir(tmp_path)) if e["type"] == "step_failed" and "." not in e["step"]]
    assert failed["screen_seen"] == "web_page_unknown" and (_run_dir(tmp_path) / failed["screenshot_path"]).exists()
    assert not ledger.exists() or _entries(ledger) == []


@pytest.mark.parametrize("variant", VARIANTS)
def test_refused_without_confirmation(variant, make_phone, sim_host, ledger, tmp_path, monkeypatch, capsys):
    dev = make_phone(variant, password=PASSWORD)
    before = sim_host.call(lambda: dev.phone.input_events)
    base = ["run", "request-account-deletion", "-s", dev.serial, "--out", str(tmp_path / "runs")]
    refusals = [
        ([*base, "--no-backup-gate", "--confirm-account", ACCOUNT], "--yes"),
        ([*base, "--no-backup-gate", "--yes"], "--confirm-account"),
        ([*base, "--no-backup-gate", "--yes", "--confirm-account", "1234567891"], "is not the account"),
        ([*base, "--no-backup-gate", "--yes", "--confirm-account", ACCOUNT, "--param", "account=9876543210"],
         "is not the account"),
    ]
    for argv, reason in refusals:
        assert main(argv) == 2, argv
        assert reason in capsys.readouterr().err, argv
    with monkeypatch.context() as terminal:
        terminal.setattr(sys, "stdin", _Terminal())
        terminal.setattr(click, "prompt", lambda prompt, **kw: MASKED)  # the masked form is not the id
        assert main([*base, "--no-backup-gate", "--yes"]) == 2
    assert "the account id typed is not 12******90" in capsys.readouterr().err
    monkeypatch.setenv("MIUI_AUTOMATOR_BACKUPS", str(tmp_path / "no-backups-here"))
    assert main([*base, "--yes", "--confirm-account", ACCOUNT]) == 2
    assert "no verified backup" in capsys.readouterr().err
    assert sim_host.call(lambda: dev.phone.input_events) == before
    assert sim_host.call(lambda: dev.phone.account_server.status(ACCOUNT)) == "active"
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
    assert not ledger.exists()
