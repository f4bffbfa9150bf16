"""The frames a phone shows while a screen changes: a slide for activities, a fade for dialogs.

A real phone's screenshot taken during a transition catches an animation frame that is neither
the old screen nor the new one, while its hierarchy may already list the new screen. Tools that
prove a step by its screenshot must wait for the settled frame; the simulator shows them these
in-between frames (only under a timing profile: ``instant`` has no transitions).

The frames are made from the two settled frames the renderer draws (``render.py``), so the
pictures stay consistent with the hierarchy dumps before and after.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from PIL import Image

    from .ui import Node

# A frame caught during the animation is never a settled one: progress runs across this band, then the
# settled frame follows.
MIN_PROGRESS, MAX_PROGRESS = 0.15, 0.9
DIM = 0.4  # how dark the old activity gets as the new one covers it


@dataclass
class Animation:
    """One transition: ``kind`` ("activity" or "dialog"), the frame it starts from, when it runs."""

    kind: str
    before: list["Node"]
    start: float
    seconds: float
    _old: "Image.Image | None" = field(default=None, repr=False)
    _new: "tuple[list[Node], Image.Image] | None" = field(default=None, repr=False)

    @property
    def end(self) -> float:
        return self.start + self.seconds

    def running(self, now: float) -> bool:
        return self.start <= now < self.end

    def progress(self, now: float) -> float:
        """How far the animation has gone at ``now``: steadily across the band, so any two frames caught
        at different moments of it differ, as a real slide's do. (A real ease-out slows towards the end,
        where its frames are a pixel from settled; a flat stretch short of the end would be two equal
        frames of a screen still 10% off.)"""
        linear = (now - self.start) / self.seconds if self.seconds > 0 else 1.0
        return MIN_PROGRESS + (MAX_PROGRESS - MIN_PROGRESS) * min(max(linear, 0.0), 1.0)

    def frame(self, draw: Callable[[list["Node"]], "Image.Image"], after: list["Node"], now: float) -> "Image.Image":
        """The frame on screen at ``now``: ``draw`` renders a window list to an image.

        Both ends are drawn once (the new one again only if the screen changed meanwhile); each
        screenshot then only composes them at its own progress, and no frame is made unless a
        screenshot asks for it.
        """
        if self._old is None:
            self._old = draw(self.before)
        if self._new is None or self._new[0] is not after:
            self._new = (after, draw(after))
        return compose(self._old, self._new[1], self.progress(now), self.kind)


def compose(old: "Image.Image", new: "Image.Image", progress: float, kind: str) -> "Image.Image":
    """An in-between frame: the new activity slides in from the right over the old one, which
    darkens (MIUI's default activity animation); a dialog fades in (or the screen under it back)."""
    from PIL import Image, ImageEnhance

    if kind != "activity":
        return Image.blend(old, new.convert(old.mode), progress)
    width, height = old.size
    offset = round(width * (1 - progress))
    canvas = ImageEnhance.Brightness(old).enhance(1 - DIM * progress)
    canvas.paste(new.convert(old.mode).crop((0, 0, width - offset, height)), (offset, 0))
    return canvas
