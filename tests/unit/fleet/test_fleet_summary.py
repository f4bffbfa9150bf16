"""The fleet report and summary, rendered from the ledger alone; the plain (non-terminal) view."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from miui_automator.fleet.ledger import FAILED, STEP_DONE, STEP_FAILED, Ledger
from miui_automator.fleet.summary import render_fleet, summarize
from miui_automator.fleet.view import FleetView, format_table, summary_text


def fill(tmp_path: Path) -> tuple[Ledger, str]:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    run_id = ledger.new_run(mode="run", flow="demo", flow_ref="demo", flow_digest="d", top_steps=3, destructive=True,
                            out_base=str(tmp_path), settings={})
    out = Path(ledger.run(run_id).out_dir)
    cases = [("hw1", "passed", 0, ""), ("hw2", "failed", 1, "expected screen account <b>"), ("hw3", "timeout", 3, "no result"),
             ("hw4", "missing", 3, "not attached")]
    for key, status, code, error in cases:
        ledger.add_phone(run_id, key, server="local", serial=f"s-{key}", label="lab-1" if key == "hw1" else "", model="M")
        if status == "missing":
            ledger.phone_finished(run_id, key, status, exit_code=code, error=error)
            continue
        attempt = ledger.phone_started(run_id, key, start_at=1, run_dir=f"phones/{key}", server="local", serial=f"s-{key}")
        (out / "phones" / key).mkdir(parents=True)
        (out / "phones" / key / "report.html").write_text("<html></html>")
        for step in ("1", "2", "2.1"):
            ledger.step_started(run_id, key, attempt, step, f"step {step}")
            ledger.step_ended(run_id, key, attempt, step, STEP_DONE)
        if status == "failed":  # a group fails after the step inside it
            ledger.step_started(run_id, key, attempt, "3", "group")
            ledger.step_started(run_id, key, attempt, "3.1", "tap OK")
            ledger.step_ended(run_id, key, attempt, "3.1", STEP_FAILED, error)
            ledger.step_ended(run_id, key, attempt, "3", STEP_FAILED, error)
        ledger.phone_finished(run_id, key, status, exit_code=code, error=error, duration_s=2.5)
    ledger.end_run(run_id, FAILED)
    return ledger, run_id


def test_summary_counts_and_steps(tmp_path):
    ledger, run_id = fill(tmp_path)
    summary = summarize(ledger, run_id)
    assert summary.counts == {"passed": 1, "failed": 1, "timeout": 1, "missing": 1}
    assert not summary.all_passed
    first = summary.phones[0]
    assert (first.name, first.steps_done, first.top_steps, first.report) == ("lab-1", 2, 3, "phones/hw1/report.html")
    assert summary.phones[3].report == "" and summary.phones[3].steps_done == 0
    assert summary.phones[1].last_step == "3.1 tap OK (failed)"  # the innermost failure, not its group
    assert summary.phones[2].last_step == "2.1 step 2.1 (done)"
    text = summary_text(summary)
    assert "1 passed, 1 failed, 1 timeout, 1 missing" in text
    assert "lab-1 (s-hw1)" in text and "expected screen account" in text


def test_fleet_report_files(tmp_path):
    ledger, run_id = fill(tmp_path)
    summary = summarize(ledger, run_id)
    paths = render_fleet(summary, ledger.run(run_id).out_dir)
    suite = ET.parse(paths["junit"]).getroot().find("testsuite")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["lab-1", "s-hw2", "s-hw3", "s-hw4"]
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "1", "2")
    assert cases[0].find("failure") is None and cases[0].find("error") is None
    assert cases[1].find("failure").get("message") == "expected screen account <b>"
    assert cases[2].find("error").get("type") == "timeout"
    html = paths["html"].read_text()
    assert 'href="phones/hw1/report.html"' in html
    assert "&lt;b&gt;" in html and "<b>\n" not in html  # device and error text escaped
    data = json.loads(paths["json"].read_text())
    assert data["counts"]["passed"] == 1 and data["phones"][1]["error"].startswith("expected screen")
    assert data["run"]["destructive"] is True


def test_plain_view_prints_one_line_per_event():
    out = io.StringIO()
    view = FleetView(out, live=False)
    view.start()
    view.add("k", name="lab-1", serial="s1", model="M")
    view.phone_started("k", start_at=3)
    view.step("k", "3", "running", "tap OK")
    view.step("k", "3", "done", "tap OK")
    view.phone_ended("k", "passed")
    view.stop()
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].endswith("lab-1 (s1): started (resuming at step 3)")
    assert lines[1].endswith("step 3 done: tap OK")
    assert "passed in" in lines[2]


def test_format_table_aligns_columns():
    text = format_table(("a", "bb"), [("xxx", "y"), ("z", "")])
    assert text.splitlines() == ["a    bb", "xxx  y", "z"]
