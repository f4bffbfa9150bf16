"""Named Python tasks a flow can run with ``task:`` — work that is not a screen transition
(pulling files, exporting providers, waiting for a reboot). Each takes a :class:`TaskContext`
and returns a one-line note for the report; failures raise the project's errors.

Each task declares its arguments (:class:`TaskArg`: name, type, default), so the parser refuses an
unknown argument or a literal of the wrong type when the flow loads. The registry is data the runner
hands to both the parser and the engine; the protocol itself lives in
:mod:`miui_automator.flow.tasks_api`, so this package depends on ``flow`` and never the reverse.
"""

from __future__ import annotations

from typing import Callable, Mapping

from ..flow.tasks_api import TaskArg, TaskContext, TaskSpec

__all__ = ["REGISTRY", "Task", "TaskArg", "TaskContext", "TaskSpec", "registry", "task"]

Task = Callable[[TaskContext], str]
REGISTRY: dict[str, TaskSpec] = {}


def task(name: str, *args: TaskArg) -> Callable[[Task], Task]:
    """Register the decorated function as task ``name`` taking ``args``; the function itself is unchanged."""

    def register(fn: Task) -> Task:
        if name in REGISTRY:
            raise TypeError(f"two tasks named {name!r}")
        REGISTRY[name] = TaskSpec(name, fn, args)
        return fn

    return register


def registry() -> Mapping[str, TaskSpec]:
    """Every task, importing the modules that define them."""
    from . import backup, builtin, reset  # noqa: F401 - registers on import
    from ..account import tasks as _account_tasks  # noqa: F401 - registers on import

    return REGISTRY
