"""Task arguments are declared with types and checked when a flow loads: unknown names (with a did-you-mean),
literals of the wrong type and missing required arguments are ``file:line`` errors, exit 2 from ``validate``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from miui_automator.errors import FlowSyntaxError, UsageError
from miui_automator.flow.model import TaskStep
from miui_automator.flow.parser import load_flow, parse_flow
from miui_automator.flow.tasks_api import TaskArg, TaskContext, TaskSpec
from miui_automator.flow.waits import FakeClock
from miui_automator.screens.catalogue import default_catalogue
from miui_automator.tasks import registry

SCREENS = default_catalogue().names
REPO = Path(__file__).resolve().parents[3]


def flow_text(step: str) -> str:
    """A flow whose single step (line 4) is ``step``."""
    return f"name: t\nparams: {{x: {{default: '5'}}}}\nsteps:\n  - {step}\n"


def parse(step: str):
    return parse_flow(flow_text(step), "t.yaml", known_screens=SCREENS, known_tasks=registry())


def error(step: str) -> str:
    with pytest.raises(FlowSyntaxError) as info:
        parse(step)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_declared_arguments_load_with_literals_and_references() -> None:
    (step,) = parse("task: {name: wait-for-reboot, with: {gone_timeout: 30, back_timeout: '${x}'}}").steps
    assert isinstance(step, TaskStep) and step.args == (("gone_timeout", "30"), ("back_timeout", "${x}"))
    (step,) = parse("task: {name: backup-miui-pull, with: {required: false}}").steps
    assert step.args == (("required", "false"),)


@pytest.mark.parametrize("step, message", [
    ("task: {name: wait-for-reboot, with: {gone_timeout: abc}}",
     "t.yaml:4: task 'wait-for-reboot': gone_timeout='abc' is not a number of seconds"),
    ("task: {name: wait-for-reboot, with: {gone_timeout: -1}}",
     "t.yaml:4: task 'wait-for-reboot': gone_timeout='-1' must be more than 0 and at most 86400 seconds"),
    ("task: {name: wait-for-reboot, with: {typo_arg: '1'}}",
     "t.yaml:4: task 'wait-for-reboot' has no argument 'typo_arg' (arguments: gone_timeout, back_timeout)"),
    ("task: {name: wait-for-reboot, with: {gone_timout: 5}}",
     "t.yaml:4: task 'wait-for-reboot' has no argument 'gone_timout' (did you mean 'gone_timeout'?)"),
    ("task: {name: backup-files, with: {dir: x}}",
     "t.yaml:4: task 'backup-files' has no argument 'dir' (it takes no arguments)"),
    ("task: {name: backup-miui-pull, with: {required: maybe}}",
     "t.yaml:4: task 'backup-miui-pull': required='maybe' is not true or false"),
    ("task: {name: record-account-deleted, with: {ledger: l.db}}",
     "t.yaml:4: task 'record-account-deleted' needs argument(s): account (give them under 'with')"),
    ("task: {name: wait-for-reboot, with: {gone_timeout: 1, gone_timeout: 2}}",
     "t.yaml:4: duplicate key 'gone_timeout' in task arguments (first at line 4)"),
    ("task: {name: wait-for-reboot, with: [gone_timeout]}",
     "t.yaml:4: task 'with' must be a mapping of argument names to values"),
    ("task: {name: wait-for-reboot, with: {gone_timeout: '${nope}'}}",
     "t.yaml:4: unknown reference ${nope}"),
])
def test_bad_task_arguments_are_refused_at_their_line(step: str, message: str) -> None:
    assert error(step) == message


def test_the_issue_example_is_refused_at_the_first_bad_argument() -> None:
    text = "task: {name: wait-for-reboot, with: {gone_timeout: abc, typo_arg: '1'}}"
    assert "gone_timeout='abc' is not a number of seconds" in error(text)


def test_a_task_known_by_name_only_takes_no_arguments() -> None:
    with pytest.raises(FlowSyntaxError, match="has no argument 'a' \\(it takes no arguments\\)"):
        parse_flow(flow_text("task: {name: t, with: {a: b}}"), "t.yaml", known_screens=SCREENS, known_tasks=("t",))


def test_load_flow_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(flow_text("task: {name: wait-for-reboot, with: {typo_arg: '1'}}"), encoding="utf-8")
    with pytest.raises(FlowSyntaxError) as info:
        load_flow(path, known_screens=SCREENS, known_tasks=registry())
    assert str(info.value).startswith(f"{path}:4: task 'wait-for-reboot' has no argument 'typo_arg'")


def test_validate_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(flow_text("task: {name: wait-for-reboot, with: {gone_timeout: abc, typo_arg: '1'}}"),
                    encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "miui_automator.cli.main", "validate", str(path)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr
    assert f"{path}:4:" in done.stderr and "gone_timeout='abc'" in done.stderr


# ------------------------------------------------------------------------------ the declarations themselves


def test_calling_a_task_converts_its_arguments_and_fills_defaults() -> None:
    seen: dict = {}
    spec = TaskSpec("t", lambda ctx: seen.update(ctx.args) or "done",
                    (TaskArg("s", "seconds", "60"), TaskArg("f", "flag", "true"), TaskArg("name", "text", None)))
    assert spec(TaskContext(None, {"s": "1.5", "name": "x"}, {}, FakeClock(), "1")) == "done"  # type: ignore[arg-type]
    assert seen == {"s": 1.5, "f": True, "name": "x"}
    with pytest.raises(UsageError, match="task t: argument 'name' is required"):
        spec(TaskContext(None, {}, {}, FakeClock(), "1"))  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="task t: no argument 'other'"):
        spec(TaskContext(None, {"name": "x", "other": "1"}, {}, FakeClock(), "1"))  # type: ignore[arg-type]


def test_a_declaration_with_a_bad_default_or_kind_is_a_bug_found_at_import() -> None:
    with pytest.raises(ValueError, match="s='soon' is not a number of seconds"):
        TaskArg("s", "seconds", "soon")
    with pytest.raises(TypeError, match="unknown kind 'number'"):
        TaskArg("n", "number")


def test_every_registered_task_argument_is_documented() -> None:
    docs = (REPO / "docs" / "flows.md").read_text(encoding="utf-8")
    for name, spec in registry().items():
        assert f"`{name}`" in docs, name
        for arg in spec.args:
            assert arg.doc, f"{name}.{arg.name} has no doc"
            assert f"`{arg.name}`" in docs, f"{name}.{arg.name} is not in docs/flows.md"
