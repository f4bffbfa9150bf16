"""The task protocol: what a ``task:`` step calls, and the typed arguments each task declares.

Tasks (pulling files, exporting contacts, waiting for a reboot) live in :mod:`miui_automator.tasks`
and other packages that register them; the flow package only defines what they look like, so the
dependency runs one way (``tasks`` imports ``flow``, never back). The parser checks a step's ``with:``
against the declared arguments when the flow loads — an unknown name or a literal of the wrong type is
a ``file:line`` error — and :meth:`TaskSpec.__call__` converts the resolved values again when the step
runs, because ``${...}`` references are only known then.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..device.driver import Driver
from ..device.hierarchy import Hierarchy
from ..errors import UsageError
from ..progress import Progress, ProgressFn, no_progress
from ..screens.catalogue import Identification, identify
from .model import MAX_TIMEOUT
from .waits import Clock

__all__ = ["ARG_KINDS", "Progress", "TaskArg", "TaskContext", "TaskSpec", "declared_args"]



@dataclass
class TaskContext:
    """What a task gets: the phone, its arguments (converted to their declared types), the run's variables
    (a task may set one, e.g. ``backup_path``), the engine's clock, its step id, the run log, and
    ``progress`` — a long task hands it a :class:`~miui_automator.progress.Progress` now and then (the engine
    passes it to its listeners; the task need not limit how often, the displays do)."""

    driver: Driver
    args: Mapping[str, Any]
    variables: dict[str, str]
    clock: Clock
    step_id: str
    log: Callable[[str, str], None] = field(default=lambda level, message: None)
    progress: ProgressFn = no_progress
    identify: Callable[[Hierarchy], Identification] = field(default=identify)
    """The screen a hierarchy shows, by the run's catalogue: the one the engine uses, its texts resolved in
    the phone's language (the default, the built-in catalogue as written, is for tests and scripts)."""

    def arg(self, name: str, default: str = "") -> str:
        """A text argument, ``default`` when it is absent or empty."""
        return self.args.get(name, default) or default


def _text(value: str) -> str:
    return value


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError("is not a number of seconds") from None
    if not (math.isfinite(seconds) and 0 < seconds <= MAX_TIMEOUT):
        raise ValueError(f"must be more than 0 and at most {MAX_TIMEOUT:g} seconds")
    return seconds


def _flag(value: str) -> bool:
    word = value.strip().lower()
    if word not in ("true", "false"):
        raise ValueError("is not true or false")
    return word == "true"


ARG_KINDS: Mapping[str, Callable[[str], Any]] = {"text": _text, "seconds": _seconds, "flag": _flag}
"""Argument types: ``text`` (a string), ``seconds`` (a positive number), ``flag`` (true or false)."""


@dataclass(frozen=True)
class TaskArg:
    """One argument a task takes. ``default`` None means the flow must give it."""

    name: str
    kind: str = "text"
    default: str | None = ""
    doc: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ARG_KINDS:
            raise TypeError(f"task argument {self.name!r}: unknown kind {self.kind!r} (kinds: {', '.join(ARG_KINDS)})")
        if self.default is not None:
            self.convert(self.default)  # a default of the wrong type is a bug in the task's declaration

    @property
    def required(self) -> bool:
        return self.default is None

    def convert(self, text: str) -> Any:
        """The value of ``text`` as this argument's type; ``ValueError`` naming the argument if it is not one."""
        try:
            return ARG_KINDS[self.kind](text)
        except ValueError as exc:
            raise ValueError(f"{self.name}={text!r} {exc}") from None


@dataclass(frozen=True)
class TaskSpec:
    """A named task: the function and the arguments it declares. Calling it checks and converts the arguments."""

    name: str
    fn: Callable[[TaskContext], str]
    args: tuple[TaskArg, ...] = ()

    def arg(self, name: str) -> TaskArg | None:
        return next((a for a in self.args if a.name == name), None)

    def bind(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Declared arguments with their values converted, defaults filled; ``UsageError`` for anything else."""
        unknown = [name for name in given if self.arg(name) is None]
        if unknown:
            raise UsageError(f"task {self.name}: no argument {unknown[0]!r}")
        values: dict[str, Any] = {}
        for arg in self.args:
            raw = given.get(arg.name, arg.default)
            if raw is None:
                raise UsageError(f"task {self.name}: argument {arg.name!r} is required")
            try:
                values[arg.name] = arg.convert(raw) if isinstance(raw, str) else raw
            except ValueError as exc:
                raise UsageError(f"task {self.name}: {exc}") from None
        return values

    def __call__(self, ctx: TaskContext) -> str:
        return self.fn(replace(ctx, args=self.bind(ctx.args)))


def declared_args(known_tasks: Collection[str] | Mapping[str, object]) -> dict[str, tuple[TaskArg, ...]]:
    """Task name -> declared arguments; a task known only by name (no :class:`TaskSpec`) takes none."""
    if isinstance(known_tasks, Mapping):
        return {name: spec.args if isinstance(spec, TaskSpec) else () for name, spec in known_tasks.items()}
    return {name: () for name in known_tasks}
