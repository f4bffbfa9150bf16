"""Steps the engine did not run reach the reports as skipped, with the reason: those a resumed run does not
repeat, and those after a failed step."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from miui_automator.device.driver import ShellOutput
from miui_automator.flow.engine import BaseListener, Engine
from miui_automator.flow.parser import parse_flow
from miui_automator.flow.waits import FakeClock
from miui_automator.report import EventWriter, RunRecord, read_events, render_all
from miui_automator.screens.catalogue import default_catalogue

FLOW = """\
name: skips
steps:
  - shell: "getprop ro.product.model"
  - assert: {prop: ro.product.brand, equals: Google}
  - shell: "getprop ro.serialno"
  - shell: "getprop ro.build.id"
"""


class XiaomiShell:
    serial = "fake-1"

    def shell(self, command: str, timeout_s: float = 30.0) -> ShellOutput:
        return ShellOutput(command, "Xiaomi\n", 0)


class Recorder(BaseListener):
    """Writes the events a run record needs, the way the run folder's listener does."""

    def __init__(self, writer: EventWriter) -> None:
        self.writer = writer

    def run_start(self, flow, params) -> None:
        self.writer.write("run_start", flow=flow.name)

    def step_start(self, step_id, step) -> None:
        self.writer.write("step_start", step=step_id, kind=step.kind, description=step.describe(), line=step.line)

    def step_done(self, step_id, step, obs, duration_s, note) -> None:
        self.writer.write("step_done", step=step_id, duration_s=duration_s, note=note)

    def step_failed(self, step_id, step, error, obs, duration_s) -> None:
        self.writer.write("step_failed", step=step_id, duration_s=duration_s, error=str(error))

    def step_skipped(self, step_id, step, reason) -> None:
        self.writer.write("step_skipped", step=step_id, kind=step.kind, description=step.describe(), line=step.line,
                          reason=reason)

    def run_end(self, outcome, exit_code, duration_s, error) -> None:
        self.writer.write("run_end", outcome=outcome, exit_code=exit_code, duration_s=duration_s, summary=error)


def test_skipped_steps_are_in_the_record_and_every_report(tmp_path: Path) -> None:
    flow = parse_flow(FLOW, "skips.yaml", known_screens=default_catalogue().names)
    with EventWriter(tmp_path) as writer:
        result = Engine(XiaomiShell(), default_catalogue(), clock=FakeClock(), listeners=[Recorder(writer)]).run(
            flow, {}, {}, start_at=2)
    assert result.outcome == "failed"
    record = RunRecord.from_events(read_events(tmp_path))
    status = {s.index: (s.status, s.skip_reason, s.line) for s in record.steps}
    assert status == {
        "1": ("skipped", "completed in an earlier run, resuming at step 2", 3),
        "2": ("failed", None, 4),
        "3": ("skipped", "step 2 failed", 5),
        "4": ("skipped", "step 2 failed", 6),
    }
    reports = render_all(tmp_path)
    html = reports["html"].read_text(encoding="utf-8")
    assert "3 skipped" in html and html.count("step 2 failed") == 2 and "completed in an earlier run" in html
    suite = ET.parse(reports["junit"]).getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("4", "1", "3")
