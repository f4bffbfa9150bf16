"""Run simulated phones in-process, and the helpers to attach the real adb server to them.

:class:`SimHost` owns one asyncio event loop in a background daemon thread; every phone it
hosts listens on its own loopback port. The phone model is single-threaded on that loop, so
code on other threads (the CLI, tests, benchmarks) touches a phone only through
:meth:`SimHost.call`.

Typical use::

    with SimHost() as host:
        dev = host.add_phone(Phone("hyperos1-en"))
        ensure_adb_server(adb_port)
        adb_connect(dev.serial, adb_port)
        ...
        host.call(dev.phone.unplug)    # the adb server sees the cable pulled
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import logging
import math
import os
import socket
import subprocess
import threading
import time
from typing import Any, Callable

from ..errors import DeviceError
from ..secret_env import scrubbed_environ
from . import frames
from .transport import AdbdServer

log = logging.getLogger(__name__)

CALL_TIMEOUT = 60.0
DEFAULT_ADB_PORT = 5037
ADB_START_TIMEOUT = 30.0
CONNECT_TIMEOUT = 15.0


class SimDevice:
    """A hosted phone: its adbd port and serial, and cable/adbd controls usable from any thread."""

    def __init__(self, host: "SimHost", server: AdbdServer) -> None:
        self._host = host
        self._server = server
        self.removed = False

    @property
    def phone(self):
        return self._server.phone

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def serial(self) -> str:
        """The serial the adb server gives this phone after ``adb connect``."""
        return f"127.0.0.1:{self.port}"

    @property
    def listening(self) -> bool:
        return self._server.listening

    def stop(self) -> None:
        """Stop listening and drop all connections, like killing adbd."""
        self._host.call(self._server.stop)

    def start(self) -> None:
        """Listen again on the same port; the adb server re-attaches within about 3 s."""
        self._host.call(self._server.start)

    def authorize(self) -> None:
        """Accept the host's key, as tapping "Allow USB debugging" does (``require_auth`` phones)."""
        self._host.call(self._server.authorize)

    def __repr__(self) -> str:
        return f"SimDevice({self.serial}, {self.phone.variant.name!r})"


class SimHost:
    """An event loop in a daemon thread hosting any number of simulated phones."""

    def __init__(self) -> None:
        self.devices: list[SimDevice] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._alarm: asyncio.Task | None = None  # waits for the phones' next due timer, if any
        self._alarm_at = math.inf

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> "SimHost":
        if self._loop is not None:
            return self
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="sim-host", daemon=True)
        self._thread.start()
        ready.wait()
        return self

    def stop(self) -> None:
        """Close every phone's adbd and the loop; safe to call twice."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            self.call(self._shutdown)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            if not thread.is_alive():
                loop.close()
            self._loop = None
            self._thread = None
            self.devices.clear()

    async def _shutdown(self) -> None:
        if self._alarm is not None:
            self._alarm.cancel()
            self._alarm = None
        for dev in self.devices:
            dev._server.stop()
            dev._server.cancel_tasks()
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def __enter__(self) -> "SimHost":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._loop is not None

    # ------------------------------------------------------------------ phones
    def add_phone(self, phone, port: int = 0, require_auth: bool = False) -> SimDevice:
        """Start an adbd for ``phone`` on 127.0.0.1:``port`` (0 = a free port) and return its handle."""
        server = AdbdServer(phone, port=port, require_auth=require_auth)
        device = SimDevice(self, server)

        async def setup() -> None:
            await server.start()
            phone.subscribe(lambda event: self._on_phone_event(device, event))
            phone.watch_timers(lambda: self._on_timer_set(device))
            self.devices.append(device)
            self._arm()

        self.call(setup)
        return device

    def remove_phone(self, device: SimDevice) -> None:
        """Stop the phone's adbd for good and forget it."""
        device.removed = True
        device.stop()
        if device in self.devices:
            self.devices.remove(device)

    def _on_phone_event(self, device: SimDevice, event: str) -> None:
        """Phone events arrive on the loop thread: act on the adbd without blocking."""
        if device.removed:
            return
        server = device._server
        if event == "unplug":
            server.stop()
        elif event == "replug":
            server.spawn(server.start())

    def _on_timer_set(self, device: SimDevice) -> None:
        if device.removed:
            return
        if threading.current_thread() is self._thread:
            self._arm()
        elif self._loop is not None:
            self._loop.call_soon_threadsafe(self._arm)

    # ------------------------------------------------------------------ the phones' timers
    def _arm(self) -> None:
        """Wake at the earliest due timer of any phone, unless an alarm is already set that soon.

        A phone's timers (a backup's progress, a factory reset's erase, a timed disconnect) must
        fire although nobody asks the phone anything. Waking only for them, rather than on a
        periodic tick, leaves an idle simulator asleep; the alarm waits on the frame clock
        (``frames.py``, never before its time) so it shares a wake-up with the answers due then.
        """
        loop = self._loop
        if loop is None:
            return
        delay = max(0.0, min((d.phone.next_due() - d.phone.clock() for d in self.devices), default=math.inf))
        if delay == math.inf:
            return
        when = loop.time() + delay
        if self._alarm is not None:
            if self._alarm_at <= when:
                return
            self._alarm.cancel()
        self._alarm, self._alarm_at = loop.create_task(self._ring(delay)), when

    async def _ring(self, delay: float) -> None:
        await frames.pause(delay, early=False)
        self._alarm = None
        for device in list(self.devices):
            try:
                device.phone.tick()
            except Exception:
                log.exception("timer failed for %s", device.serial)
        self._arm()

    # ------------------------------------------------------------------ cross-thread calls
    def call(self, fn: Callable[..., Any], *args: Any, timeout: float = CALL_TIMEOUT) -> Any:
        """Run ``fn(*args)`` on the loop thread and return its result (awaited if it is awaitable).

        This is how other threads read or change a phone model safely.
        """
        loop = self._loop
        if loop is None:
            raise RuntimeError("SimHost is not started")

        async def run() -> Any:
            result = fn(*args)
            if inspect.isawaitable(result):
                result = await result
            return result

        if threading.current_thread() is self._thread:
            raise RuntimeError("SimHost.call() from the loop thread would deadlock; call the function directly")
        future = asyncio.run_coroutine_threadsafe(run(), loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise


# ---------------------------------------------------------------------- adb server helpers
def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def adb_path() -> str:
    """The real adb binary shipped inside the adbutils wheel."""
    import adbutils

    return adbutils.adb_path()


def _resolve_port(port: int | None) -> int:
    if port is not None:
        return port
    return int(os.environ.get("ANDROID_ADB_SERVER_PORT") or DEFAULT_ADB_PORT)


def adb_server_alive(port: int | None = None, timeout: float = 2.0) -> bool:
    """True when an adb server answers ``host:version`` on ``port``."""
    try:
        with socket.create_connection(("127.0.0.1", _resolve_port(port)), timeout=timeout) as sock:
            sock.sendall(b"000chost:version")
            return sock.recv(4) == b"OKAY"
    except OSError:
        return False


def ensure_adb_server(port: int | None = None, *, usb: bool = True) -> None:
    """Start ``adb -P port start-server`` unless a server already answers on that port.

    ``port=None`` means ``$ANDROID_ADB_SERVER_PORT``, else 5037, as adb and adbutils decide.
    ``usb=False`` is for a private server that only ever sees simulated phones: it skips the libusb
    backend's 3 s scan for USB devices at start-up.
    """
    port = _resolve_port(port)
    if adb_server_alive(port):
        return
    # The server outlives us: it must not carry a password from our environment for as long as it runs.
    env = scrubbed_environ() if usb else scrubbed_environ(ADB_LIBUSB="0")
    # The server daemonises; its stdio must not be our pipes or run() would wait for it.
    proc = subprocess.run([adb_path(), "-P", str(port), "start-server"], stdin=subprocess.DEVNULL, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=ADB_START_TIMEOUT)
    if proc.returncode != 0 or not adb_server_alive(port):
        raise DeviceError(f"could not start the adb server on port {port}", port=port, returncode=proc.returncode)


def kill_adb_server(port: int | None = None) -> None:
    """Stop the adb server on ``port`` (no error when none runs)."""
    port = _resolve_port(port)
    if adb_server_alive(port):
        subprocess.run([adb_path(), "-P", str(port), "kill-server"], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=ADB_START_TIMEOUT)


def device_state(serial: str, adb_port: int | None = None) -> str | None:
    """The adb server's state for ``serial`` (``device``, ``offline``, ``unauthorized`` …) or None if unknown."""
    import adbutils

    client = adbutils.AdbClient(host="127.0.0.1", port=_resolve_port(adb_port))
    for info in client.list():
        if info.serial == serial:
            return info.state
    return None


def wait_for_state(serial: str, adb_port: int | None = None, state: str = "device",
                   timeout: float = CONNECT_TIMEOUT) -> None:
    """Poll the adb server until ``serial`` is in ``state``; DeviceError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    seen = None
    while True:
        seen = device_state(serial, adb_port)
        if seen == state:
            return
        if time.monotonic() >= deadline:
            raise DeviceError(f"{serial} did not reach state {state!r} in {timeout:g}s (last seen: {seen})",
                              serial=serial, state=seen)
        time.sleep(0.05)


def adb_connect(serial: str, adb_port: int | None = None, timeout: float = CONNECT_TIMEOUT,
                state: str = "device") -> str:
    """``adb connect serial`` through adbutils, then wait until the server shows ``state``.

    Returns the server's message. With ``state="unauthorized"`` (a ``require_auth`` phone) the
    server's "failed to authenticate" answer is the expected one.
    """
    import adbutils

    client = adbutils.AdbClient(host="127.0.0.1", port=_resolve_port(adb_port))
    message = client.connect(serial, timeout=timeout)
    expected = ("connected to",) if state == "device" else ("connected to", "failed to authenticate")
    if not any(text in message for text in expected):
        raise DeviceError(f"adb connect {serial} failed: {message}", serial=serial, output=message)
    wait_for_state(serial, adb_port, state, timeout)
    return message
