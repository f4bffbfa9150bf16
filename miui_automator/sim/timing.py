"""How long things take on the simulated phone: one table of timing profiles, one clock per phone.

Without a profile the simulator answers as fast as Python can (``instant``, what the tests use),
which measures the wrong costs: a real phone needs hundreds of milliseconds for a hierarchy dump
and streams files at USB speed. ``phone`` holds the figures of a mid-range Xiaomi phone (see the
"Timing" section of ``docs/simulator.md`` for where they come from), ``slow-phone`` doubles the
phone's own work. The USB link is a separate choice (``usb2``, ``usb3`` or ``instant`` for
CPU-bound benchmarks), because the cable and the phone are bought separately.

Every other module asks a :class:`Timing` for seconds and never keeps a figure of its own; the
services then wait with the event loop's timers, never ``time.sleep`` and never a busy loop, so
a phone that is "working" costs no CPU and never holds up the other phones on the loop. Each
figure gets ±20% jitter from the phone's seed: repeatable run to run, yet never the same
latency twice in a row.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass

from ..errors import ConfigError

JITTER = 0.2  # every delay is nominal × uniform(1 − JITTER, 1 + JITTER)
# androidx.test.uiautomator's QueryController: no accessibility event for this long counts as idle.
IDLE_QUIET_S = 0.5
# `uiautomator dump` (the shell command) wants this much quiet, waits this long for it, then gives up.
SHELL_DUMP_QUIET_S = 1.0
SHELL_DUMP_IDLE_TIMEOUT_S = 10.0
# UiObject.waitForExists / waitUntilGone (WAIT_FOR_SELECTOR_POLL) and UiDevice.wait(Until...) (WaitMixin's
# DEFAULT_POLL_INTERVAL): look, and if the element is not there yet, look again a second later.
SELECTOR_POLL_S = 1.0
# The share of an activity transition during which the hierarchy still shows the old screen.
HIERARCHY_SWITCH = 0.4
MB = 1_000_000


@dataclass(frozen=True)
class Profile:
    """The phone's own costs, in seconds (rates in bytes per second; 0 means "takes no time")."""

    name: str
    dump_s: float = 0.0  # a hierarchy dump (uiautomator2 or `uiautomator dump`) ...
    dump_per_kb_s: float = 0.0  # ... plus this per KB of XML
    screenshot_s: float = 0.0  # takeScreenshot, /screenshot/0, framebuffer:, screencap
    input_s: float = 0.0  # a click, key press or typed text through uiautomator2
    activity_s: float = 0.0  # an activity transition (a new screen slides in)
    dialog_s: float = 0.0  # a dialog or popup appearing or going (a fade)
    shell_s: float = 0.0  # one adb shell round trip on the phone's side
    md5_rate: float = 0.0  # on-phone md5sum (and the other *sum commands), bytes/s
    idle_quiet_s: float = 0.0  # uiautomator's idle rule: quiet for this long after the last change
    shell_dump_quiet_s: float = 0.0  # `uiautomator dump` calls waitForIdle(1000, 10000): 1 s of quiet ...
    shell_dump_idle_timeout_s: float = 0.0  # ... within 10 s, or it gives up on a busy screen
    selector_poll_s: float = 0.0  # uiautomator2's waitForExists/waitUntilGone look again after this (0: at once)

    def scaled(self, name: str, factor: float) -> "Profile":
        """The same phone ``factor`` times slower; uiautomator's fixed timeouts stay as they are."""
        fixed = {"name", "idle_quiet_s", "shell_dump_quiet_s", "shell_dump_idle_timeout_s", "selector_poll_s"}
        changes: dict[str, object] = {"name": name}
        for f in dataclasses.fields(self):
            if f.name in fixed:
                continue
            value = getattr(self, f.name)
            changes[f.name] = value / factor if f.name.endswith("_rate") else value * factor
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


INSTANT = Profile("instant")
PHONE = Profile(
    "phone", dump_s=0.150, dump_per_kb_s=0.004, screenshot_s=0.180, input_s=0.040, activity_s=0.350,
    dialog_s=0.200, shell_s=0.015, md5_rate=200 * MB, idle_quiet_s=IDLE_QUIET_S, shell_dump_quiet_s=SHELL_DUMP_QUIET_S,
    shell_dump_idle_timeout_s=SHELL_DUMP_IDLE_TIMEOUT_S, selector_poll_s=SELECTOR_POLL_S,
)
PROFILES: dict[str, Profile] = {p.name: p for p in (INSTANT, PHONE, PHONE.scaled("slow-phone", 2.0))}

# USB throughput of `sync:` transfers, bytes/s (0: no limit but the simulator's own speed).
LINKS: dict[str, float] = {"usb2": 40 * MB, "usb3": 250 * MB, "instant": 0.0}
DEFAULT_TIMING = "instant"
DEFAULT_LINK = "usb2"  # the link of a phone profile when none is named; `instant` timing implies `instant`


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigError(f"unknown timing profile {name!r} (choose from {', '.join(PROFILES)})") from None


def link_rate(name: str) -> float:
    try:
        return LINKS[name]
    except KeyError:
        raise ConfigError(f"unknown link {name!r} (choose from {', '.join(LINKS)})") from None


class Timing:
    """One phone's clock: the profile's figures with the phone's own jitter.

    ``link=None`` means ``usb2`` for a phone profile and ``instant`` for the ``instant`` profile,
    so the default phone (what the tests use) waits for nothing; ``Timing("instant", "usb2")``
    paces only the cable. ``shell_dump_idle_timeout`` overrides how long `uiautomator dump`
    waits for an idle screen (10 s on a phone), so a test of the ``noidle`` fault stays short.
    """

    def __init__(self, profile: str | Profile = DEFAULT_TIMING, link: str | None = None, seed: int = 0,
                 shell_dump_idle_timeout: float | None = None) -> None:
        self.profile = profile if isinstance(profile, Profile) else get_profile(profile)
        if link is None:
            link = "instant" if self.profile == INSTANT else DEFAULT_LINK
        self.link = link
        self.link_rate = link_rate(link)
        self._rng = random.Random(f"timing:{seed}")
        self._shell_dump_idle_timeout = shell_dump_idle_timeout

    def __repr__(self) -> str:
        return f"Timing({self.profile.name!r}, link={self.link!r})"

    def _jitter(self, seconds: float) -> float:
        if seconds <= 0:
            return 0.0
        return seconds * self._rng.uniform(1 - JITTER, 1 + JITTER)

    def dump(self, xml_bytes: int) -> float:
        p = self.profile
        return self._jitter(p.dump_s + p.dump_per_kb_s * xml_bytes / 1024)

    def screenshot(self) -> float:
        return self._jitter(self.profile.screenshot_s)

    def input(self) -> float:
        return self._jitter(self.profile.input_s)

    def shell(self) -> float:
        return self._jitter(self.profile.shell_s)

    def transition(self, kind: str) -> float:
        """Seconds an ``"activity"`` or ``"dialog"`` transition animates."""
        return self._jitter(self.profile.activity_s if kind == "activity" else self.profile.dialog_s)

    def md5(self, nbytes: int) -> float:
        rate = self.profile.md5_rate
        return self._jitter(nbytes / rate) if rate and nbytes else 0.0

    def sync_rate(self) -> float:
        """Bytes/s for one transfer session (0: unpaced)."""
        return self.link_rate * self._rng.uniform(1 - JITTER, 1 + JITTER) if self.link_rate else 0.0

    @property
    def idle_quiet(self) -> float:
        return self.profile.idle_quiet_s

    @property
    def shell_dump_idle_timeout(self) -> float:
        if self._shell_dump_idle_timeout is not None:
            return self._shell_dump_idle_timeout
        return self.profile.shell_dump_idle_timeout_s

    @property
    def selector_poll(self) -> float:
        """Seconds between two looks of a waiting selector (0: the simulator's own short poll)."""
        return self.profile.selector_poll_s

    @property
    def shell_dump_quiet(self) -> float:
        return self.profile.shell_dump_quiet_s


class Pacer:
    """Holds a byte stream to ``rate`` bytes/s by telling the caller how long to wait.

    Sans-IO: :meth:`spend` returns seconds to sleep (0 most of the time). It owes time against an
    absolute schedule started at the first byte, and only asks for a wait once at least
    ``quantum`` seconds are owed, so a fast stream of small writes turns into a few timer waits
    rather than one per write.
    """

    def __init__(self, rate: float, clock, quantum: float = 0.005) -> None:
        self.rate = rate
        self.clock = clock
        self.quantum = quantum
        self._start: float | None = None
        self._bytes = 0

    def spend(self, nbytes: int) -> float:
        if not self.rate or nbytes <= 0:
            return 0.0
        now = self.clock()
        if self._start is None:
            self._start = now
        self._bytes += nbytes
        owed = self._start + self._bytes / self.rate - now
        if owed < -1.0:  # the stream sat idle: idle time is not credit for a later burst
            self._start, self._bytes = now, nbytes
            owed = nbytes / self.rate
        return owed if owed >= self.quantum else 0.0
