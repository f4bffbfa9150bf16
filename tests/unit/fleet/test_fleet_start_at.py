"""``start_at`` in the engine and in executing a run plan: a resumed phone skips the top-level steps it completed before,
never running them again, and says so in its record."""

from __future__ import annotations

import json

import pytest

from miui_automator.device.driver import ShellOutput
from miui_automator.device.info import DeviceInfo
from miui_automator import run
from miui_automator.flow.engine import BaseListener, Engine
from miui_automator.screens.catalogue import default_catalogue

FLOW = """
name: four-shells
steps:
  - shell: {command: "getprop ro.product.model"}
  - shell: {command: "getprop ro.product.brand"}
  - when: {prop: ro.product.brand, equals: Xiaomi}
    then:
      - shell: {command: "getprop ro.build.version.sdk"}
  - shell: {command: "getprop ro.serialno"}
"""


class ShellOnlyDriver:
    """Records every command; answers getprop with Xiaomi-ish values."""

    serial = "fake-1"

    def __init__(self) -> None:
        self.commands: list[str] = []

    def shell(self, command: str, timeout_s: float = 30.0) -> ShellOutput:
        self.commands.append(command)
        return ShellOutput(command, "Xiaomi\n", 0)


class Steps(BaseListener):
    def __init__(self) -> None:
        self.started: list[str] = []
        self.logs: list[str] = []

    def step_start(self, step_id, step):
        self.started.append(step_id)

    def log(self, level, message):
        self.logs.append(message)


@pytest.fixture
def flow(tmp_path):
    path = tmp_path / "four-shells.yaml"
    path.write_text(FLOW)
    return run.load(str(path))


@pytest.mark.parametrize("start_at, started, commands", [
    (1, ["1", "2", "3", "3.1", "4"], 5),
    (3, ["3", "3.1", "4"], 3),
    (5, [], 0),  # everything completed before: nothing runs, the run passes
])
def test_engine_skips_top_level_steps_before_start_at(flow, start_at, started, commands):
    driver, listener = ShellOnlyDriver(), Steps()
    result = Engine(driver, default_catalogue(), listeners=[listener]).run(flow, {}, {}, start_at=start_at)
    assert result.outcome == "passed"
    assert listener.started == started
    assert len(driver.commands) == commands
    assert sum("skipped: completed in an earlier run" in m for m in listener.logs) == start_at - 1


def test_engine_refuses_a_start_before_the_first_step(flow):
    with pytest.raises(ValueError):
        Engine(ShellOnlyDriver(), default_catalogue()).run(flow, {}, {}, start_at=0)


def test_execute_records_the_skipped_steps_in_the_run_folder(flow, tmp_path):
    driver = ShellOnlyDriver()
    seen: list[tuple[str, str]] = []
    outcome = run.execute(run.RunPlan(flow, DeviceInfo(serial="fake-1")), driver, run_dir=tmp_path / "run",
                          on_step=lambda step, status, text: seen.append((step, status)), start_at=4)
    assert outcome.result.outcome == "passed"
    assert driver.commands == ["getprop ro.serialno"]
    assert seen == [("4", "running"), ("4", "done")]
    events = [json.loads(line) for line in (tmp_path / "run" / "events.jsonl").read_text().splitlines()]
    assert [e["step"] for e in events if e["type"] == "step_start"] == ["4"]
    assert sum(1 for e in events if e["type"] == "log" and "skipped" in e["message"]) == 3
    assert (tmp_path / "run" / "report.html").exists()
