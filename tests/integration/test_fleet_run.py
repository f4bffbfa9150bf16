"""``miui-automator fleet run`` against simulated phones through the real adb server(s), adbutils and
uiautomator2: many phones at once, two adb servers, and each phone's failure (disconnect, hang, refusal)
staying its own.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import adbutils
import pytest

from miui_automator.cli.main import main
from miui_automator.backup import records
from miui_automator.device.android import AndroidDevice
from miui_automator.fleet.ledger import Ledger
from miui_automator.sim.faults import parse_faults
from miui_automator.sim.host import adb_connect, ensure_adb_server, free_port, kill_adb_server, wait_for_state
from miui_automator.sim.phone import Phone

pytestmark = pytest.mark.integration

VARIANTS = ("miui12.5-en", "miui14-en", "hyperos1-en", "hyperos2-zh")


def fleet(*args: str) -> int:
    return main(["fleet", *args])


def ledger_of(out: Path) -> Ledger:
    return Ledger(out / "ledger.sqlite3")


def serial_args(devices) -> list[str]:
    return [a for d in devices for a in ("-s", d.serial)]


def test_sixteen_mixed_phones_in_one_run(make_phone, tmp_path, capsys):
    phones = [make_phone(VARIANTS[i % 4]) for i in range(16)]
    out = tmp_path / "runs"
    assert fleet("run", "open-account-page", *serial_args(phones), "--parallel", "16", "--out", str(out)) == 0
    stdout = capsys.readouterr().out
    assert "16 phone(s) — 16 passed" in stdout
    ledger = ledger_of(out)
    run = ledger.run()
    rows = ledger.phones(run.id)
    assert {r.serial for r in rows} == {p.serial for p in phones}
    assert {r.status for r in rows} == {"passed"} and {r.variant for r in rows} == set(VARIANTS)
    assert all(ledger.resume_point(run.id, r.key) == 5 for r in rows)  # all 4 top-level steps recorded done
    fleet_dir = Path(run.out_dir)
    suite = ET.parse(fleet_dir / "junit.xml").getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("16", "0", "0")
    index = (fleet_dir / "index.html").read_text()
    for r in rows:
        assert (fleet_dir / r.run_dir / "report.html").exists()
        assert f'href="{r.run_dir}/report.html"' in index
    assert json.loads((fleet_dir / "fleet.json").read_text())["all_passed"] is True


@pytest.fixture
def second_server(sim_host, adb_port):
    """A second real adb server on loopback (a "USB host" sharing its phones), and a way to attach phones to it."""
    port = free_port()
    ensure_adb_server(port, usb=False)
    attached = []

    def attach(variant: str, seed: int):
        dev = sim_host.add_phone(Phone(variant, seed=seed))
        adb_connect(dev.serial, port)
        attached.append(dev)
        return dev

    try:
        yield port, attach
    finally:
        client = adbutils.AdbClient(port=port)
        for dev in attached:
            client.disconnect(dev.serial)
            sim_host.remove_phone(dev)
        kill_adb_server(port)


def test_phones_on_two_adb_servers_in_one_run(make_phone, second_server, tmp_path):
    port2, attach = second_server
    local = make_phone("miui14-en")
    remote = [attach("hyperos2-zh", 101), attach("miui12.5-en", 102)]
    out = tmp_path / "runs"
    server2 = f"127.0.0.1:{port2}"
    assert fleet("run", "open-account-page", "--server", "local", "--server", server2,
                 *serial_args([local, *remote]), "--out", str(out)) == 0
    ledger = ledger_of(out)
    rows = {r.serial: r for r in ledger.phones(ledger.run().id)}
    assert rows[local.serial].server == "local"
    assert {rows[d.serial].server for d in remote} == {server2}
    assert {r.status for r in rows.values()} == {"passed"}

    # The same through an inventory: the remote server listed, its phones taken by a rule, the local one by serial.
    inventory = tmp_path / "devices.yaml"
    inventory.write_text(f"""
servers: [local, "{server2}"]
devices:
  - serial: {local.serial}
    label: bench-local
  - match: {{server: "{server2}", variant: ["hyperos*", "miui12*"]}}
""")
    assert fleet("run", "open-account-page", "--inventory", str(inventory), "--out", str(out)) == 0
    rows = ledger.phones(ledger.run().id)
    assert sorted((r.label, r.server) for r in rows) == sorted([("bench-local", "local"), ("", server2), ("", server2)])


def test_a_phone_unplugged_mid_run_fails_alone_and_resume_completes_it(make_phone, tmp_path, wait_until, adb_port, capsys):
    others = [make_phone(v) for v in ("miui14-en", "hyperos1-en")]
    victim = make_phone("hyperos2-zh", faults=parse_faults("slow=1.5"))
    out = tmp_path / "runs"
    ledger_path = out / "ledger.sqlite3"
    result: list[int] = []
    worker = threading.Thread(target=lambda: result.append(
        fleet("run", "open-account-page", *serial_args([*others, victim]), "--out", str(out))))
    worker.start()

    def victim_in_step_1() -> bool:
        if not ledger_path.exists():
            return False
        try:
            with sqlite3.connect(f"file:{ledger_path}?mode=ro", uri=True, timeout=10) as db:
                return bool(db.execute("SELECT count(*) FROM steps JOIN phones ON phones.key = steps.phone"
                                       " WHERE phones.serial = ? AND steps.step = '1' AND steps.status = 'running'",
                                       (victim.serial,)).fetchone()[0])
        except sqlite3.OperationalError:  # not created yet
            return False

    wait_until(victim_in_step_1, 30, message="victim running step 1")
    victim.stop()  # the cable is pulled while the phone is mid-transition
    worker.join(60)
    assert result == [1]
    ledger = ledger_of(out)
    run_id = ledger.run().id
    rows = {r.serial: r for r in ledger.phones(run_id)}
    assert rows[victim.serial].status == "error" and rows[victim.serial].exit_code == 3
    assert all(rows[o.serial].status == "passed" for o in others)
    capsys.readouterr()

    victim.start()
    wait_for_state(victim.serial, adb_port, "device", 20)
    assert fleet("run", "--resume", run_id, "--out", str(out)) == 0
    rows = {r.serial: r for r in ledger.phones(run_id)}
    assert {r.status for r in rows.values()} == {"passed"}
    assert rows[victim.serial].attempts == 2
    assert all(rows[o.serial].attempts == 1 for o in others)  # the phones that passed were left alone
    assert "resuming flow open-account-page on 1 phone(s)" in capsys.readouterr().out
    assert ledger.run(run_id).status == "passed"


def test_a_hung_phone_times_out_alone(make_phone, tmp_path):
    fine = [make_phone("miui14-en"), make_phone("hyperos1-en")]
    # The stuck phone's first transition outlasts the phone timeout, which fires before the step's own
    # 20 s wait; the timeout leaves the healthy phones room to finish on a loaded CI machine.
    stuck = make_phone("miui12.5-en", faults=parse_faults("slow=40"))
    out = tmp_path / "runs"
    assert fleet("run", "open-account-page", *serial_args([*fine, stuck]), "--phone-timeout", "12", "--out", str(out)) == 1
    ledger = ledger_of(out)
    rows = {r.serial: r for r in ledger.phones(ledger.run().id)}
    assert rows[stuck.serial].status == "timeout" and "phone timeout" in rows[stuck.serial].error
    assert all(rows[p.serial].status == "passed" for p in fine)


def test_missing_phone_and_unreachable_server_fail_the_run_not_the_others(make_phone, tmp_path, capsys):
    phone = make_phone("hyperos1-en")
    out = tmp_path / "runs"
    dead = f"127.0.0.1:{free_port()}"
    code = fleet("run", "open-account-page", "--server", "local", "--server", dead, "-s", phone.serial, "-s", "ghost-serial",
                 "--out", str(out))
    assert code == 1
    captured = capsys.readouterr()
    assert f"adb server {dead} unreachable" in captured.err
    ledger = ledger_of(out)
    rows = {r.serial: r for r in ledger.phones(ledger.run().id)}
    assert rows[phone.serial].status == "passed"
    assert rows["ghost-serial"].status == "missing"


DESTRUCTIVE = """
name: pretend-reset
description: a destructive flow that only looks around
destructive: true
params:
  who: {default: lab}
  password: {secret: true, env: TEST_FLEET_NO_SUCH_VAR}
steps:
  - assert: {param: who, equals: bench}
  - open: {component: com.android.settings/.MainSettings}
    expect: settings_home
"""


def test_destructive_flow_needs_yes_and_passes_the_backup_gate(make_phone, tmp_path, monkeypatch, capsys,
                                                               verified_backup):
    phones = [make_phone("miui14-en"), make_phone("hyperos2-zh")]
    flow = tmp_path / "pretend-reset.yaml"
    flow.write_text(DESTRUCTIVE)
    inventory = tmp_path / "devices.yaml"
    inventory.write_text(f"""
defaults:
  params: {{who: bench}}
  password: {{env: TEST_FLEET_LAB_PW}}
devices:
  - serial: {phones[0].serial}
  - serial: {phones[1].serial}
    password: {{file: pw.txt}}
""")
    (tmp_path / "pw.txt").write_text("from-a-file\n")
    out = tmp_path / "runs"
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert fleet("run", str(flow), "--inventory", str(inventory), "--out", str(out)) == 2
    assert "destructive: pass --yes" in capsys.readouterr().err
    assert not (out / "ledger.sqlite3").exists()  # refused before anything was recorded or run

    monkeypatch.delenv("TEST_FLEET_LAB_PW", raising=False)
    assert fleet("run", str(flow), "--inventory", str(inventory), "--out", str(out), "--yes") == 2
    err = capsys.readouterr().err
    assert f"{inventory}:4: flow pretend-reset needs the password, but $TEST_FLEET_LAB_PW is not set" in err

    monkeypatch.setenv("TEST_FLEET_LAB_PW", "from-env")
    # The real gate: phone 0 has a verified backup on an "external disk" (found through the backup records),
    # phone 1 has none anywhere.
    monkeypatch.setenv("MIUI_AUTOMATOR_BACKUPS", str(tmp_path / "backups"))
    hardware = AndroidDevice(phones[0].serial).info().hardware_serial
    records.remember(verified_backup(tmp_path / "usb-disk", hardware))
    assert fleet("run", str(flow), "--inventory", str(inventory), "--out", str(out), "--yes") == 1
    err = capsys.readouterr().err
    assert f"{phones[1].serial}: refused:" in err
    assert f"{phones[0].serial}: backup gate: verified backup {(tmp_path / 'usb-disk').resolve()}" in err
    ledger = ledger_of(out)
    run = ledger.run()
    rows = {r.serial: r for r in ledger.phones(run.id)}
    assert rows[phones[0].serial].status == "passed"  # the param from the inventory reached the flow
    assert rows[phones[1].serial].status == "refused" and "no verified backup" in rows[phones[1].serial].error
    assert rows[phones[1].serial].exit_code == 2 and rows[phones[1].serial].attempts == 0  # never started
    assert rows[phones[0].serial].password == {"env": "TEST_FLEET_LAB_PW"}
    assert rows[phones[1].serial].password == {"file": str(tmp_path / "pw.txt")}
    everything = (ledger.path.read_bytes() + b"".join(p.read_bytes() for p in Path(run.out_dir).rglob("*") if p.is_file()))
    assert b"from-env" not in everything and b"from-a-file" not in everything


def test_usage_errors_are_one_line_exit_2(capsys, tmp_path):
    assert fleet("run", "open-account-page") == 2
    assert "choose the phones" in capsys.readouterr().err
    assert fleet("run", "open-account-page", "--all", "-s", "x") == 2
    assert fleet("run", "--resume", "latest", "--all", "--out", str(tmp_path)) == 2
    assert fleet("status", "--out", str(tmp_path)) == 2
    assert "no ledger here" in capsys.readouterr().err


def test_sixteen_mixed_phones_reset_in_one_run(make_phone, sim_host, tmp_path, monkeypatch, capsys):
    """The fleet workhorse on a lab's worth of phones: back up, sign out and factory-reset all 16."""
    phones = [make_phone(VARIANTS[i % 4], media_files=4, media_bytes=256 * 1024, keep_adb_after_reset=True)
              for i in range(16)]
    monkeypatch.setenv("MIUI_ACCOUNT_PASSWORD", "demo-password")
    monkeypatch.setenv("MIUI_AUTOMATOR_BACKUPS", str(tmp_path / "backups"))
    out = tmp_path / "runs"
    assert fleet("run", "reset-test-device", *serial_args(phones), "--parallel", "16", "--yes", "--param", "keeps_adb=true",
                 "--out", str(out)) == 0
    assert "16 phone(s) — 16 passed" in capsys.readouterr().out
    for phone in phones:
        assert sim_host.call(lambda: phone.phone.current_screen_name()) == "setup_wizard"
        assert sim_host.call(lambda: phone.phone.state.has_xiaomi_account()) is False
    assert len(list((tmp_path / "backups").glob("*/*/backup-manifest.json"))) == 16


@pytest.mark.parametrize("args", [["run", "--all"], ["watch", "--timeout", "1"]])
def test_account_confirming_flows_are_not_run_as_a_fleet(args, capsys):
    assert fleet(args[0], "request-account-deletion", *args[1:], "--yes") == 2
    err = capsys.readouterr().err
    assert "phone by phone" in err and err.strip().count("\n") == 0
