"""The simulator's frame clock: the timed waits of all phones on one loop end together, in batches.

Under a timing profile every answer waits (``timing.py``). Each wait on its own timer wakes the
simulator once per answer, and a wake-up after a sleep costs far more CPU than the little work it
does (the caches went cold while the other processes ran; ``bench/sim_bench.py`` measures it).
So a wait of ``s`` seconds due at ``T`` may end anywhere in its window ``T ± FRAME_SHARE/2 × s``
(±12.5%, inside the profile's own ±20% jitter, and never more than ``MAX_SHIFT_S``), and the
waits whose windows overlap end in one wake-up. A wait that is a timeout or a duration (a shell
command's time, a finger on the glass: ``jsonrpc.Hold``) has the window ``[T, T + FRAME_SHARE × s]``
instead: it never ends before its time. uiautomator2's idle waits re-check their own deadline
(``JsonRpc._idle_wait``), so ``waitForIdle`` on a busy screen never ends early either.

Which waits end together, and when, is :func:`plan`: the wait whose window closes first must end
by then; it ends with as many of the waits whose windows open by then as can share one instant,
and that instant is the mean of their due times. So every batch keeps its waits' mean latency
exactly (a wait alone ends at its very due time), and no wait moves outside its window. Planning
over the waits actually pending, rather than rounding each to a fixed grid of frames, lets a
batch span the whole window: fewer, fuller wake-ups than a grid whose frames must fit inside it.

Only the end of a wait moves: what the phone shows while it works (the hierarchy switch and the
frames of a transition, ``phone.py``) runs on the phone's own clock as before.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field

FRAME_SHARE = 0.25  # the width of a wait's window, as a share of the wait ...
MAX_SHIFT_S = 2 / 60  # ... and an answer moves by two display frames at most (a timeout: four, late)


@dataclass(eq=False)
class Wait:
    """One pending wait: due at ``due``, it may end in ``[opens, closes]``."""

    due: float
    opens: float
    closes: float
    early: bool  # may end before ``due`` (an answer's time), or not (a timeout, a duration)
    done: asyncio.Future | None = field(default=None, repr=False)


def window(now: float, seconds: float, *, early: bool = True) -> Wait:
    """The wait of ``seconds`` started at ``now``: ``±FRAME_SHARE/2`` of it around its due time,
    or with ``early=False`` up to ``FRAME_SHARE`` of it after, never before."""
    due = now + seconds
    shift = min(FRAME_SHARE / 2 * seconds, MAX_SHIFT_S)
    if early:
        return Wait(due, due - shift, due + shift, True)
    return Wait(due, due, due + 2 * shift, False)


def plan(waits: list[Wait]) -> tuple[float, list[Wait]]:
    """The next batch of ``waits`` (not empty) and the instant it ends.

    The wait whose window closes first decides the latest instant. Taking the waits in the order
    their windows open, the largest group that includes it and has one instant inside every
    member's window equal to the mean due time of its members that may end early (with none,
    the earliest instant they all allow) ends together.
    """
    first = min(waits, key=lambda w: w.closes)
    best = ([first], first.due if first.early else first.opens)
    candidates = sorted((w for w in waits if w.opens <= first.closes), key=lambda w: w.opens)
    due_sum, early_count, has_first = 0.0, 0, False
    for count, w in enumerate(candidates, 1):
        opens = w.opens  # sorted: the last one opens latest
        has_first = has_first or w is first
        if w.early:
            due_sum += w.due
            early_count += 1
        when = due_sum / early_count if early_count else opens
        if has_first and opens <= when <= first.closes and count > len(best[0]):
            best = (candidates[:count], when)
    return best[1], best[0]


class _Clock:
    """The waits pending on one event loop and the one timer for the next batch (it runs on that
    loop and keeps no reference to it, so a finished loop's clock goes with it)."""

    def __init__(self) -> None:
        self.waits: list[Wait] = []
        self.batch: list[Wait] = []
        self.timer: asyncio.TimerHandle | None = None

    def add(self, wait: Wait) -> None:
        self.waits.append(wait)
        self._replan()

    def _replan(self) -> None:
        self.waits = [w for w in self.waits if w.done is None or not w.done.done()]
        if not self.waits:
            self.batch = []
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
            return
        when, self.batch = plan(self.waits)
        if self.timer is not None:
            if self.timer.when() == when:
                return
            self.timer.cancel()
        self.timer = asyncio.get_running_loop().call_at(when, self._end_batch)

    def _end_batch(self) -> None:
        self.timer = None
        for w in self.batch:
            if w.done is not None and not w.done.done():
                w.done.set_result(None)
        self._replan()


_clocks: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Clock]" = weakref.WeakKeyDictionary()


async def pause(seconds: float, *, early: bool = True) -> None:
    """Wait ``seconds`` on the loop's shared clock (its window: :func:`window`); nothing when 0."""
    if seconds <= 0:
        return
    loop = asyncio.get_running_loop()
    clock = _clocks.get(loop)
    if clock is None:
        clock = _clocks[loop] = _Clock()
    wait = window(loop.time(), seconds, early=early)
    wait.done = loop.create_future()
    clock.add(wait)
    await wait.done


async def pause_unless(event: asyncio.Event, seconds: float) -> bool:
    """:func:`pause` that never ends early (a command's time may be a timeout, e.g. `uiautomator
    dump` giving up on a busy screen), cut short when ``event`` is set: True if the wait ran out,
    False if it was cut."""
    if event.is_set():
        return False
    if seconds <= 0:
        return True
    cut = asyncio.ensure_future(event.wait())
    ran_out = asyncio.ensure_future(pause(seconds, early=False))
    try:
        await asyncio.wait((cut, ran_out), return_when=asyncio.FIRST_COMPLETED)
    finally:
        cut.cancel()
        ran_out.cancel()
    return not event.is_set()
