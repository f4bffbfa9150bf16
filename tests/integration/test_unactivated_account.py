"""A phone holding an unactivated Mi account (``com.xiaomi.unactivated``): it is still a Xiaomi account
bound to the phone, so every flow that asks "is a Mi account on the phone?" answers yes — the sign-out's
entry and done conditions, verify-account-removed and the factory reset's precondition alike."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from miui_automator.cli.main import main

pytestmark = pytest.mark.integration

PASSWORD = "Corr3ct-Horse"
XIAOMI_TYPES = ("com.xiaomi", "com.xiaomi.unactivated")


def _xiaomi_accounts(sim_host, dev) -> list[str]:
    return sim_host.call(lambda: [a.type for a in dev.phone.state.accounts if a.type in XIAOMI_TYPES])


def _events(out: Path) -> list[dict]:
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    return [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]


def test_verify_account_removed_fails_while_an_unactivated_account_is_on_the_phone(make_phone, sim_host, tmp_path,
                                                                                   capsys):
    dev = make_phone("hyperos2-zh", signed_in=False, unactivated_account=True)
    assert main(["run", "verify-account-removed", "-s", dev.serial, "--out", str(tmp_path)]) == 1
    assert "no Mi account (signed in or unactivated)" in capsys.readouterr().out
    assert _xiaomi_accounts(sim_host, dev) == ["com.xiaomi.unactivated"]


def test_sign_out_removes_a_signed_in_and_an_unactivated_account_and_verifies_both_gone(make_phone, sim_host,
                                                                                        tmp_path, monkeypatch):
    dev = make_phone("miui14-en", password=PASSWORD, unactivated_account=True)
    monkeypatch.setenv("MIUI_ACCOUNT_PASSWORD", PASSWORD)
    assert main(["run", "remove-mi-account", "-s", dev.serial, "--yes", "--no-backup-gate", "--out", str(tmp_path)]) == 0
    assert _xiaomi_accounts(sim_host, dev) == []
    done = [e for e in _events(tmp_path) if e["type"] == "step_done"]
    assert any("0 Mi account(s) on the phone" in (e.get("note") or "") for e in done), "done-condition checked"


def test_sign_out_of_a_phone_holding_only_an_unactivated_account_fails_saying_so(make_phone, sim_host, tmp_path,
                                                                                 capsys):
    """The entry condition sees the account; Settings offers only "Sign in", so there is nothing to sign out and
    the run must not end as if the phone were clean."""
    dev = make_phone("hyperos1-en", signed_in=False, unactivated_account=True)
    assert main(["run", "remove-mi-account", "-s", dev.serial, "--yes", "--no-backup-gate", "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "only an unactivated Mi account" in out and "nothing to do" not in out
    assert _xiaomi_accounts(sim_host, dev) == ["com.xiaomi.unactivated"]


def test_factory_reset_refuses_a_phone_holding_an_unactivated_account(make_phone, sim_host, tmp_path, capsys):
    dev = make_phone("miui12.5-en", signed_in=False, unactivated_account=True, keep_adb_after_reset=True)
    assert main(["run", "factory-reset", "-s", dev.serial, "--yes", "--no-backup-gate", "--out", str(tmp_path)]) == 1
    assert "no Mi account is signed in" in capsys.readouterr().out
    assert sim_host.call(lambda: dev.phone.state.factory_resets) == 0
