"""The Mi account id of a signed-in phone never reaches a file or the terminal in clear: a step failing on
the account page (which shows the id) with a message quoting the phone's own words leaves only the masked
form in the run folder, the reports, stdout/stderr, and for a fleet run the ledger and fleet reports."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from miui_automator.cli.main import main
from miui_automator.sim.state import DEFAULT_ACCOUNT_ID

pytestmark = pytest.mark.integration

MASKED = DEFAULT_ACCOUNT_ID[:2] + "*" * (len(DEFAULT_ACCOUNT_ID) - 4) + DEFAULT_ACCOUNT_ID[-2:]

# fails on the account page (a dump and a screenshot of it are saved) with a message quoting the phone's own
# `dumpsys account` line naming the id; an optional step failing the same way before it reaches the logs
FAIL_ON_ACCOUNT_PAGE = """
name: fail-on-account-page
steps:
  - open: {action: android.settings.XIAOMI_ACCOUNT_SYNC_SETTINGS}
  - wait-for: {screen: account, timeout: 10}
  - shell: {command: "dumpsys account | grep com.xiaomi", save-as: accounts}
  - assert: {param: accounts, equals: "no accounts"}
    optional: true
  - drive:
      until: settings_home
      max-steps: 2
      rules:
        account: {fail: "still signed in: ${accounts}"}
"""


def _files(root: Path) -> list[Path]:
    return [f for f in root.rglob("*") if f.is_file()]


def _assert_clear_of_id(root: Path) -> bytes:
    seen = b""
    for f in _files(root):
        data = f.read_bytes()
        assert DEFAULT_ACCOUNT_ID.encode() not in data, f
        seen += data
    return seen


def test_a_failure_on_the_account_page_shows_the_id_masked(make_phone, tmp_path, capsys):
    dev = make_phone("miui14-en")
    flow = tmp_path / "flow.yaml"
    flow.write_text(FAIL_ON_ACCOUNT_PAGE, encoding="utf-8")
    out = tmp_path / "runs"
    assert main(["run", str(flow), "-s", dev.serial, "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert DEFAULT_ACCOUNT_ID not in captured.out + captured.err
    assert MASKED in captured.out + captured.err, "the failure quotes the phone, masked"
    (run_dir,) = [d for d in out.iterdir() if d.is_dir()]
    names = {f.name for f in _files(run_dir)}
    assert {"events.jsonl", "report.html", "report.json", "junit.xml", "5-failed.xml"} <= names
    written = _assert_clear_of_id(run_dir)
    assert MASKED.encode() in written
    assert MASKED in (run_dir / "screens" / "5-failed.xml").read_text(encoding="utf-8"), "the dump keeps the masked id"
    assert MASKED in (run_dir / "junit.xml").read_text(encoding="utf-8")


def test_a_fleet_run_keeps_the_id_out_of_the_ledger(make_phone, tmp_path, capsys):
    phones = [make_phone("miui14-en"), make_phone("hyperos1-en")]
    flow = tmp_path / "flow.yaml"
    flow.write_text(FAIL_ON_ACCOUNT_PAGE, encoding="utf-8")
    out = tmp_path / "runs"
    args = [a for p in phones for a in ("-s", p.serial)]
    assert main(["fleet", "run", str(flow), *args, "--out", str(out)]) != 0
    captured = capsys.readouterr()
    assert DEFAULT_ACCOUNT_ID not in captured.out + captured.err
    written = _assert_clear_of_id(out)  # every phone's run folder, the fleet reports and the ledger file
    assert MASKED.encode() in written
    with sqlite3.connect(out / "ledger.sqlite3") as db:
        errors = [r[0] for r in db.execute("SELECT error FROM phones")] + [r[0] for r in db.execute("SELECT error FROM steps")]
    assert any(MASKED in (e or "") for e in errors)


def test_inspect_of_the_account_page_saves_and_prints_the_id_masked(make_phone, tmp_path, capsys):
    from miui_automator.device.android import AndroidDevice

    dev = make_phone("hyperos1-en")
    driver = AndroidDevice(dev.serial)
    driver.start(action="android.settings.XIAOMI_ACCOUNT_SYNC_SETTINGS")
    assert DEFAULT_ACCOUNT_ID in driver.hierarchy().source, "the account page shows the id"
    out = tmp_path / "inspect"
    assert main(["inspect", "-s", dev.serial, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert DEFAULT_ACCOUNT_ID not in printed and MASKED in printed
    _assert_clear_of_id(out)
    assert MASKED.encode() in (out / "hierarchy.xml").read_bytes() and MASKED.encode() in (out / "elements.json").read_bytes()
