"""Per-kind tables that must cover every step kind: the parser's builders and the engine's handlers.

A step kind is declared once, by its class in :mod:`miui_automator.flow.model` (``kind``,
``default_timeout``, ``acts``). The parser and the engine each register one function per kind in a
:class:`KindTable`; :meth:`KindTable.require_complete` runs when their module loads, so a kind
added to the model without a builder or a handler fails at import rather than in the middle of a
run, and a function registered for a kind the model does not have fails at once too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Generic, TypeVar

from miui_automator.flow.model import STEP_CLASSES, StepBase

__all__ = ["KindTable"]

F = TypeVar("F", bound=Callable)


class KindTable(Generic[F]):
    """One function per step kind, registered with ``@table.register("tap")``; ``role`` names it in errors."""

    def __init__(self, role: str, kinds: Mapping[str, type[StepBase]] = STEP_CLASSES) -> None:
        self.role = role
        self.kinds = kinds
        self._functions: dict[str, F] = {}

    def register(self, kind: str) -> Callable[[F], F]:
        if kind not in self.kinds:
            raise TypeError(f"{self.role} for unknown step kind {kind!r} (kinds: {', '.join(self.kinds)})")

        def add(fn: F) -> F:
            if kind in self._functions:
                raise TypeError(f"two {self.role}s for step kind {kind!r}")
            self._functions[kind] = fn
            return fn

        return add

    def missing(self) -> tuple[str, ...]:
        """Step kinds of the model without a registered function."""
        return tuple(kind for kind in self.kinds if kind not in self._functions)

    def require_complete(self) -> None:
        missing = self.missing()
        if missing:
            raise TypeError(f"step kinds without a {self.role}: {', '.join(missing)}")

    def __getitem__(self, kind: str) -> F:
        return self._functions[kind]

    def __contains__(self, kind: object) -> bool:
        return kind in self._functions

    def __iter__(self) -> Iterator[str]:
        return iter(self._functions)
