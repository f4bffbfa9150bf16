"""A phone reached through the adb server (local, or a remote one at host:port) with
adbutils for shell/sync and uiautomator2 for the UI.

Every failure becomes a :class:`miui_automator.errors.DeviceError` naming the serial; text is
typed through uiautomator2's JSON-RPC (``setText``), never on an ``input text`` command line,
so passwords never appear in a command run on the phone.
"""

from __future__ import annotations

import base64
import io
import shlex
from typing import Mapping

import adbutils
import uiautomator2 as u2
from PIL import Image, UnidentifiedImageError

from ..errors import DeviceError
from .driver import ShellOutput
from .hierarchy import Hierarchy, parse_hierarchy
from .info import DeviceInfo, parse_device_info, parse_getprop

U2_ERRORS: tuple[type[BaseException], ...] = (u2.exceptions.DeviceError, u2.exceptions.RPCError, ConnectionError,
                                             adbutils.AdbError, OSError)
KEYS = {"back": "back", "home": "home", "enter": "enter", "recent": "recent", "menu": "menu", "power": "power"}


def adb_client(server: str | None = None) -> adbutils.AdbClient:
    """The adb server to use: ``host:port``, ``port``, or the environment's default."""
    if not server:
        return adbutils.AdbClient()
    host, _, port = server.rpartition(":")
    try:
        return adbutils.AdbClient(host=host or "127.0.0.1", port=int(port))
    except ValueError:
        raise DeviceError(f"bad adb server address {server!r} (expected host:port)") from None


class AndroidDevice:
    """The real Driver: one phone on one adb server."""

    def __init__(self, serial: str, server: str | None = None) -> None:
        self.serial = serial
        self.server = server
        self._client = adb_client(server)
        try:
            states = {d.serial: d.state for d in self._client.list()}
        except (adbutils.AdbError, OSError) as err:
            raise DeviceError(f"cannot reach the adb server{' at ' + server if server else ''}: {err}", serial=serial) from None
        if serial not in states:
            raise DeviceError(f"{serial}: no such device on the adb server", serial=serial)
        if states[serial] != "device":
            hint = " (accept the USB debugging prompt on the phone)" if states[serial] == "unauthorized" else ""
            raise DeviceError(f"{serial}: device is {states[serial]}{hint}", serial=serial)
        self.adb = self._client.device(serial)
        self._u2: u2.Device | None = None

    # ---------------------------------------------------------------- plumbing
    @property
    def u2(self) -> u2.Device:
        if self._u2 is None:
            try:
                self._u2 = u2.connect(self.adb)
            except U2_ERRORS as err:
                raise DeviceError(f"{self.serial}: uiautomator2 did not start: {err}", serial=self.serial) from None
        return self._u2

    def _fail(self, what: str, err: BaseException) -> DeviceError:
        if "INJECT_EVENTS" in str(err) or "SecurityException" in str(err):
            return DeviceError(f"{self.serial}: {what}: MIUI refused the input — turn on Developer options > "
                               "\"USB debugging (Security settings)\"", serial=self.serial)
        return DeviceError(f"{self.serial}: {what}: {type(err).__name__}: {err}".rstrip(": "), serial=self.serial)

    # ---------------------------------------------------------------- reads
    def shell(self, command: str, timeout_s: float = 30.0) -> ShellOutput:
        try:
            result = self.adb.shell2(command, timeout=timeout_s)
        except (adbutils.AdbError, OSError) as err:
            raise self._fail(f"shell {command.split()[0] if command else ''}", err) from None
        return ShellOutput(command, result.output, result.returncode)

    def props(self) -> dict[str, str]:
        return parse_getprop(self.shell("getprop").output)

    def info(self) -> DeviceInfo:
        dumps = {}
        for key, cmd in (("accounts_dump", "dumpsys account"), ("battery_dump", "dumpsys battery"),
                         ("power_dump", "dumpsys power"), ("window_dump", "dumpsys window")):
            dumps[key] = self.shell(cmd).output
        return parse_device_info(self.serial, self.props(), **dumps)

    def _read(self, what: str, fn):
        """A read is safe to repeat: if the uiautomator2 server died under it, restart it and read again."""
        try:
            return fn()
        except U2_ERRORS as first:
            try:
                self.restart_automation()
                return fn()
            except U2_ERRORS as err:
                raise self._fail(what, err) from None
            except DeviceError:
                raise self._fail(what, first) from None

    def hierarchy(self) -> Hierarchy:
        return parse_hierarchy(self._read("reading the UI hierarchy failed", lambda: self.u2.dump_hierarchy()))

    def screenshot(self) -> Image.Image:
        """Through uiautomator2's RPC; if it returns nothing, ``screencap`` with errors surfaced."""
        try:
            data = self._read("screenshot failed", lambda: self.u2.jsonrpc.takeScreenshot(1, 80))
            if data:
                image = Image.open(io.BytesIO(base64.b64decode(data)))
                image.load()
                return image.convert("RGB")
            return self.adb.screenshot(display_id=0, error_ok=False)
        except (UnidentifiedImageError, ValueError) as err:
            raise self._fail("screenshot does not decode", err) from None
        except U2_ERRORS as err:
            raise self._fail("screenshot failed", err) from None

    def window_size(self) -> tuple[int, int]:
        try:
            w, h = self.adb.window_size()
        except (adbutils.AdbError, OSError) as err:
            raise self._fail("window size", err) from None
        return int(w), int(h)

    def current_app(self) -> tuple[str, str]:
        try:
            app = self.adb.app_current()
        except (adbutils.AdbError, OSError) as err:
            raise self._fail("current app", err) from None
        return app.package, app.activity

    # ---------------------------------------------------------------- actions
    def tap(self, x: int, y: int) -> None:
        try:
            self.u2.click(int(x), int(y))
        except U2_ERRORS as err:
            raise self._fail(f"tap at {x},{y} failed", err) from None

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_s: float = 0.2) -> None:
        try:
            self.u2.swipe(int(x1), int(y1), int(x2), int(y2), duration=duration_s)
        except U2_ERRORS as err:
            raise self._fail("swipe failed", err) from None

    def press(self, key: str) -> None:
        try:
            self.u2.press(KEYS.get(key, key))
        except U2_ERRORS as err:
            raise self._fail(f"press {key} failed", err) from None

    def type_text(self, text: str, *, x: int | None = None, y: int | None = None) -> None:
        """setText on the focused field over JSON-RPC: no clipboard, no shell command line."""
        try:
            if x is not None and y is not None:
                self.u2.click(int(x), int(y))
            field = self.u2(focused=True)
            if not field.exists:
                field = self.u2(className="android.widget.EditText")
            field.set_text(text)
        except U2_ERRORS as err:
            raise DeviceError(f"{self.serial}: typing failed: {type(err).__name__}", serial=self.serial) from None

    def start(self, *, component: str | None = None, action: str | None = None,
              extras: Mapping[str, str] | None = None, package: str | None = None, data: str | None = None) -> None:
        args = ["am", "start"]
        if component:
            args += ["-n", component]
        if action:
            args += ["-a", action]
        if data:
            args += ["-d", data]
        for key, value in (extras or {}).items():
            args += ["--es", key, value]
        if package and not component:
            if action:
                args += ["-p", package]
            else:
                args = ["monkey", "-p", package, "-c", "android.intent.category.LAUNCHER", "1"]
        command = " ".join(shlex.quote(a) for a in args)
        out = self.shell(command)
        if out.exit_code != 0 or "Error" in out.output:
            raise DeviceError(f"{self.serial}: {command} failed: {out.output.strip().splitlines()[-1:] or ['no output']}",
                              serial=self.serial, command=command, output=out.output)

    def restart_automation(self) -> None:
        try:
            if self._u2 is not None:
                self._u2.reset_uiautomator()
            else:
                _ = self.u2
        except U2_ERRORS as err:
            raise self._fail("restarting uiautomator2 failed", err) from None
