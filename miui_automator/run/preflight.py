"""What must hold on a phone before any tap, each failure with the instruction that fixes it."""

from __future__ import annotations

from dataclasses import dataclass

from ..device.info import DeviceInfo
from ..errors import DeviceError

MIN_BATTERY = 20


@dataclass(frozen=True)
class PreflightIssue:
    check: str
    problem: str
    fix: str


class PreflightFailed(DeviceError):
    """The phone is not ready (exit 3); ``issues`` says what to fix, one by one."""

    def __init__(self, serial: str, issues: list[PreflightIssue]) -> None:
        super().__init__(f"{serial}: preflight failed: " + "; ".join(f"{i.problem} ({i.fix})" for i in issues),
                         serial=serial)
        self.issues = tuple(issues)


def preflight(info: DeviceInfo) -> list[PreflightIssue]:
    """Every check that fails on ``info`` (an empty list: ready)."""
    issues = []
    if not info.adb_input_enabled:
        issues.append(PreflightIssue("usb-debugging-security", "USB debugging (Security settings) is off: MIUI refuses taps",
                                     "On the phone: Settings > Additional settings > Developer options > turn on "
                                     "\"USB debugging (Security settings)\" (needs a SIM and a signed-in Mi account)"))
    if info.screen_on is False:
        issues.append(PreflightIssue("screen", "the screen is off", "Wake the phone (press power) and unlock it"))
    elif info.locked:
        issues.append(PreflightIssue("lock", "the screen is locked", "Unlock the phone and keep it on the home screen"))
    if info.battery_level is not None and info.battery_level < MIN_BATTERY and not info.charging:
        issues.append(PreflightIssue("battery", f"battery at {info.battery_level}% and not charging",
                                     f"Charge the phone above {MIN_BATTERY}% or plug it in"))
    if not info.supported:
        issues.append(PreflightIssue("os", f"{info.os_label or 'this OS'} is not a supported MIUI 12-14 / HyperOS 1-2 build",
                                     "Use a phone on MIUI 12-14 or HyperOS 1-2"))
    return issues
