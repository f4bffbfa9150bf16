"""``confirm-factory-reset`` on an in-process simulated phone (no sockets) and one clock: the erase counts as
started only when the confirmation was on screen, "Erasing…" showed after the tap and then the phone left
ADB; any other way of losing the phone is a device error; a build that keeps ADB is waited for."""

from __future__ import annotations

import pytest

from miui_automator.device.driver import ShellOutput
from miui_automator.device.hierarchy import parse_hierarchy
from miui_automator.errors import DeviceError, StepFailed
from miui_automator.flow.tasks_api import TaskContext
from miui_automator.flow.waits import FakeClock
from miui_automator.sim.phone import Phone
from miui_automator.sim.screens.settings import FactoryReset
from miui_automator.tasks import registry
from miui_automator.tasks.reset import ERASING_SEEN_TIMEOUT_S, RETAIL_NOTE


class PhoneDriver:
    """The Driver calls the task makes, straight onto a simulated phone that is gone once unplugged."""

    serial = "sim-1"

    def __init__(self, phone: Phone, *, drop_at_tap: bool = False, drop_after_tap: bool = False) -> None:
        self.phone = phone
        self.drop_at_tap = drop_at_tap
        self.drop_after_tap = drop_after_tap
        self.taps = 0
        self.restarts = 0

    def _read(self) -> None:
        self.phone.tick()
        if not self.phone.plugged:
            raise DeviceError(f"{self.serial}: device offline")

    def hierarchy(self):
        self._read()
        return parse_hierarchy(self.phone.hierarchy_xml())

    def tap(self, x: int, y: int) -> None:
        self._read()
        self.taps += 1
        if self.drop_at_tap:
            self.phone.unplug()
            raise DeviceError(f"{self.serial}: tap: connection closed")
        self.phone.tap(x, y)
        if self.drop_after_tap:
            self.phone.unplug()

    def shell(self, command: str, timeout_s: float = 30.0) -> ShellOutput:
        self._read()
        return ShellOutput(command, "1\n" if command == "getprop sys.boot_completed" else "alive\n", 0)

    def restart_automation(self) -> None:
        self._read()
        self.restarts += 1


def on_confirmation(**phone_kwargs) -> tuple[Phone, FakeClock]:
    clock = FakeClock()
    phone = Phone("miui14-en", media_files=0, signed_in=False, clock=clock.now, **phone_kwargs)
    screen = FactoryReset(phone)
    phone.push(screen)
    screen.on_action("erase", None)
    phone.changed()
    assert phone.current_screen_name() == "factory_reset_confirm"
    return phone, clock


def confirm(driver: PhoneDriver, clock: FakeClock, **args: str) -> str:
    ctx = TaskContext(driver, {"id": "android:id/button1", "text": "", **args}, {}, clock, "9")
    return registry()["confirm-factory-reset"](ctx)


def test_a_retail_phone_that_showed_erasing_and_left_adb_is_a_started_erase() -> None:
    phone, clock = on_confirmation()
    driver = PhoneDriver(phone)
    assert confirm(driver, clock) == RETAIL_NOTE
    assert (phone.plugged, phone.state.factory_resets, phone.state.adb_enabled) == (False, 1, False)
    assert driver.taps == 1 and driver.restarts == 0
    assert clock.now() < 5, "the retail phone is not waited for once it is gone"


def test_a_build_that_keeps_adb_is_waited_for_and_its_automation_restarted() -> None:
    phone, clock = on_confirmation(keep_adb_after_reset=True)
    driver = PhoneDriver(phone)
    note = confirm(driver, clock, keeps_adb="true")
    assert "back" in note and driver.restarts == 1
    assert phone.plugged and phone.current_screen_name() == "setup_wizard"


def test_keeps_adb_on_a_phone_that_does_not_is_a_device_error_after_the_bound() -> None:
    phone, clock = on_confirmation()
    with pytest.raises(DeviceError, match="did not come back within 20 s"):
        confirm(PhoneDriver(phone), clock, keeps_adb="true", back_timeout="20")
    assert phone.state.factory_resets == 1


def test_a_phone_lost_at_the_tap_is_a_device_error_not_a_started_erase() -> None:
    phone, clock = on_confirmation()
    with pytest.raises(DeviceError, match="before 'Erasing…' was seen: whether it is being erased is unknown"):
        confirm(PhoneDriver(phone, drop_at_tap=True), clock)
    assert phone.state.factory_resets == 0


def test_a_phone_lost_after_the_tap_but_before_erasing_showed_is_a_device_error() -> None:
    phone, clock = on_confirmation()
    driver = PhoneDriver(phone, drop_after_tap=True)
    with pytest.raises(DeviceError, match="right after the erase was confirmed, before 'Erasing…' was seen"):
        confirm(driver, clock)
    assert driver.taps == 1


def test_nothing_is_tapped_unless_the_erase_confirmation_is_on_screen() -> None:
    phone, clock = on_confirmation()
    phone.back()  # the dialog is gone: Factory reset itself shows
    driver = PhoneDriver(phone)
    with pytest.raises(StepFailed, match="the erase confirmation is not on screen .*nothing was tapped"):
        confirm(driver, clock)
    assert driver.taps == 0 and phone.state.factory_resets == 0


def test_erasing_that_never_shows_fails_the_step_after_its_bound() -> None:
    phone, clock = on_confirmation()
    driver = PhoneDriver(phone)
    driver.phone.tap = lambda x, y: True  # the tap lands on nothing: the confirmation stays
    with pytest.raises(StepFailed, match=f"'Erasing…' did not show within {ERASING_SEEN_TIMEOUT_S:g} s"):
        confirm(driver, clock)
    assert phone.state.factory_resets == 0 and phone.plugged
