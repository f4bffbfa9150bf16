"""Simulated phones attached to the real adb server, for integration tests."""

from __future__ import annotations

from typing import Callable, Iterator

import adbutils
import pytest
import uiautomator2 as u2

from miui_automator.sim.host import SimDevice, SimHost, adb_connect
from miui_automator.sim.phone import Phone


@pytest.fixture
def make_phone(adb_port: int, sim_host: SimHost) -> Iterator[Callable[..., SimDevice]]:
    """``make_phone(variant="hyperos1-en", **phone_kwargs) -> SimDevice``, connected and in state ``device``.

    Every phone made is disconnected from the adb server and removed from the host afterwards.
    """
    made: list[SimDevice] = []
    client = adbutils.AdbClient(port=adb_port)

    def make(variant: str = "hyperos1-en", **phone_kwargs) -> SimDevice:
        phone_kwargs.setdefault("seed", len(made) + 1)
        device = sim_host.add_phone(Phone(variant, **phone_kwargs))
        made.append(device)
        adb_connect(device.serial, adb_port)
        return device

    yield make
    for device in made:
        client.disconnect(device.serial)
        sim_host.remove_phone(device)


@pytest.fixture
def adb_device(make_phone: Callable[..., SimDevice], adb_port: int) -> adbutils.AdbDevice:
    """An adbutils AdbDevice for a default (hyperos1-en) simulated phone."""
    device = make_phone()
    return adbutils.AdbClient(port=adb_port).device(device.serial)


@pytest.fixture
def connect(make_phone: Callable[..., SimDevice], sim_host: SimHost):
    """``connect(variant="hyperos1-en", **phone_kwargs) -> (uiautomator2 device, SimDevice, read)``.

    ``read(fn)`` evaluates ``fn(phone)`` on the simulator's loop thread. The u2 launch stream is
    closed afterwards, as uiautomator2 does at interpreter exit.
    """
    clients: list[u2.Device] = []

    def make(variant: str = "hyperos1-en", **phone_kwargs):
        sim = make_phone(variant, **phone_kwargs)
        d = u2.connect(sim.serial)
        clients.append(d)
        return d, sim, lambda fn: sim_host.call(lambda: fn(sim.phone))

    yield make
    for d in clients:
        d.stop_uiautomator(wait=False)
