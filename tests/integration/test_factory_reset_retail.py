"""A factory reset as retail phones do it: USB debugging is wiped with everything else, so the phone leaves
ADB for good once the erase starts. The run passes when the erase was confirmed, "Erasing…" was seen and
the phone then left ADB; a phone that drops off before that is a device error. A build that keeps ADB
(``--param keeps_adb=true``) is waited for and checked fresh, as before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from miui_automator.cli.main import main
from miui_automator.fleet.ledger import Ledger
from miui_automator.sim.screens.settings import FactoryReset

pytestmark = pytest.mark.integration

PASSWORD = "Corr3ct-Horse"


def _run_dir(out: Path) -> Path:
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    return run


def _events(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]


def _state(sim_host, dev) -> tuple:
    return sim_host.call(lambda: (dev.phone.plugged, dev.phone.state.factory_resets, dev.phone.current_screen_name(),
                                  dev.phone.state.adb_enabled))


def _erased_and_gone(sim_host, dev) -> None:
    assert _state(sim_host, dev) == (False, 1, "setup_wizard", False)


@pytest.mark.parametrize("variant", ["miui12.5-en", "hyperos2-zh"])
def test_a_retail_phone_passes_once_erasing_was_seen_and_it_left_adb(variant, make_phone, sim_host, tmp_path):
    dev = make_phone(variant, signed_in=False)
    assert main(["run", "factory-reset", "-s", dev.serial, "--yes", "--no-backup-gate", "--out", str(tmp_path)]) == 0
    _erased_and_gone(sim_host, dev)
    run = _run_dir(tmp_path)
    events = _events(run)
    (end,) = [e for e in events if e["type"] == "run_end"]
    assert end["outcome"] == "passed"
    notes = " ".join(e.get("note") or "" for e in events if e["type"] == "step_done")
    assert "'Erasing…' on screen" in notes and "left ADB" in notes and "setup wizard" in notes
    logs = [e["message"] for e in events if e["type"] == "log"]
    assert any("'Erasing…' is on screen right after the erase was confirmed" in m for m in logs)
    shots = [e["path"] for e in events if e["type"] == "screenshot"]
    assert any("before-erase" in p for p in shots) and all((run / p).exists() for p in shots)
    assert not any("fresh-phone" in p for p in shots), "a retail phone is not seen after the reset"


def test_reset_test_device_on_a_retail_phone(make_phone, sim_host, tmp_path, monkeypatch):
    dev = make_phone("miui14-en", password=PASSWORD, media_files=6, media_bytes=512 * 1024)
    monkeypatch.setenv("MIUI_AUTOMATOR_BACKUPS", str(tmp_path / "backups"))
    monkeypatch.setenv("MIUI_ACCOUNT_PASSWORD", PASSWORD)
    assert main(["run", "reset-test-device", "-s", dev.serial, "--yes", "--out", str(tmp_path / "r")]) == 0
    _erased_and_gone(sim_host, dev)
    assert list((tmp_path / "backups").glob("*/*/backup-manifest.json"))


def test_a_fleet_of_retail_phones_is_recorded_passed(make_phone, sim_host, tmp_path, monkeypatch, capsys):
    phones = [make_phone(v, media_files=3, media_bytes=128 * 1024) for v in ("miui12.5-en", "hyperos1-en", "hyperos2-zh")]
    monkeypatch.setenv("MIUI_ACCOUNT_PASSWORD", "demo-password")
    monkeypatch.setenv("MIUI_AUTOMATOR_BACKUPS", str(tmp_path / "backups"))
    out = tmp_path / "runs"
    serials = [a for d in phones for a in ("-s", d.serial)]
    assert main(["fleet", "run", "reset-test-device", *serials, "--parallel", "3", "--yes", "--out", str(out)]) == 0
    assert "3 phone(s) — 3 passed" in capsys.readouterr().out
    ledger = Ledger(out / "ledger.sqlite3")
    run = ledger.run()
    assert {(r.status, r.exit_code) for r in ledger.phones(run.id)} == {("passed", 0)}
    assert run.status == "passed"
    for dev in phones:
        _erased_and_gone(sim_host, dev)


def test_a_build_that_keeps_adb_is_waited_for_and_checked_fresh(make_phone, sim_host, tmp_path):
    dev = make_phone("hyperos1-en", signed_in=False, keep_adb_after_reset=True)
    assert main(["run", "factory-reset", "-s", dev.serial, "--yes", "--no-backup-gate", "--param", "keeps_adb=true",
                 "--out", str(tmp_path)]) == 0
    assert _state(sim_host, dev) == (True, 1, "setup_wizard", True)
    run = _run_dir(tmp_path)
    assert any("fresh-phone" in e["path"] for e in _events(run) if e["type"] == "screenshot")


def test_a_phone_dropping_off_adb_at_the_final_tap_without_erasing_is_a_device_error(make_phone, sim_host, tmp_path,
                                                                                      monkeypatch, capsys):
    """The phone goes away as the erase is confirmed but never shows "Erasing…" (a cable pulled at that moment):
    whether it is erasing is unknown, so the run must not pass."""
    erase = FactoryReset.on_action

    def drop_instead_of_erasing(self, action, node):
        if action == "confirm_erase":
            self.phone.unplug()
            return
        erase(self, action, node)

    monkeypatch.setattr(FactoryReset, "on_action", drop_instead_of_erasing)
    dev = make_phone("hyperos2-zh", signed_in=False)
    assert main(["run", "factory-reset", "-s", dev.serial, "--yes", "--no-backup-gate", "--out", str(tmp_path)]) == 3
    assert "before 'Erasing…' was seen" in capsys.readouterr().out
    assert sim_host.call(lambda: dev.phone.state.factory_resets) == 0
    (end,) = [e for e in _events(_run_dir(tmp_path)) if e["type"] == "run_end"]
    assert end["outcome"] == "error"


def test_in_a_fleet_a_phone_lost_before_erasing_is_an_error_and_the_others_pass(make_phone, sim_host, tmp_path,
                                                                               monkeypatch, capsys):
    fine, victim = make_phone("miui14-en", signed_in=False), make_phone("hyperos1-en", signed_in=False)
    erase = FactoryReset.on_action

    def victim_drops(self, action, node):
        if action == "confirm_erase" and self.phone is victim.phone:
            self.phone.unplug()
            return
        erase(self, action, node)

    monkeypatch.setattr(FactoryReset, "on_action", victim_drops)
    out = tmp_path / "runs"
    assert main(["fleet", "run", "factory-reset", "-s", fine.serial, "-s", victim.serial, "--yes", "--no-backup-gate",
                 "--out", str(out)]) == 1
    ledger = Ledger(out / "ledger.sqlite3")
    rows = {r.serial: r for r in ledger.phones(ledger.run().id)}
    assert (rows[fine.serial].status, rows[fine.serial].exit_code) == ("passed", 0)
    assert (rows[victim.serial].status, rows[victim.serial].exit_code) == ("error", 3)
    assert "before 'Erasing…' was seen" in rows[victim.serial].error
    _erased_and_gone(sim_host, fine)
    assert sim_host.call(lambda: victim.phone.state.factory_resets) == 0
