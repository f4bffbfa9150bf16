"""Proof at little more than the cost of the reads: after an action every hierarchy read but the first is
taken with a screenshot beside it, and the step keeps a frame only when the reads agree and the frames agree too; a
phone lists the new screen while it still slides in, so equal reads alone can bracket a moving frame."""

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
    """A screenshot taken beside a read after the tap (on the engine's screenshot thread) waits (bounded) for
    a hierarchy read to start while it is in flight, and records whether one did: taken before or after the
    reads, it records False. Every read after the first one following the tap waits (bounded) for such a
    screenshot in flight, so a fast read cannot finish first. A frame the engine takes on its own thread
    (one more frame to compare with) waits for nothing."""

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
        self.lone_shots = 0

    def hierarchy(self):
        with self.changed:
            if self.tapped and self.reads_after_tap >= 1:
                self.changed.wait_for(lambda: self.shooting, OVERLAP_WAIT_S)
            self.reads += 1
            self.reads_after_tap += self.tapped
            self.changed.notify_all()
        return parse_hierarchy(page(f"com.example.{self.screen}", "About" if self.screen == "home" else "Back"))

    def screenshot(self):
        self.shots += 1
        beside_a_read = threading.current_thread().name.startswith("screenshot")
        if self.tapped and beside_a_read:
            with self.changed:
                start, self.shooting = self.reads, True
                self.changed.notify_all()
                self.overlapped.append(self.changed.wait_for(lambda: self.reads > start, OVERLAP_WAIT_S))
                self.shooting = False
        elif self.tapped:
            self.lone_shots += 1
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


def test_the_reads_after_an_action_are_taken_with_a_frame_beside_them():
    phone = OverlapPhone()
    result, done = run(phone)
    assert result.outcome == "passed", result.error
    # the first read after the tap goes alone (the screen has barely begun to change); the confirming one
    # ran while a screenshot was taken, and one more frame agreeing with it proves the frame still
    assert phone.overlapped == [True] and phone.lone_shots == 1
    assert phone.shots == 3  # the frame aimed at, the one beside the confirming read, the one agreeing: no more
    assert done.done["1"].screen == "about" and done.done["1"].before.screen == "home"


class SlidingPhone:
    """Lists the new screen at once after the tap (as a phone does 40% into a slide), while its next
    ``sliding`` screenshots still catch the new page sliding in; ``sliding=None`` slides for ever."""

    serial = "fake-2"

    def __init__(self, sliding: int | None) -> None:
        self.screen = "home"
        self.sliding = sliding
        self.shots_after_tap = 0
        self.shots = 0

    def hierarchy(self):
        return parse_hierarchy(page(f"com.example.{self.screen}", "About" if self.screen == "home" else "Back"))

    def screenshot(self):
        self.shots += 1
        if self.screen == "home":
            return frame(300)
        self.shots_after_tap += 1
        if self.sliding is None or self.shots_after_tap <= self.sliding:
            return frame(300 + 97 * (self.shots_after_tap % 12))  # the page still on its way down
        return frame(1500)

    def window_size(self) -> tuple[int, int]:
        return 1080, 2400

    def tap(self, x: int, y: int) -> None:
        self.screen = "about"


def _top_of_box(img: Image.Image) -> int:
    """Where the blue box starts: the settled frame has it at 1500."""
    column = [img.getpixel((540, y)) for y in range(0, img.height, 4)]
    return next(i * 4 for i, px in enumerate(column) if px == (30, 90, 200))


def test_the_kept_frame_is_settled_even_when_equal_reads_fall_inside_the_slide():
    phone = SlidingPhone(sliding=3)
    result, done = run(phone)
    assert result.outcome == "passed", result.error
    after = done.done["1"].screenshot
    assert _top_of_box(after) == 1500  # never a frame caught while the page was still sliding in
    assert phone.shots == 1 + 3 + 2  # the frame aimed at, the three moving ones, two agreeing settled ones


def test_a_page_that_never_stops_moving_ends_within_its_budget_and_says_so():
    from miui_automator.flow import waits

    phone = SlidingPhone(sliding=None)
    clock = FakeClock()
    notes = {}

    class Notes(BaseListener):
        def step_done(self, step_id, step, obs, duration_s, note):
            notes[step_id] = (note, duration_s)

    engine = Engine(phone, parse_catalogue(CATALOGUE), clock=clock, listeners=[Notes()])
    result = engine.run(parse_flow(FLOW, "t.yaml", known_screens={"home", "about"}), {}, {})
    assert result.outcome == "passed", result.error
    note, duration = notes["1"]
    assert "kept moving" in note and "last one taken" in note
    assert waits.MOVING_FRAMES_S <= duration <= waits.MOVING_FRAMES_S + 1.0
