"""The backup flow's task names, their registration, and the one thing they check themselves."""

from __future__ import annotations

import pytest

from miui_automator.errors import StepFailed, UsageError
from miui_automator.flow.waits import SystemClock
from miui_automator.tasks import TaskContext, registry

NAMES = ("backup-begin", "backup-files", "backup-exports", "backup-miui-pull", "backup-finish")


def ctx(**args: str) -> TaskContext:
    return TaskContext(driver=None, args=args, variables={}, clock=SystemClock(), step_id="1")  # type: ignore[arg-type]


def test_every_backup_task_is_registered():
    assert set(NAMES) <= set(registry())


@pytest.mark.parametrize("name", NAMES[1:])
def test_later_tasks_need_backup_begin_first(name):
    with pytest.raises(StepFailed, match="backup-begin task must run first"):
        registry()[name](ctx())


def test_miui_pull_required_must_be_true_or_false():
    context = ctx(required="yes")
    context.variables["backup_path"] = "/nonexistent"
    with pytest.raises(UsageError, match="required='yes'"):
        registry()["backup-miui-pull"](context)
