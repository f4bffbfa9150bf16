"""The narrow Driver protocol: all the flow engine knows of a phone.

A real phone (``AndroidDevice`` over adbutils + uiautomator2) and a recording fake in unit
tests both satisfy it, so the engine is tested without sockets and runs unchanged on a
real phone. Every method either does what it says or raises a
:class:`~miui_automator.errors.DeviceError` naming the phone: never another exception, never a hang.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Protocol, runtime_checkable

from PIL import Image

from .hierarchy import Hierarchy
from .info import DeviceInfo


@dataclass(frozen=True)
class ShellOutput:
    command: str
    output: str
    exit_code: int


@runtime_checkable
class Driver(Protocol):
    serial: str

    def info(self) -> DeviceInfo:
        """Identity and state, read fresh from the phone."""

    def hierarchy(self) -> Hierarchy:
        """The UI hierarchy now."""

    def screenshot(self) -> Image.Image:
        """The frame now, never a silent black fallback."""

    def window_size(self) -> tuple[int, int]:
        """Screen size in pixels for the current rotation."""

    def tap(self, x: int, y: int) -> None: ...

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_s: float = 0.2) -> None: ...

    def press(self, key: str) -> None:
        """back, home, enter, recent, ..."""

    def type_text(self, text: str, *, x: int | None = None, y: int | None = None) -> None:
        """Type into the focused field (or the field at x, y) through uiautomator2, never `input text`."""

    def shell(self, command: str, timeout_s: float | None = None) -> ShellOutput:
        """Run a command on the phone, bounded by ``timeout_s`` (None: the driver's own shell deadline)."""

    def start(self, *, component: str | None = None, action: str | None = None,
              extras: Mapping[str, str] | None = None, package: str | None = None, data: str | None = None) -> None:
        """Open an activity by component, intent action (with string extras and a data URI) or app package."""

    def current_app(self) -> tuple[str, str]:
        """(package, activity) in focus."""

    def restart_automation(self) -> None:
        """Restart the on-device uiautomator2 server, e.g. after a reboot.

        A driver restarts it by itself when it finds it dead: it repeats reads, and raises
        :class:`~miui_automator.errors.AutomationRestarted` from an action that may have landed.
        """


@runtime_checkable
class BinaryReader(Protocol):
    """What reading an app's string table needs beyond :class:`Driver`: bytes, not text.

    Apart from :class:`Driver` so that drivers without it (fakes in tests, a phone reached some other way) stay
    Drivers; the caller checks ``isinstance(driver, BinaryReader)``. Both raise
    :class:`~miui_automator.errors.DeviceError` like every Driver call.
    """

    def shell_bytes(self, command: str, timeout_s: float | None = None) -> bytes:
        """A command's output as bytes, unchanged (``unzip -p APK resources.arsc``)."""

    def read_file(self, path: str, timeout_s: float | None = None) -> bytes:
        """A file on the phone, pulled whole into memory."""
