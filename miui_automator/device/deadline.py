"""A deadline for every call to a phone, enforced on the sockets the call opens.

adbutils gives each socket a 600 s timeout and uiautomator2's ``http_timeout`` never reaches the
forwarded socket its JSON-RPC runs over, so a phone (or a uiautomator2 server) that stops answering
mid-reply would hang the tool. Every socket to a phone is opened through
:meth:`DeadlineClient.make_connection`; while a :meth:`DeadlineClient.deadline` is open, the sockets
opened under it are recorded, and when its time is up one watchdog thread shuts them down. The call blocked on
one of them returns at once with an error, and a connection tried after the deadline is refused, so
no loop inside adbutils or uiautomator2 can outlive it. Sockets that outlive a call that finished in
time (the stream the uiautomator2 server runs on) are left alone.
"""

from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import adbutils


class Deadline:
    """One call's time limit and the sockets opened under it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self.cancelled = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        _WATCHDOG.watch(time.monotonic() + self.seconds, self)

    def cancel(self) -> None:
        with self._lock:  # after this, the watchdog leaves the sockets alone (and need not hold them
            self.cancelled = True  # while the met deadline waits in its heap for its time)
            self._sockets = []

    def register(self, sock: socket.socket) -> None:
        with self._lock:
            if not self.expired:
                self._sockets.append(sock)
                return
        _shut(sock)
        raise adbutils.AdbTimeout(f"no answer within {self.seconds:g} s")

    def check(self) -> None:
        if self.expired:
            raise adbutils.AdbTimeout(f"no answer within {self.seconds:g} s")

    def _expire(self) -> None:
        with self._lock:
            if self.cancelled:
                return
            self.expired = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _shut(sock)


class _Watchdog:
    """One thread that ends every call's deadline in the process.

    A timer thread per call cost a thread start (waiting for the interpreter lock) on every device call:
    with a fleet of 64 phones, thousands of starts and seconds of the phones' threads. Deadlines wait in
    a heap, nearest first; a met one is only marked, and dropped when its time comes.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, when: float, deadline: Deadline) -> None:
        with self._cond:
            heapq.heappush(self._heap, (when, next(self._order), deadline))
            if self._thread is None or not self._thread.is_alive():  # a forked child has no watchdog yet
                self._thread = threading.Thread(target=self._run, name="deadlines", daemon=True)
                self._thread.start()
            if self._heap[0][2] is deadline:
                self._cond.notify()

    def _run(self) -> None:
        while True:
            due: list[Deadline] = []
            with self._cond:
                while not due:
                    now = time.monotonic()
                    while self._heap and (self._heap[0][0] <= now or self._heap[0][2].cancelled):
                        deadline = heapq.heappop(self._heap)[2]
                        if not deadline.cancelled:
                            due.append(deadline)
                    if not due:
                        self._cond.wait(self._heap[0][0] - now if self._heap else None)
            for deadline in due:
                deadline._expire()


_WATCHDOG = _Watchdog()


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by its owner


def _no_delay(sock: socket.socket) -> None:
    """Send each write at once (TCP_NODELAY) on a connection to the adb server.

    Python's ``http.client`` sends a uiautomator2 request's head and body in two writes. With Nagle's
    algorithm the body waits until the adb server's kernel acknowledges the head, and the server sends
    nothing back until the phone answers, so the acknowledgement comes only with the delayed-ACK timer:
    about 40 ms added to every uiautomator2 call (measured against a phone that sends no interim answer:
    a hierarchy read through the tool took 44 ms instead of 1.2)."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        pass  # not a TCP socket (a test's socket pair): nothing to hold back


class _PromptConnection(adbutils.AdbConnection):
    """adbutils' connection, closed without its 10 ms pause.

    adbutils half-closes a connection and sleeps 10 ms before closing it, for every shell command and
    sync stream: a backup's begin pays it on each of its shell calls, and 1000 small files' md5 batches
    on each batch. The reader has already met the server's end of the stream when it closes, and adb's
    own client closes without a pause, so the half-close is kept and the sleep left out."""

    def close(self) -> None:
        if self.closed:
            return
        sock = self.conn
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server is gone already
        sock.close()
        self._AdbConnection__conn = None  # type: ignore[attr-defined]  # what adbutils' own close() clears


class DeadlineClient(adbutils.AdbClient):
    """An adb client whose connections obey the deadline of the call (in this thread) that opens them."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._local = threading.local()
        self._version: int | None = None

    def server_version(self) -> int:
        """The adb server's protocol version, asked once per client.

        adbutils asks it before every transport it opens - one more connection, closed with a 10 ms
        pause, for each uiautomator2 call - and a running server's version does not change."""
        if self._version is None:
            self._version = super().server_version()
        return self._version

    @contextmanager
    def deadline(self, seconds: float) -> Iterator[Deadline]:
        """Bound everything this thread does through this client for ``seconds``."""
        scope = Deadline(seconds)
        outer = getattr(self._local, "scope", None)
        self._local.scope = scope
        scope.start()
        try:
            yield scope
        finally:
            scope.cancel()
            self._local.scope = outer

    def make_connection(self, timeout: float | None = None) -> adbutils.AdbConnection:
        scope: Deadline | None = getattr(self._local, "scope", None)
        if scope is not None:
            scope.check()
        conn = super().make_connection(timeout=timeout)
        conn.__class__ = _PromptConnection  # same state, a close without the pause
        _no_delay(conn.conn)
        if scope is not None:
            try:
                scope.register(conn.conn)
            except adbutils.AdbTimeout:
                conn.close()
                raise
        return conn
