"""One injectable clock, and the only way the engine waits: bounded, on a condition.

Named constants keep every timeout and retry cap in one place.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Protocol, TypeVar

T = TypeVar("T")

POLL_INTERVAL_S = 0.1
SETTLE_INTERVAL_S = 0.01  # between the two reads that must agree for a screen to count as settled
SETTLE_TIMEOUT_S = 5.0
# After the hierarchy settles the frames may still move this long (the tail of a slide or fade, a few
# hundred ms on a phone) before a step gives up waiting for two equal frames and keeps the latest.
MOVING_FRAMES_S = 1.5
DEFAULT_STEP_TIMEOUT_S = 15.0
DEFAULT_WAIT_FOR_TIMEOUT_S = 60.0
SCROLL_MAX_SWIPES = 12
SCROLL_CHANGE_TIMEOUT_S = 1.5
AUTOMATION_RESTARTS_PER_STEP = 1  # repeats of a step whose action met a uiautomator2 the device layer restarted
POPUP_DISMISS_MAX = 3
BUSY_READ_S = 3.0  # a hierarchy read this slow waited out the idle timeout: the screen never goes idle
# A step on a never-idle screen ends within this: each of its hierarchy reads waits out the phone's idle
# timeout (about 10 s), so it makes one late read instead of waiting for two equal ones.
BUSY_STEP_BUDGET_S = 30.0


class Clock(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass
class FakeClock:
    """A clock tests move by hand; sleeping advances it instantly."""

    t: float = 0.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)


def wait_for(probe: Callable[[], T | None], timeout_s: float, clock: Clock, interval_s: float = POLL_INTERVAL_S) -> T | None:
    """Call ``probe`` until it returns something truthy or ``timeout_s`` passes; the last value."""
    deadline = clock.now() + timeout_s
    while True:
        value = probe()
        if value:
            return value
        if clock.now() >= deadline:
            return value
        clock.sleep(min(interval_s, max(0.0, deadline - clock.now())))
