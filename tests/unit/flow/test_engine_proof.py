"""Proof at the cost of one round trip: after an action the engine takes the screenshot while the
confirming hierarchy read runs, and keeps a frame only when that read agrees with the one before it
(the frame then falls between two equal reads, on the settled screen)."""

from __future__ import annotations

import threading

from PIL import Image, ImageDraw

from miui_automator.device.hierarchy import parse_hierarchy
from miui_automator.flow.engine import BaseListener, Engine
from miui_automator.flow.parser import parse_flow
from miui_automator.flow.waits import FakeClock
from miui_automator.screens.catalogue import parse_catalogue
from two_screens import CATALOGUE, page

OVERLAP_WAIT_S = 5.0  # bound on waiting for the other call: far longer than two threads need to meet


def frame(top: int) -> Image.Image:
    img = Image.new("RGB", (1080, 2400), (250, 250, 250))
    ImageDraw.Draw(img).rectangle((64, top, 1016, top + 400), fill=(30, 90, 200))
    return img


class OverlapPhone:
    """A screenshot taken after the tap waits (bounded) for a hierarchy read to start while it is in
    flight, and records whether one did: taken before or after the reads, it records False."""

    serial = "fake-1"

    def __init__(self) -> None:
        self.screen = "home"
        self.tapped = False
        self.reads = 0
        self.reads_after_tap = 0
        self.shooting = False
        self.changed = threading.Condition()
        self.overlapped: list[bool] = []
        self.shots = 0

    def hierarchy(self):
        with self.changed:
            if self.tapped and self.reads_after_tap >= 1:
                # the read after the one that saw the change is the confirming one: it meets the screenshot
                # started beside it (bounded), so a fast read cannot finish before the shot has begun
                self.changed.wait_for(lambda: self.shooting, OVERLAP_WAIT_S)
            self.reads += 1
            self.reads_after_tap += self.tapped
            self.changed.notify_all()
        return parse_hierarchy(page(f"com.example.{self.screen}", "About" if self.screen == "home" else "Back"))

    def screenshot(self):
        self.shots += 1
        if self.tapped:
            with self.changed:
                start, self.shooting = self.reads, True
                self.changed.notify_all()
                self.overlapped.append(self.changed.wait_for(lambda: self.reads > start, OVERLAP_WAIT_S))
                self.shooting = False
        return frame(300 if self.screen == "home" else 1500)

    def window_size(self) -> tuple[int, int]:
        return 1080, 2400

    def tap(self, x: int, y: int) -> None:
        self.tapped = True
        self.screen = "about"


class Done(BaseListener):
    def __init__(self) -> None:
        self.done = {}

    def step_done(self, step_id, step, obs, duration_s, note):
        self.done[step_id] = obs


FLOW = """
name: one-tap
steps:
  - tap: {text: About}
    expect: about
"""


def run(phone):
    done = Done()
    engine = Engine(phone, parse_catalogue(CATALOGUE), clock=FakeClock(), listeners=[done])
    result = engine.run(parse_flow(FLOW, "t.yaml", known_screens={"home", "about"}), {}, {})
    return result, done


def test_the_screenshot_is_taken_while_the_confirming_read_runs():
    phone = OverlapPhone()
    result, done = run(phone)
    assert result.outcome == "passed", result.error
    assert phone.overlapped == [True]  # the confirming read ran while the screenshot was being taken
    assert phone.shots == 2  # the frame aimed at, and the one proving the result: no third
    assert done.done["1"].screen == "about" and done.done["1"].before.screen == "home"
