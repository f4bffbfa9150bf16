"""How the engine ends a run whatever a step raises: uiautomator2 restarted by the device layer under an
action, a phone that is gone, a task with a bug, a bad task argument known only at run time — and which
steps it reports skipped."""

from __future__ import annotations

import textwrap

import pytest

from miui_automator.device.driver import ShellOutput
from miui_automator.device.hierarchy import parse_hierarchy
from miui_automator.errors import AutomationRestarted, DeviceError, StepFailed
from miui_automator.flow.engine import BaseListener, Engine
from miui_automator.flow.model import Flow
from miui_automator.flow.parser import parse_flow
from miui_automator.flow.tasks_api import TaskArg, TaskContext, TaskSpec
from miui_automator.flow.waits import AUTOMATION_RESTARTS_PER_STEP, FakeClock
from miui_automator.screens.catalogue import default_catalogue

PAGE = """<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><hierarchy rotation="0">
<node index="0" text="" resource-id="android:id/content" class="android.widget.FrameLayout" package="com.example"
 content-desc="" clickable="false" bounds="[0,0][1080,2400]">
<node index="0" text="Hello" resource-id="" class="android.widget.TextView" package="com.example" content-desc=""
 clickable="true" bounds="[64,400][1016,500]" /></node></hierarchy>"""


class RecordingDriver:
    """Records every call. ``fail`` maps a method name to errors its next calls raise, one per call.

    It has ``restart_automation`` like a real driver, so a test can prove the engine never calls it: the
    device layer restarts uiautomator2 itself and tells the engine with AutomationRestarted.
    """

    serial = "fake-1"

    def __init__(self, **fail: list[BaseException]) -> None:
        self.fail = {name: list(errors) for name, errors in fail.items()}
        self.calls: list[str] = []

    def _call(self, name: str) -> None:
        self.calls.append(name)
        errors = self.fail.get(name)
        if errors:
            raise errors.pop(0)

    def hierarchy(self):
        self._call("hierarchy")
        return parse_hierarchy(PAGE)

    def screenshot(self):
        self._call("screenshot")
        raise DeviceError("no screenshots in this fake")

    def window_size(self) -> tuple[int, int]:
        return 1080, 2400

    def start(self, **kwargs) -> None:
        self._call("start")

    def press(self, key: str) -> None:
        self._call("press")

    def tap(self, x: int, y: int) -> None:
        self._call("tap")

    def shell(self, command: str, timeout_s: float = 30.0) -> ShellOutput:
        self._call("shell")
        return ShellOutput(command, "Xiaomi\n", 0)

    def restart_automation(self) -> None:
        self._call("restart_automation")


class Record(BaseListener):
    """Keeps every event as (type, args) so tests can check what the run record would hold."""

    def __init__(self) -> None:
        self.events: list[tuple[str, tuple]] = []

    def __getattribute__(self, name: str):
        if name in ("run_start", "step_start", "step_done", "step_failed", "step_skipped", "log", "run_end"):
            return lambda *args: self.events.append((name, args))
        return super().__getattribute__(name)

    def of(self, kind: str) -> list[tuple]:
        return [args for name, args in self.events if name == kind]


def flow(steps: str, tasks=None) -> Flow:
    text = "name: t\nparams: {x: {default: '1'}}\nsteps:\n" + textwrap.indent(textwrap.dedent(steps).strip("\n"), "  ")
    return parse_flow(text + "\n", "t.yaml", known_screens=default_catalogue().names, known_tasks=tasks or {})


def run(driver: RecordingDriver, steps: str, tasks=None, params=None, **kw):
    listener = Record()
    engine = Engine(driver, default_catalogue(), clock=FakeClock(), listeners=[listener], verify=False,
                    tasks=tasks or {})
    result = engine.run(flow(steps, tasks), params or {"x": "1"}, {}, **kw)
    return result, listener


# ------------------------------------------------------------------------------ uiautomator2 restarts


def test_a_step_whose_action_met_a_restarted_automation_is_repeated_once() -> None:
    driver = RecordingDriver(start=[AutomationRestarted("uiautomator2 died during start; restarted")])
    result, listener = run(driver, "- open: {app: com.example}")
    assert result.outcome == "passed", result.error
    assert driver.calls.count("start") == 2
    assert "restart_automation" not in driver.calls, "the device layer owns restarting uiautomator2"
    assert [args[0] for args in listener.of("step_done")] == ["1"]
    assert any(level == "warning" and "repeating" in message for level, message in listener.of("log"))


def test_a_step_is_repeated_at_most_the_cap_then_fails_as_a_device_error() -> None:
    restarts = [AutomationRestarted(f"restart {n}") for n in range(AUTOMATION_RESTARTS_PER_STEP + 1)]
    driver = RecordingDriver(start=restarts)
    result, listener = run(driver, "- open: {app: com.example}\n- press: back")
    assert (result.outcome, result.exit_code) == ("error", 3)
    assert driver.calls.count("start") == AUTOMATION_RESTARTS_PER_STEP + 1
    assert "press" not in driver.calls and "restart_automation" not in driver.calls
    assert [args[0] for args in listener.of("step_skipped")] == ["2"]


def test_any_other_device_error_ends_the_run_without_a_repeat() -> None:
    driver = RecordingDriver(start=[DeviceError("fake-1: device offline")])
    result, listener = run(driver, "- open: {app: com.example}")
    assert (result.outcome, result.exit_code, result.error) == ("error", 3, "fake-1: device offline")
    assert driver.calls.count("start") == 1 and "restart_automation" not in driver.calls
    assert listener.of("run_end")[0][:2] == ("error", 3)


def test_retry_tries_again_after_a_restart_but_not_after_a_lost_phone() -> None:
    restarted = [AutomationRestarted(f"restart {n}") for n in range(AUTOMATION_RESTARTS_PER_STEP + 1)]
    result, _ = run(RecordingDriver(press=restarted), "- retry: {times: 2, steps: [{press: back}]}")
    assert result.outcome == "passed", result.error
    driver = RecordingDriver(press=[DeviceError("gone")])
    result, _ = run(driver, "- retry: {times: 3, steps: [{press: back}]}")
    assert result.outcome == "error" and driver.calls.count("press") == 1


# ------------------------------------------------------------------------------ tasks


def boom(ctx: TaskContext) -> str:
    raise ValueError("could not convert string to float: 'abc'")


def test_a_task_raising_a_bare_exception_is_a_failed_step_and_the_run_is_recorded_as_ended() -> None:
    tasks = {"boom": TaskSpec("boom", boom)}
    result, listener = run(RecordingDriver(), "- task: boom\n- press: back", tasks)
    assert (result.outcome, result.exit_code) == ("failed", 1)
    assert result.error == "task boom failed: ValueError: could not convert string to float: 'abc'"
    (failed,) = listener.of("step_failed")
    assert failed[0] == "1" and isinstance(failed[2], StepFailed)
    assert [args[0] for args in listener.of("step_skipped")] == ["2"]
    assert listener.of("run_end") == [("failed", 1, 0.0, result.error)]


def test_a_task_argument_known_only_at_run_time_is_checked_then() -> None:
    seen: list[float] = []
    tasks = {"wait": TaskSpec("wait", lambda ctx: seen.append(ctx.args["s"]) or "", (TaskArg("s", "seconds", "5"),))}
    result, listener = run(RecordingDriver(), "- task: {name: wait, with: {s: '${x}'}}", tasks, params={"x": "abc"})
    assert result.outcome == "failed" and result.exit_code == 2
    assert result.error == "task wait: s='abc' is not a number of seconds"
    assert seen == [] and listener.of("run_end")
    result, _ = run(RecordingDriver(), "- task: {name: wait, with: {s: '${x}'}}", tasks, params={"x": "2.5"})
    assert result.outcome == "passed" and seen == [2.5]


def test_an_engine_bug_still_ends_the_record_before_the_traceback() -> None:
    driver = RecordingDriver(shell=[RuntimeError("a bug")])
    listener = Record()
    engine = Engine(driver, default_catalogue(), clock=FakeClock(), listeners=[listener], verify=False)
    with pytest.raises(RuntimeError):
        engine.run(flow('- shell: "getprop ro.product.brand"'), {}, {})
    ((outcome, code, _, error),) = listener.of("run_end")
    assert (outcome, code, error) == ("error", 1, "internal error: RuntimeError: a bug")


# ------------------------------------------------------------------------------ skipped steps


def test_skipped_steps_are_reported_with_their_reason() -> None:
    steps = """\
        - shell: "getprop a"
        - shell: "getprop b"
        - retry:
            times: 1
            steps:
              - open: {app: com.example}
              - shell: "getprop c"
        - shell: "getprop d"
        """
    result, listener = run(RecordingDriver(start=[DeviceError("gone")]), steps, start_at=2)
    assert result.outcome == "error"
    skipped = [(step_id, step.kind, reason) for step_id, step, reason in listener.of("step_skipped")]
    assert skipped == [
        ("1", "shell", "completed in an earlier run, resuming at step 2"),
        ("3.1.2", "shell", "step 3.1.1 failed"),
        ("4", "shell", "step 3 failed"),
    ]


def test_an_optional_failure_skips_nothing() -> None:
    result, listener = run(RecordingDriver(start=[DeviceError("gone")]),
                           "- open: {app: com.example}\n  optional: true\n- press: back")
    assert result.outcome == "passed" and listener.of("step_skipped") == []
