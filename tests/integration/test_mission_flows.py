"""The mission flows on every simulated variant, through the CLI a user runs."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from miui_automator.cli.main import main
from miui_automator.sim.faults import parse_faults

pytestmark = pytest.mark.integration

VARIANTS = ["miui12.5-en", "miui14-en", "hyperos1-en", "hyperos2-zh"]
PASSWORD = "Corr3ct-Horse"


def _run_dir(out: Path) -> Path:
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    return run


def _events(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]


def _no_password_anywhere(run: Path, history: list[str]) -> None:
    for f in run.rglob("*"):
        if f.is_file():
            assert PASSWORD.encode() not in f.read_bytes(), f"password found in {f}"
    assert not any(PASSWORD in cmd for cmd in history), "password reached a command line on the phone"


@pytest.mark.parametrize("variant", VARIANTS)
def test_remove_mi_account(variant, make_phone, sim_host, tmp_path, monkeypatch, capsys):
    dev = make_phone(variant, password=PASSWORD)
    monkeypatch.setenv("MIUI_ACCOUNT_PASSWORD", PASSWORD)
    code = main(["run", "remove-mi-account", "-s", dev.serial, "--yes", "--no-backup-gate", "--out", str(tmp_path)])
    assert code == 0, capsys.readouterr().err
    assert sim_host.call(lambda: dev.phone.state.has_xiaomi_account()) is False
    run = _run_dir(tmp_path)
    events = _events(run)
    logs = [e["message"] for e in events if e["type"] == "log"]
    assert any("com.google" in m for m in logs) and any("com.xiaomi" in m for m in logs), "every account listed first"
    shots = [e for e in events if e["type"] == "screenshot" and "signed-out-entry" in e["path"]]
    assert shots and (run / shots[0]["path"]).exists()
    _no_password_anywhere(run, sim_host.call(lambda: list(dev.phone.state.shell_history)))
    for f in run.rglob("*"):  # the owner's other accounts appear masked only
        assert f.is_dir() or not re.search(rb"owner\d+@gmail\.com", f.read_bytes()), f


def test_remove_synced_data(make_phone, sim_host, tmp_path, monkeypatch):
    dev = make_phone("miui14-en", password=PASSWORD)
    monkeypatch.setenv("MIUI_ACCOUNT_PASSWORD", PASSWORD)
    assert main(["run", "remove-mi-account", "-s", dev.serial, "--yes", "--no-backup-gate", "--param", "synced_data=remove",
                 "--out", str(tmp_path)]) == 0
    assert sim_host.call(lambda: dev.phone.state.contacts) == []


def test_password_from_file(make_phone, sim_host, tmp_path, monkeypatch):
    dev = make_phone("hyperos2-zh", password=PASSWORD)
    monkeypatch.delenv("MIUI_ACCOUNT_PASSWORD", raising=False)
    secret = tmp_path / "pw.txt"
    secret.write_text(PASSWORD + "\n")
    out = tmp_path / "out"
    assert main(["run", "remove-mi-account", "-s", dev.serial, "--yes", "--no-backup-gate", "--password-file", str(secret),
                 "--out", str(out)]) == 0
    assert sim_host.call(lambda: dev.phone.state.has_xiaomi_account()) is False


def test_wrong_password_keeps_the_account(make_phone, sim_host, tmp_path, monkeypatch, capsys):
    dev = make_phone("hyperos1-en", password=PASSWORD)
    monkeypatch.setenv("MIUI_ACCOUNT_PASSWORD", "not-the-password")
    assert main(["run", "remove-mi-account", "-s", dev.serial, "--yes", "--no-backup-gate", "--out", str(tmp_path)]) == 1
    assert "password was not accepted" in capsys.readouterr().out
    assert sim_host.call(lambda: dev.phone.state.has_xiaomi_account()) is True


def test_recent_password_change_blocks_sign_out(make_phone, sim_host, tmp_path, monkeypatch, capsys):
    dev = make_phone("miui12.5-en", password=PASSWORD)
    sim_host.call(lambda: setattr(dev.phone.state, "password_changed_recently", True))
    monkeypatch.setenv("MIUI_ACCOUNT_PASSWORD", PASSWORD)
    assert main(["run", "remove-mi-account", "-s", dev.serial, "--yes", "--no-backup-gate", "--out", str(tmp_path)]) == 1
    assert "changed in the last 3 days" in capsys.readouterr().out
    assert sim_host.call(lambda: dev.phone.state.has_xiaomi_account()) is True


def test_already_signed_out_is_nothing_to_do(make_phone, tmp_path):
    dev = make_phone("miui14-en", signed_in=False)
    assert main(["run", "remove-mi-account", "-s", dev.serial, "--yes", "--no-backup-gate", "--out", str(tmp_path)]) == 0
    notes = [e.get("note") or "" for e in _events(_run_dir(tmp_path)) if e["type"] == "step_done"]
    assert any("nothing to do" in n for n in notes)


def test_destructive_flow_needs_yes_when_unattended(make_phone, tmp_path, capsys):
    dev = make_phone("hyperos1-en")
    assert main(["run", "remove-mi-account", "-s", dev.serial, "--no-backup-gate", "--out", str(tmp_path)]) == 2
    assert "--yes" in capsys.readouterr().err
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_gate_refuses_without_a_verified_backup(make_phone, sim_host, tmp_path, monkeypatch, capsys):
    dev = make_phone("hyperos1-en")
    monkeypatch.setenv("MIUI_AUTOMATOR_BACKUPS", str(tmp_path / "no-backups-here"))
    before = sim_host.call(lambda: dev.phone.input_events)
    assert main(["run", "remove-mi-account", "-s", dev.serial, "--yes", "--out", str(tmp_path / "runs")]) == 2
    assert "no verified backup" in capsys.readouterr().err
    assert sim_host.call(lambda: dev.phone.input_events) == before


@pytest.mark.parametrize("variant", VARIANTS)
def test_factory_reset_comes_back_fresh(variant, make_phone, sim_host, tmp_path):
    dev = make_phone(variant, signed_in=False, keep_adb_after_reset=True)  # retail phones: test_factory_reset_retail.py
    assert main(["run", "factory-reset", "-s", dev.serial, "--yes", "--no-backup-gate", "--param", "keeps_adb=true",
                 "--out", str(tmp_path)]) == 0
    assert sim_host.call(lambda: dev.phone.current_screen_name()) == "setup_wizard"
    assert sim_host.call(lambda: dev.phone.state.fs.usage("/sdcard/DCIM")) == 0


def test_factory_reset_refuses_while_signed_in(make_phone, sim_host, tmp_path, capsys):
    dev = make_phone("miui14-en")
    assert main(["run", "factory-reset", "-s", dev.serial, "--yes", "--no-backup-gate", "--out", str(tmp_path)]) == 1
    assert "no Mi account is signed in" in capsys.readouterr().out
    assert sim_host.call(lambda: dev.phone.current_screen_name()) != "setup_wizard"


def test_verify_account_removed_is_read_only(make_phone, sim_host, tmp_path):
    dev = make_phone("hyperos2-zh")
    before = sim_host.call(lambda: dev.phone.input_events)
    assert main(["run", "verify-account-removed", "-s", dev.serial, "--out", str(tmp_path)]) == 1
    signed_out = make_phone("hyperos2-zh", signed_in=False)
    assert main(["run", "verify-account-removed", "-s", signed_out.serial, "--out", str(tmp_path / "2")]) == 0
    assert sim_host.call(lambda: dev.phone.input_events) == before


@pytest.mark.parametrize("variant", VARIANTS)
def test_backup_then_gated_sign_out(variant, make_phone, sim_host, tmp_path, monkeypatch):
    dev = make_phone(variant, password=PASSWORD, media_files=12, media_bytes=3 * 1024 * 1024)
    monkeypatch.setenv("MIUI_AUTOMATOR_BACKUPS", str(tmp_path / "backups"))
    monkeypatch.setenv("MIUI_ACCOUNT_PASSWORD", PASSWORD)
    assert main(["run", "backup", "-s", dev.serial, "--out", str(tmp_path / "b")]) == 0
    (backup,) = [p for p in (tmp_path / "backups").glob("*/*") if p.is_dir()]
    manifest = json.loads((backup / "backup-manifest.json").read_text())
    assert len(manifest["files"]) >= 12
    assert main(["backup", "verify", str(backup)]) == 0
    # the gate is satisfied by that backup: no --no-backup-gate
    assert main(["run", "remove-mi-account", "-s", dev.serial, "--yes", "--out", str(tmp_path / "r")]) == 0
    assert sim_host.call(lambda: dev.phone.state.has_xiaomi_account()) is False


def test_a_backup_on_an_external_disk_satisfies_the_gate(make_phone, sim_host, tmp_path, monkeypatch, capsys):
    """``--param backup_dir=`` anywhere (an external disk): the backup is recorded, and the gate finds it there."""
    dev = make_phone("hyperos1-en", password=PASSWORD, media_files=4, media_bytes=256 * 1024)
    monkeypatch.setenv("MIUI_AUTOMATOR_BACKUPS", str(tmp_path / "backups"))  # ./backups stays empty
    monkeypatch.setenv("MIUI_ACCOUNT_PASSWORD", PASSWORD)
    usb = tmp_path / "media" / "usb" / "backups"
    assert main(["run", "backup", "-s", dev.serial, "--param", f"backup_dir={usb}", "--param", "miui_backup=false",
                 "--out", str(tmp_path / "b")]) == 0
    (manifest,) = usb.glob("*/*/backup-manifest.json")
    assert not (tmp_path / "backups").exists()
    capsys.readouterr()
    assert main(["run", "remove-mi-account", "-s", dev.serial, "--yes", "--out", str(tmp_path / "r")]) == 0
    assert f"backup gate: verified backup {manifest.parent.resolve()} (recorded " in capsys.readouterr().err
    assert sim_host.call(lambda: dev.phone.state.has_xiaomi_account()) is False


@pytest.mark.parametrize("spec", ["popup=2", "update=3", "slow=0.4", "u2crash=20"])
def test_flows_survive_faults(spec, make_phone, sim_host, tmp_path, monkeypatch):
    dev = make_phone("miui14-en", password=PASSWORD, media_files=8, media_bytes=1024 * 1024,
                     faults=parse_faults(spec))
    monkeypatch.setenv("MIUI_AUTOMATOR_BACKUPS", str(tmp_path / "backups"))
    monkeypatch.setenv("MIUI_ACCOUNT_PASSWORD", PASSWORD)
    assert main(["run", "backup", "-s", dev.serial, "--out", str(tmp_path / "b")]) == 0
    assert main(["run", "remove-mi-account", "-s", dev.serial, "--yes", "--out", str(tmp_path / "r")]) == 0
    assert sim_host.call(lambda: dev.phone.state.has_xiaomi_account()) is False


@pytest.mark.parametrize("variant", ["miui12.5-en", "hyperos2-zh"])
def test_reset_test_device(variant, make_phone, sim_host, tmp_path, monkeypatch):
    dev = make_phone(variant, password=PASSWORD, media_files=8, media_bytes=1024 * 1024, keep_adb_after_reset=True)
    monkeypatch.setenv("MIUI_AUTOMATOR_BACKUPS", str(tmp_path / "backups"))
    monkeypatch.setenv("MIUI_ACCOUNT_PASSWORD", PASSWORD)
    assert main(["run", "reset-test-device", "-s", dev.serial, "--yes", "--param", "keeps_adb=true",
                 "--out", str(tmp_path / "r")]) == 0
    assert sim_host.call(lambda: dev.phone.current_screen_name()) == "setup_wizard"
    assert list((tmp_path / "backups").glob("*/*/backup-manifest.json"))
    _no_password_anywhere(_run_dir(tmp_path / "r"), sim_host.call(lambda: list(dev.phone.state.shell_history)))


def test_demo_runs_end_to_end(tmp_path, capsys, monkeypatch, adb_port):
    import adbutils

    from miui_automator.sim.host import adb_server_alive

    monkeypatch.chdir(tmp_path)
    before = os.environ.get("ANDROID_ADB_SERVER_PORT"), os.environ.get("MIUI_AUTOMATOR_BACKUPS"), adbutils.adb
    servers = set()
    real_ensure = __import__("miui_automator.sim.host", fromlist=["ensure_adb_server"]).ensure_adb_server

    def spy(port=None, **kw):
        servers.add(port)
        return real_ensure(port, **kw)

    monkeypatch.setattr("miui_automator.sim.host.ensure_adb_server", spy)
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 0
    # the demo leaves this process's adb settings as it found them, and its private server stopped
    assert (os.environ.get("ANDROID_ADB_SERVER_PORT"), os.environ.get("MIUI_AUTOMATOR_BACKUPS"), adbutils.adb) == before
    assert servers and all(port != adb_port and not adb_server_alive(port) for port in servers)
    out = capsys.readouterr().out
    assert "backup             passed" in out and "remove-mi-account  passed" in out and "now: none" in out
    assert len(list((tmp_path / "demo" / "runs").glob("*/report.html"))) == 2
    (backup,) = (tmp_path / "demo" / "backups").glob("*/*/backup-manifest.json")
    assert f"backup gate: verified backup {backup.parent.resolve()}" in out  # the demo is gated like any run
    assert (tmp_path / "demo" / "backups.jsonl").exists()  # its records stay in its folder
