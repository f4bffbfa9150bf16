"""AndroidDevice owns uiautomator2 restarts: the simulated phone's u2 server dies (u2crash) under a read and under a tap.

Through the real adb server, adbutils and uiautomator2: a read the crash dropped is repeated after the
restart; a tap it dropped is not repeated (it may have landed) and AutomationRestarted says so.
"""

from __future__ import annotations

import pytest

from miui_automator.device.android import AndroidDevice
from miui_automator.errors import AutomationRestarted


pytestmark = pytest.mark.integration


def test_a_read_dropped_by_a_crash_is_repeated_after_a_restart(make_phone, sim_host) -> None:
    dev = make_phone(faults="u2crash=1")  # the first JSON-RPC call dies with the server
    events: list[str] = []
    sim_host.call(lambda: dev.phone.subscribe(events.append))
    assert AndroidDevice(dev.serial).hierarchy().main_package == "com.miui.home"
    assert events.count("u2crash") == 1
    assert sim_host.call(lambda: dev.phone.u2_running) is True


def test_a_tap_dropped_by_a_crash_is_not_repeated(make_phone, sim_host) -> None:
    dev = make_phone(faults="u2crash=2")
    driver = AndroidDevice(dev.serial)
    driver.hierarchy()
    taps_before = sim_host.call(lambda: dev.phone.input_events)
    with pytest.raises(AutomationRestarted, match=rf"^{dev.serial}: tap at 540,1200: .*uiautomator2 was restarted"):
        driver.tap(540, 1200)
    assert sim_host.call(lambda: dev.phone.input_events) == taps_before  # dropped, and not sent again
    assert sim_host.call(lambda: dev.phone.u2_running) is True
    driver.tap(540, 1200)  # the caller decides to repeat it: the restarted server takes it
    assert sim_host.call(lambda: dev.phone.input_events) == taps_before + 1
