"""Simulated phones attached to the real adb server, for integration tests."""

from __future__ import annotations

from typing import Callable, Iterator

import adbutils
import pytest

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
