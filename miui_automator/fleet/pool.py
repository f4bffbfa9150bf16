"""At most N phones at once, each bounded in time, none able to hold up another.

A phone that hangs (a USB hub that stops answering, a socket that never returns) cannot be
killed from Python, so the pool does the next best thing: when a phone's time is up it is
*abandoned* — its slot goes to the next phone at once, its ticket is marked cancelled (the
fleet's driver guard turns that into an error at the phone's next command) and its thread,
a daemon, is left to end on its own. Whoever claims a ticket first — the job finishing, the
timeout, or an interrupt — writes the phone's final status; the others stay silent.
"""

from __future__ import annotations

import ctypes
import logging
import threading
import time
from collections import deque
from typing import Callable

log = logging.getLogger(__name__)

# glibc's malloc gives every thread that allocates an arena of its own (up to 8 per core) and, once a
# large block has been freed, raises its mmap threshold so later large blocks (a decoded frame is 10 MB)
# come from those arenas and stay there after they are freed. bench/fleet_bench.py, 16 phones under
# --timing phone, with frames kept as the phone's JPEG bytes (miui_automator/vision/frames.py): about
# 14 MB of controller memory per extra phone untuned, about 5 MB with two arenas and a fixed 1 MB threshold.
MALLOC_ARENAS = 2
MMAP_THRESHOLD_BYTES = 1 << 20
_M_MMAP_THRESHOLD = -3  # mallopt parameters, from glibc's malloc.h
_M_ARENA_MAX = -8


def tune_allocator(arenas: int = MALLOC_ARENAS, mmap_threshold: int = MMAP_THRESHOLD_BYTES) -> bool:
    """Hold the C allocator to a few arenas and hand large blocks back to the system when freed, so memory
    grows by what each phone holds, not by what each thread once held. Call it before the phone threads
    start. True when applied; False where the C library has no ``mallopt`` (not glibc), which changes
    nothing else."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_ARENA_MAX, arenas)) & bool(mallopt(_M_MMAP_THRESHOLD, mmap_threshold))


class Ticket:
    """One phone's job in the pool."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.cancelled = threading.Event()
        self.reason = ""  # why it was cancelled: a timeout or an interrupt
        self.started_at: float | None = None
        self.deadline: float | None = None
        self.thread: threading.Thread | None = None
        self._claimed = False
        self._lock = threading.Lock()

    def claim(self) -> bool:
        """True once, for the first caller: that caller owns the phone's final status."""
        with self._lock:
            if self._claimed:
                return False
            self._claimed = True
            return True

    @property
    def claimed(self) -> bool:
        return self._claimed


class PhonePool:
    """Jobs in daemon threads, ``parallel`` at a time, each abandoned after ``timeout_s`` seconds.

    The owner drives it from one thread with :meth:`service` (start what may start, expire what is
    overdue, wait a little), so watch mode can poll adb servers in the same loop.
    """

    def __init__(self, parallel: int, timeout_s: float, *, on_timeout: Callable[[Ticket], None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        if parallel < 1:
            raise ValueError("parallel must be at least 1")
        self.parallel = parallel
        self.timeout_s = timeout_s
        self.on_timeout = on_timeout
        self.clock = clock
        self._queue: deque[tuple[Ticket, Callable[[Ticket], None]]] = deque()
        self._running: set[Ticket] = set()
        self._threads: list[threading.Thread] = []
        self._cond = threading.Condition()

    def submit(self, name: str, job: Callable[[Ticket], None]) -> Ticket:
        ticket = Ticket(name)
        with self._cond:
            self._queue.append((ticket, job))
            self._cond.notify_all()
        return ticket

    @property
    def idle(self) -> bool:
        with self._cond:
            return not self._queue and not self._running

    @property
    def running(self) -> int:
        with self._cond:
            return len(self._running)

    def service(self, wait_s: float) -> None:
        """Start queued jobs into free slots, abandon overdue ones, then wait up to ``wait_s`` for a change."""
        with self._cond:
            self._start_ready()
            expired = self._expire()
            if not expired:
                now = self.clock()
                nearest = min((t.deadline for t in self._running if t.deadline is not None), default=now + wait_s)
                self._cond.wait(max(0.0, min(wait_s, nearest - now)))
                self._start_ready()
                expired = self._expire()
        for ticket in expired:
            self.on_timeout(ticket)
        if expired:
            with self._cond:
                self._start_ready()

    def run_until_idle(self, tick_s: float = 0.5) -> None:
        while not self.idle:
            self.service(tick_s)

    def cancel_all(self) -> tuple[list[Ticket], list[Ticket]]:
        """Stop everything (an interrupt): (running tickets now cancelled, queued tickets never started)."""
        with self._cond:
            queued = [t for t, _ in self._queue]
            self._queue.clear()
            running = list(self._running)
            for t in running + queued:
                t.reason = "interrupted"
                t.cancelled.set()
            self._cond.notify_all()
            return running, queued

    def join(self, timeout_s: float) -> bool:
        """Wait (bounded) for the threads of cancelled jobs to end; True if they all did."""
        deadline = self.clock() + timeout_s
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - self.clock()))
        return not any(t.is_alive() for t in self._threads)

    # ------------------------------------------------------------------ inside the lock
    def _start_ready(self) -> None:
        while self._queue and len(self._running) < self.parallel:
            ticket, job = self._queue.popleft()
            ticket.started_at = self.clock()
            ticket.deadline = ticket.started_at + self.timeout_s
            self._running.add(ticket)
            thread = threading.Thread(target=self._work, args=(ticket, job), name=f"phone-{ticket.name}", daemon=True)
            ticket.thread = thread
            self._threads.append(thread)
            thread.start()

    def _expire(self) -> list[Ticket]:
        now = self.clock()
        expired = [t for t in self._running if t.deadline is not None and now >= t.deadline]
        for t in expired:
            self._running.discard(t)
            t.reason = f"no result within {self.timeout_s:g} s (phone timeout)"
            t.cancelled.set()
        return [t for t in expired if t.claim()]

    def _work(self, ticket: Ticket, job: Callable[[Ticket], None]) -> None:
        try:
            job(ticket)
        except Exception:  # noqa: BLE001 - a job bug must not take the pool (and every other phone) down
            log.exception("phone job %s crashed", ticket.name)
        finally:
            with self._cond:
                self._running.discard(ticket)
                self._threads = [t for t in self._threads if t.is_alive() and t is not threading.current_thread()]
                self._cond.notify_all()
