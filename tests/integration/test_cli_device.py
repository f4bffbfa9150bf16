"""`devices`, `inspect`, `report` and refused input, as a user meets them."""

from __future__ import annotations

import json

import pytest

from miui_automator.cli.main import main
from miui_automator.device.android import AndroidDevice
from miui_automator import run

pytestmark = pytest.mark.integration


def test_devices_json_lists_every_phone(make_phone, capsys):
    a = make_phone("miui12.5-en")
    b = make_phone("hyperos2-zh", signed_in=False)
    assert main(["devices", "--json"]) == 0
    rows = {r["serial"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows[a.serial]["os_label"].startswith("MIUI 12.5") and rows[a.serial]["mi_account"] == "12******90"
    assert rows[b.serial]["os_family"] == "HyperOS" and rows[b.serial]["mi_account"] is None
    assert rows[b.serial]["locale"] == "zh-CN"


def test_inspect_saves_and_identifies(make_phone, tmp_path, capsys):
    dev = make_phone("miui14-en")
    AndroidDevice(dev.serial).start(action="android.settings.XIAOMI_ACCOUNT_SYNC_SETTINGS")
    assert main(["inspect", "-s", dev.serial, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "screen   account" in out and "com.xiaomi.account:id/logout_btn" not in out or "account" in out
    assert (tmp_path / "screenshot.png").stat().st_size > 10_000
    assert (tmp_path / "hierarchy.xml").read_text().startswith("<?xml")
    assert any(e.get("text") == "Xiaomi Account" for e in json.loads((tmp_path / "elements.json").read_text()))


def test_report_rerenders_from_events(make_phone, tmp_path, capsys):
    dev = make_phone("hyperos1-en")
    assert main(["run", "open-account-page", "-s", dev.serial, "--out", str(tmp_path)]) == 0
    (run_dir,) = list(tmp_path.iterdir())
    (run_dir / "report.html").unlink()
    assert main(["report", str(run_dir)]) == 0
    html = (run_dir / "report.html").read_text()
    assert "open-account-page" in html and "data:image/jpeg;base64," in html


def test_refused_input_mid_run_fails_with_the_fix(make_phone, sim_host, tmp_path):
    dev = make_phone("miui14-en")
    driver = AndroidDevice(dev.serial)
    info = driver.info()  # preflight passes: the gate is on
    sim_host.call(lambda: dev.phone.state.props.__setitem__("persist.security.adbinput", "0"))
    outcome = run.execute(run.RunPlan(run.load("open-account-page"), info), driver, run_dir=tmp_path / "r")
    assert outcome.result.exit_code == 3
    assert "USB debugging (Security settings)" in outcome.result.error


def test_report_of_a_missing_folder_is_one_line(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
