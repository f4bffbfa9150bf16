"""The simulator host wakes for the phones' timers and for nothing else (sim/host.py): a phone's
timer fires although nobody asks the phone anything, and an idle host never wakes at all.

The host listens on loopback ports but no adb server is involved: the phones are driven through
``SimHost.call`` only."""

from __future__ import annotations

import threading
import time
from typing import Callable, Iterator

import pytest

from miui_automator.sim.host import SimHost
from miui_automator.sim.phone import Phone

BOUND_S = 5.0


@pytest.fixture()
def host() -> Iterator[SimHost]:
    with SimHost() as started:
        yield started


def wait_for(condition: Callable[[], bool]) -> float:
    """Seconds until ``condition`` held (polled, at most BOUND_S)."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < BOUND_S, "condition never held"
        time.sleep(0.005)
    return time.monotonic() - started


def counting_ticks(phone: Phone) -> list[float]:
    """Record when the host ticks ``phone`` (the times its clock is read for due timers)."""
    ticks: list[float] = []
    real_tick = phone.tick

    def tick() -> None:
        ticks.append(time.monotonic())
        real_tick()

    phone.tick = tick  # type: ignore[method-assign]
    return ticks


def test_an_idle_host_never_wakes_for_its_phones(host: SimHost) -> None:
    phones = [host.add_phone(Phone(media_files=0)).phone for _ in range(2)]
    ticks = [counting_ticks(phone) for phone in phones]
    time.sleep(0.35)  # a periodic 0.1 s tick (the old host) would have ticked each phone 3 times
    assert ticks == [[], []]


def test_a_timer_fires_at_its_time_without_any_request(host: SimHost) -> None:
    phone = host.add_phone(Phone(media_files=0)).phone
    fired = threading.Event()
    host.call(phone.after, 30.0, lambda: None)  # a later timer first: the host must not sleep until it
    started = time.monotonic()
    host.call(phone.after, 0.05, fired.set)
    wait_for(fired.is_set)
    took = time.monotonic() - started
    assert 0.05 <= took < 0.05 + 1.0
    ticks = counting_ticks(phone)
    time.sleep(0.2)
    assert ticks == []  # after it, the host sleeps again until the 30 s timer


def test_a_timed_disconnect_unplugs_an_idle_phone(host: SimHost) -> None:
    device = host.add_phone(Phone(media_files=0, faults="disconnect=0.1"))
    assert 0.0 <= wait_for(lambda: not host.call(lambda: device.phone.plugged)) < BOUND_S
    assert not device.listening  # the host acted on the unplug: adbd closed
