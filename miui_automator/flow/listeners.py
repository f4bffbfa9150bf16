"""What the engine tells its listeners: the observation a step leaves behind, and the hooks it calls.

Listeners act on these (screenshots, the run record, progress display); the engine itself knows no
filesystem. Kept apart from :mod:`miui_automator.flow.engine` so a listener depends on the events,
not on how steps run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Protocol

from PIL import Image

from ..device.hierarchy import Hierarchy
from ..errors import MiuiAutomatorError
from ..progress import Progress
from ..screens.catalogue import Identification
from .model import Flow, Step

__all__ = ["BaseListener", "Listener", "Observation", "Redaction"]

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Redaction:
    """What must not reach a file from one observation: the secret values the run typed (or may type) and
    the screen areas to black out.

    A phone that shows a password field unmasked (the "show password" eye, a ROM that renders it as
    plain text) puts the typed secret into the hierarchy and onto every screenshot of that screen. The
    engine knows what it typed and where, so it attaches this to the observations it emits; the listener
    that writes files applies it to every hierarchy and image it saves.
    """

    secrets: tuple[str, ...] = ()
    boxes: tuple[Box, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.secrets or self.boxes)


@dataclass
class Observation:
    """What the phone showed at one moment: the evidence a step leaves behind.

    The result of an action carries ``before``, the observation the action was aimed at with the tap
    point or swipe and the target's bounds, so evidence shows the action on the frame it hit; ``tap``
    and ``swipe`` are set only there.
    """

    hierarchy: Hierarchy
    ident: Identification
    screenshot: Image.Image | None = None
    tap: tuple[int, int] | None = None
    swipe: tuple[tuple[int, int], tuple[int, int]] | None = None
    redaction: Redaction | None = None  # set by the engine; writers apply it to what they save
    target: Box | None = None  # bounds of the element the action was aimed at (on a ``before`` observation)
    before: Observation | None = None  # on the result of an action: the screen it was aimed at, with tap/swipe

    @property
    def screen(self) -> str:
        return self.ident.name


class Listener(Protocol):
    """Hooks the engine calls; every method is optional (see :class:`BaseListener`)."""

    def run_start(self, flow: Flow, params: Mapping[str, str]) -> None: ...

    def step_start(self, step_id: str, step: Step) -> None: ...

    def step_done(self, step_id: str, step: Step, obs: Observation | None, duration_s: float, note: str) -> None: ...

    def step_failed(self, step_id: str, step: Step, error: MiuiAutomatorError, obs: Observation | None,
                    duration_s: float) -> None: ...

    def step_skipped(self, step_id: str, step: Step, reason: str) -> None:
        """A step that did not run: before ``start_at`` in a resumed run, or after a failed step at its level."""

    def evidence(self, step_id: str, name: str, obs: Observation) -> None: ...

    def popup_dismissed(self, step_id: str, popup: str, obs: Observation) -> None: ...

    def log(self, level: str, message: str) -> None: ...

    def progress(self, step_id: str, figure: Progress) -> None:
        """How far a long task has got (files, bytes); often, so a listener keeps it cheap."""

    def run_end(self, outcome: str, exit_code: int, duration_s: float, error: str) -> None: ...


class BaseListener:
    """No-op implementations, so listeners override only what they need."""

    def run_start(self, flow, params): ...
    def step_start(self, step_id, step): ...
    def step_done(self, step_id, step, obs, duration_s, note): ...
    def step_failed(self, step_id, step, error, obs, duration_s): ...
    def step_skipped(self, step_id, step, reason): ...
    def evidence(self, step_id, name, obs): ...
    def popup_dismissed(self, step_id, popup, obs): ...
    def log(self, level, message): ...
    def progress(self, step_id, figure): ...
    def run_end(self, outcome, exit_code, duration_s, error): ...
