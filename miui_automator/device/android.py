"""A phone reached through the adb server (local, or a remote one at host:port) with
adbutils for shell/sync and uiautomator2 for the UI.

Everything the phone sends is untrusted and every call to it has a deadline of its own
(:class:`Deadlines`, enforced by :mod:`miui_automator.device.deadline`). Any failure at this
boundary - an adb error, a garbled shell exit status, malformed or cut-off JSON-RPC, a stalled
reply, a screenshot that does not decode - becomes a one-line
:class:`~miui_automator.errors.DeviceError` naming the phone and the operation, with the
phone's own text masked by :func:`miui_automator.privacy.mask_text`.

This module is the one owner of uiautomator2 restarts: uiautomator2's own restart-and-repeat is
switched off (:class:`Automation`). When the server stops answering, it is restarted here (at
most :data:`AUTOMATION_RESTARTS_PER_CALL` times per call); a read is then repeated, an action is
repeated only if it provably never reached the phone, and otherwise
:class:`~miui_automator.errors.AutomationRestarted` lets the caller decide.

Text is typed through uiautomator2's JSON-RPC (``setText``), never on an ``input text`` command
line, so passwords never appear in a command run on the phone or in an error message.
"""

from __future__ import annotations

import base64
import binascii
import re
import shlex
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Mapping, TypeVar

import adbutils
import uiautomator2 as u2
from PIL import Image
from uiautomator2.core import _jsonrpc_call

from ..errors import AutomationRestarted, DeviceError, MiuiAutomatorError
from ..privacy import mask_text
from ..vision.frames import decode_frame
from .deadline import DeadlineClient
from .driver import ShellOutput
from .hierarchy import Hierarchy, HierarchyError, parse_hierarchy
from .info import DeviceInfo, parse_device_info, parse_getprop

SHELL_TIMEOUT_S = 30.0  # one shell command (dumpsys of a busy phone takes seconds)
RPC_TIMEOUT_S = 30.0  # one uiautomator2 call: a hierarchy dump or screenshot of a busy MIUI screen
START_TIMEOUT_S = 90.0  # pushing, starting and waiting for the uiautomator2 server (it waits 30 s itself)
AUTOMATION_RESTARTS_PER_CALL = 1
MAX_ERROR_CHARS = 240  # a phone's error text is quoted this far (stack traces run to kilobytes)
READ_TIMEOUT_S = 120.0  # one binary read (an APK of 100 MB over USB 2 takes about 10 s; a remote adb server more)
MAX_READ_BYTES = 1 << 30  # a binary read larger than this is no APK or table the tool asked for
KEYS = {"back": "back", "home": "home", "enter": "enter", "recent": "recent", "menu": "menu", "power": "power"}

T = TypeVar("T")


@dataclass(frozen=True)
class Deadlines:
    """How long each kind of call to the phone may take; tests inject short ones."""

    shell_s: float = SHELL_TIMEOUT_S
    rpc_s: float = RPC_TIMEOUT_S
    read_s: float = READ_TIMEOUT_S
    start_s: float = START_TIMEOUT_S


class Automation(u2.Device):
    """uiautomator2 without its own restart-and-repeat: restarting is :class:`AndroidDevice`'s job.

    uiautomator2's ``jsonrpc_call`` restarts its server on a connection error and sends the call
    again, which would repeat a tap that may have landed; this sends each call once.
    """

    def jsonrpc_call(self, method: str, params: object = None, timeout: float = 10) -> object:
        return _jsonrpc_call(self._dev, self._device_server_port, method, params, timeout, self._debug)


class _AutomationDown(Exception):
    """uiautomator2 did not answer properly; ``sent`` is False when the call provably never left this host."""

    def __init__(self, error: DeviceError, sent: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.sent = sent


NETWORK_SERIAL = re.compile(r"[A-Za-z0-9.-]+:\d{1,5}")


def adb_client(server: str | None = None) -> DeadlineClient:
    """The adb server to use: ``host:port``, ``port``, or the environment's default."""
    if not server:
        return DeadlineClient()
    host, _, port = server.rpartition(":")
    try:
        return DeadlineClient(host=host or "127.0.0.1", port=int(port))
    except ValueError:
        raise DeviceError(f"bad adb server address {server!r} (expected host:port)") from None


def describe(err: BaseException) -> str:
    """An exception from the phone's side as one masked, bounded line: its type and its own message."""
    message = err.args[0] if err.args and isinstance(err.args[0], str) else str(err)
    text = " ".join(mask_text(f"{type(err).__name__}: {message}".rstrip(": ")).split())
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


class AndroidDevice:
    """The real Driver: one phone on one adb server."""

    def __init__(self, serial: str, server: str | None = None, *, deadlines: Deadlines = Deadlines(),
                 client: DeadlineClient | None = None,
                 connect_automation: Callable[[adbutils.AdbDevice], u2.Device] = Automation) -> None:
        self.serial = serial
        self.server = server
        self.deadlines = deadlines
        self._client = client if client is not None else adb_client(server)
        self._connect_automation = connect_automation
        try:
            with self._client.deadline(deadlines.shell_s) as scope:
                states = {d.serial: d.state for d in self._client.list()}
                if serial not in states and NETWORK_SERIAL.fullmatch(serial):
                    # A phone on network debugging (or a simulated one) the server has not met yet:
                    # attach it as `adb connect` would, as uiautomator2 does for such serials.
                    self._client.connect(serial, timeout=deadlines.shell_s)
                    states = {d.serial: d.state for d in self._client.list()}
        except Exception as err:  # noqa: BLE001 - the adb server's answer is untrusted too
            why = f"no answer within {deadlines.shell_s:g} s" if scope.expired else describe(err)
            raise DeviceError(f"cannot reach the adb server{' at ' + server if server else ''}: {why}",
                              serial=serial) from None
        if serial not in states:
            raise DeviceError(f"{serial}: no such device on the adb server", serial=serial)
        if states[serial] != "device":
            hint = " (accept the USB debugging prompt on the phone)" if states[serial] == "unauthorized" else ""
            raise DeviceError(f"{serial}: device is {mask_text(str(states[serial]))[:40]}{hint}", serial=serial)
        self.adb = self._client.device(serial)
        self._u2: u2.Device | None = None
        self._restart_lock = threading.RLock()  # one thread starts or restarts uiautomator2 at a time
        self._generation = 0  # restarts so far

    # ---------------------------------------------------------------- the boundary
    def _error(self, what: str, err: BaseException) -> DeviceError:
        text = str(err)
        if "INJECT_EVENTS" in text or "SecurityException" in text:
            return DeviceError(f"{self.serial}: {what}: MIUI refused the input — turn on Developer options > "
                               "\"USB debugging (Security settings)\"", serial=self.serial)
        return DeviceError(f"{self.serial}: {what}: {describe(err)}", serial=self.serial)

    def _timed_out(self, what: str, seconds: float) -> DeviceError:
        return DeviceError(f"{self.serial}: {what}: no answer within {seconds:g} s", serial=self.serial, timeout_s=seconds)

    def _call(self, what: str, seconds: float, fn: Callable[[], T]) -> T:
        """``fn()`` under a deadline; whatever goes wrong is a DeviceError naming the phone and ``what``."""
        with self._client.deadline(seconds) as scope:
            try:
                return fn()
            except MiuiAutomatorError:
                raise
            except Exception as err:  # noqa: BLE001 - the boundary: nothing from the phone may escape as a traceback
                if scope.expired:
                    raise self._timed_out(what, seconds) from None
                raise self._error(what, err) from None

    def _parse(self, what: str, fn: Callable[[], T]) -> T:
        """Parse text the phone sent; a parser that chokes on it is the phone's error, not a traceback."""
        try:
            return fn()
        except HierarchyError as err:
            raise HierarchyError(f"{self.serial}: {what}: {err}", **{**err.data, "serial": self.serial}) from None
        except MiuiAutomatorError:
            raise
        except Exception as err:  # noqa: BLE001
            raise self._error(what, err) from None

    @property
    def u2(self) -> u2.Device:
        """The uiautomator2 client, started (within the start deadline) on first use."""
        if self._u2 is None:
            with self._restart_lock:
                if self._u2 is None:
                    self._u2 = self._call("starting uiautomator2", self.deadlines.start_s,
                                          lambda: self._connect_automation(self.adb))
        return self._u2

    def _rpc(self, what: str, fn: Callable[[u2.Device], T]) -> T:
        """One uiautomator2 call under the RPC deadline; :class:`_AutomationDown` if the server did not answer."""
        device = self.u2
        with self._client.deadline(self.deadlines.rpc_s) as scope:
            try:
                return fn(device)
            except MiuiAutomatorError:
                raise
            except Exception as err:  # noqa: BLE001 - the boundary
                if scope.expired:
                    raise _AutomationDown(self._timed_out(what, self.deadlines.rpc_s), sent=True) from None
                if isinstance(err, u2.exceptions.RPCError) and not isinstance(err, u2.exceptions.RPCInvalidError):
                    raise self._error(what, err) from None  # the server answered: it is alive and said no
                never_sent = isinstance(err, u2.exceptions.HTTPError) and isinstance(err.__cause__, adbutils.AdbError)
                raise _AutomationDown(self._error(what, err), sent=not never_sent) from None

    def _automation(self, what: str, fn: Callable[[u2.Device], T], *, action: bool) -> T:
        """A uiautomator2 call, with the server restarted if it stopped answering.

        A read is repeated after the restart. An action is repeated only if it never left this host;
        otherwise it may have landed, so :class:`AutomationRestarted` lets the caller decide.
        """
        restarts = 0
        while True:
            generation = self._generation
            try:
                return self._rpc(what, fn)
            except _AutomationDown as down:
                if restarts >= AUTOMATION_RESTARTS_PER_CALL:
                    raise down.error from None
                restarts += 1
                try:
                    self._restart_once(generation)
                except DeviceError as failed:
                    raise DeviceError(f"{down.error}; restarting uiautomator2 failed too", serial=self.serial,
                                      restart_error=str(failed)) from None
                if action and down.sent:
                    raise AutomationRestarted(f"{down.error}; uiautomator2 was restarted, the action may or may "
                                              "not have happened", serial=self.serial) from None

    def _restart_once(self, generation: int) -> None:
        """Restart the server unless another thread did since ``generation`` (the engine reads the hierarchy
        and takes a screenshot side by side: when the server dies both calls fail, and a second restart
        would kill the server the first one just started)."""
        with self._restart_lock:
            if self._generation == generation:
                self.restart_automation()

    def restart_automation(self) -> None:
        """Restart the on-device uiautomator2 server (after it died, or after a reboot), within the start deadline.

        Every restart counts one generation, so a call that failed before it is repeated, not restarted again."""
        with self._restart_lock:
            if self._u2 is None:
                _ = self.u2
                return
            device = self._u2

            def restart() -> None:
                device.stop_uiautomator()
                device.start_uiautomator()

            self._call("restarting uiautomator2", self.deadlines.start_s, restart)
            self._generation += 1

    # ---------------------------------------------------------------- reads
    def shell(self, command: str, timeout_s: float | None = None) -> ShellOutput:
        seconds = self.deadlines.shell_s if timeout_s is None else timeout_s
        name = command.split()[0] if command.split() else ""
        result = self._call(f"shell {name}", seconds, lambda: self.adb.shell2(command, timeout=seconds))
        return ShellOutput(command, result.output, result.returncode)

    def shell_bytes(self, command: str, timeout_s: float | None = None) -> bytes:
        """A command's raw output, binary-safe: read as bytes (``shell2`` decodes text), no pty (adbd gives a
        command without a terminal a plain pipe), at most :data:`MAX_READ_BYTES`, within the read deadline."""
        seconds = self.deadlines.read_s if timeout_s is None else timeout_s
        name = command.split()[0] if command.split() else ""
        return self._call(f"shell {name}", seconds, lambda: _bounded(_chunks_of(self.adb.shell(command, stream=True))))

    def read_file(self, path: str, timeout_s: float | None = None) -> bytes:
        """A file pulled over adb's sync service into memory (at most :data:`MAX_READ_BYTES`), within the read deadline."""
        seconds = self.deadlines.read_s if timeout_s is None else timeout_s
        return self._call("pulling a file", seconds, lambda: _bounded(self.adb.sync.iter_content(path)))

    def props(self) -> dict[str, str]:
        output = self.shell("getprop").output
        return self._parse("getprop does not parse", lambda: parse_getprop(output))

    def info(self) -> DeviceInfo:
        dumps = {}
        for key, cmd in (("accounts_dump", "dumpsys account"), ("battery_dump", "dumpsys battery"),
                         ("power_dump", "dumpsys power"), ("window_dump", "dumpsys window")):
            dumps[key] = self.shell(cmd).output
        props = self.props()
        return self._parse("device properties do not parse", lambda: parse_device_info(self.serial, props, **dumps))

    def hierarchy(self) -> Hierarchy:
        xml = self._automation("reading the UI hierarchy", lambda d: d.dump_hierarchy(), action=False)
        return self._parse("reading the UI hierarchy", lambda: parse_hierarchy(xml))

    def screenshot(self) -> Image.Image:
        """Through uiautomator2's RPC; if it returns nothing, ``screencap``. Decoded and loaded here, in full."""
        data = self._automation("screenshot", lambda d: d.jsonrpc.takeScreenshot(1, 80), action=False)
        if data:
            raw = self._parse("screenshot does not decode", lambda: _base64(data))
        else:
            raw = self._call("screencap", self.deadlines.shell_s,
                             lambda: self.adb.shell(["screencap", "-p"], encoding=None, timeout=self.deadlines.shell_s))
        try:
            return decode_frame(raw)
        except MiuiAutomatorError as err:
            raise DeviceError(f"{self.serial}: {err}", serial=self.serial) from None

    def window_size(self) -> tuple[int, int]:
        def read() -> tuple[int, int]:
            w, h = self.adb.window_size()
            w, h = int(w), int(h)
            if not (0 < w < 100_000 and 0 < h < 100_000):
                raise ValueError(f"window size {w}x{h}")
            return w, h

        return self._call("window size", self.deadlines.shell_s, read)

    def current_app(self) -> tuple[str, str]:
        app = self._call("current app", self.deadlines.shell_s, self.adb.app_current)
        package, activity = str(app.package), str(app.activity)
        # Android writes an activity of the app's own package short (".ui.Main"); name it in full, as a
        # catalogue entry or a component does, whichever form the phone answered in.
        return package, package + activity if activity.startswith(".") else activity

    # ---------------------------------------------------------------- actions
    def tap(self, x: int, y: int) -> None:
        x, y = int(x), int(y)
        self._automation(f"tap at {x},{y}", lambda d: d.click(x, y), action=True)

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_s: float = 0.2) -> None:
        points = int(x1), int(y1), int(x2), int(y2)
        self._automation("swipe", lambda d: d.swipe(*points, duration=duration_s), action=True)

    def press(self, key: str) -> None:
        self._automation(f"press {key}", lambda d: d.press(KEYS.get(key, key)), action=True)

    def type_text(self, text: str, *, x: int | None = None, y: int | None = None) -> None:
        """setText on the focused field over JSON-RPC: no clipboard, no shell command line.

        The error never quotes the phone's answer: uiautomator2 puts the call's parameters (the
        text typed, perhaps a password) into its error messages.
        """
        def type_into(d: u2.Device) -> None:
            if x is not None and y is not None:
                d.click(int(x), int(y))
            field = d(focused=True)
            if not field.exists:
                field = d(className="android.widget.EditText")
            field.set_text(text)

        try:
            self._automation("typing", type_into, action=True)
        except AutomationRestarted:
            raise AutomationRestarted(f"{self.serial}: typing failed; uiautomator2 was restarted, the text may or "
                                      "may not have been typed", serial=self.serial) from None
        except DeviceError as err:
            if "MIUI refused the input" in str(err):
                raise
            raise DeviceError(f"{self.serial}: typing failed", serial=self.serial) from None

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
            last = mask_text(" ".join(out.output.strip().splitlines()[-1:]))[:MAX_ERROR_CHARS] or "no output"
            shown = mask_text(command)  # extras may carry an account id from the flow's parameters
            raise DeviceError(f"{self.serial}: {shown} failed: {last}",
                              serial=self.serial, command=shown, output=mask_text(out.output))


def _chunks_of(conn: adbutils.AdbConnection, size: int = 65536) -> Iterator[bytes]:
    """The bytes of a shell stream until the phone closes it; the connection is closed in any case."""
    try:
        while True:
            chunk = conn.conn.recv(size)
            if not chunk:
                return
            yield chunk
    finally:
        conn.close()


def _bounded(chunks: Iterable[bytes]) -> bytes:
    data = bytearray()
    for chunk in chunks:
        data += chunk
        if len(data) > MAX_READ_BYTES:
            raise ValueError(f"more than {MAX_READ_BYTES} bytes")
    return bytes(data)


def _base64(data: object) -> bytes:
    if not isinstance(data, str):
        raise ValueError(f"takeScreenshot answered {type(data).__name__}, not base64 text")
    try:
        return base64.b64decode(data, validate=False)
    except binascii.Error as err:
        raise ValueError(f"takeScreenshot answered text that is not base64: {err}") from None
