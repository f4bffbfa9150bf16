"""Named Python tasks a flow can run with ``task:`` — work that is not a screen transition
(pulling files, exporting providers, waiting for a reboot). Each takes a :class:`TaskContext`
and returns a one-line note for the report; failures raise the project's errors.

The registry is data the runner hands to both the parser (so unknown task names fail at load)
and the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

from ..device.driver import Driver
from ..flow.waits import Clock


@dataclass
class TaskContext:
    driver: Driver
    args: Mapping[str, str]
    variables: dict[str, str]
    clock: Clock
    step_id: str
    log: Callable[[str, str], None] = field(default=lambda level, message: None)

    def arg(self, name: str, default: str = "") -> str:
        return self.args.get(name, default) or default


Task = Callable[[TaskContext], str]
REGISTRY: dict[str, Task] = {}


def task(name: str) -> Callable[[Task], Task]:
    def register(fn: Task) -> Task:
        REGISTRY[name] = fn
        return fn

    return register


def registry() -> Mapping[str, Task]:
    """Every task, importing the modules that define them."""
    from . import backup, builtin  # noqa: F401 - registers on import
    from ..account import tasks as _account_tasks  # noqa: F401 - registers on import

    return REGISTRY
