"""A screen that never goes idle (an animation): every hierarchy read of it waits out the phone's idle
timeout. The engine remembers it as busy, proves its steps by the screenshot and one late read within
``BUSY_STEP_BUDGET_S``, and says so in the step's note and the run's log."""

from __future__ import annotations

from PIL import Image, ImageDraw

from miui_automator.device.hierarchy import parse_hierarchy
from miui_automator.flow.engine import BaseListener, Engine
from miui_automator.flow.parser import parse_flow
from miui_automator.flow.waits import BUSY_STEP_BUDGET_S, FakeClock
from miui_automator.screens.catalogue import parse_catalogue
from two_screens import CATALOGUE, page

IDLE_TIMEOUT_S = 10.0  # what each read of a never-idle screen costs on the phone


PAGES = {"home": page("com.example.home", "About"), "about": page("com.example.about", "Back")}


def frame(screen: str) -> Image.Image:
    img = Image.new("RGB", (1080, 2400), (250, 250, 250))
    draw = ImageDraw.Draw(img)
    top = 300 if screen == "home" else 1500
    draw.rectangle((64, top, 1016, top + 400), fill=(30, 90, 200))
    return img


class AnimatedAbout:
    """Two pages; every hierarchy read of ``about`` takes the idle timeout (it animates forever)."""

    serial = "fake-1"

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.screen = "home"
        self.reads = {"home": 0, "about": 0}
        self.shots = 0

    def hierarchy(self):
        self.reads[self.screen] += 1
        if self.screen == "about":
            self.clock.sleep(IDLE_TIMEOUT_S)
        return parse_hierarchy(PAGES[self.screen])

    def screenshot(self):
        self.shots += 1
        return frame(self.screen)

    def window_size(self) -> tuple[int, int]:
        return 1080, 2400

    def tap(self, x: int, y: int) -> None:
        self.screen = "about" if self.screen == "home" else "home"


class Keep(BaseListener):
    def __init__(self) -> None:
        self.done: dict[str, tuple] = {}
        self.logs: list[str] = []

    def step_done(self, step_id, step, obs, duration_s, note):
        self.done[step_id] = (obs, duration_s, note)

    def log(self, level, message):
        self.logs.append(message)


FLOW = """
name: busy
steps:
  - tap: {text: About}
    expect: about
  - tap: {text: Back}
    expect: home
  - tap: {text: About}
    expect: about
"""


def run():
    clock = FakeClock()
    phone = AnimatedAbout(clock)
    keep = Keep()
    engine = Engine(phone, parse_catalogue(CATALOGUE), clock=clock, listeners=[keep])
    flow = parse_flow(FLOW, "busy.yaml", known_screens={"home", "about"})
    return engine.run(flow, {}, {}), phone, keep


def test_a_never_idle_screen_is_proved_by_the_screenshot_and_one_late_read():
    result, phone, keep = run()
    assert result.outcome == "passed", result.error
    # one read of `about` per step that lands on it: no second, confirming read that waits out the timeout again
    assert phone.reads["about"] == 2
    for step in ("1", "3"):
        obs, duration_s, note = keep.done[step]
        assert obs.screen == "about" and obs.screenshot is not None
        assert duration_s <= BUSY_STEP_BUDGET_S
        assert "about never goes idle: proved by the screenshot and one late hierarchy read" in note
    assert sum("screen about never went idle" in line for line in keep.logs) == 1  # said once, then remembered


def test_the_busy_screen_is_remembered_for_the_steps_that_start_on_it():
    _, _, keep = run()
    obs, duration_s, note = keep.done["2"]  # starts on `about` (reused, not read again) and lands on `home`
    assert obs.screen == "home" and obs.before is not None and obs.before.screen == "about"
    assert "about never goes idle" in note
    assert duration_s < IDLE_TIMEOUT_S  # nothing on `home` is slow: its reads are confirmed as usual
