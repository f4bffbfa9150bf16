"""How far a long piece of work has got: the figure a task hands up while it runs.

It sits at the top of the package because both sides need it without importing each other: the
backup code (which never imports ``flow``) fills it in, ``flow`` passes it from a task to the
engine's listeners, and the displays in ``run`` and ``fleet`` turn it into a bar or a line. Rates
and time left are not in it: they need a clock, and the display has one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Progress:
    """``done`` of ``total`` files (or items) and bytes; a total of 0 means not known."""

    what: str  # "pulling files", "exporting", "pulling MIUI's backup"
    files_done: int = 0
    files_total: int = 0
    bytes_done: int = 0
    bytes_total: int = 0

    @property
    def fraction(self) -> float | None:
        """The share done, by bytes when their total is known, else by files; None when neither is."""
        if self.bytes_total > 0:
            return min(1.0, self.bytes_done / self.bytes_total)
        if self.files_total > 0:
            return min(1.0, self.files_done / self.files_total)
        return None


ProgressFn = Callable[[Progress], None]


def no_progress(progress: Progress) -> None:
    """The default: work run from Python without a display."""
