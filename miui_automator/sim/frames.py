"""The simulator's frame clock: a phone's timed waits end on frame boundaries shared by every phone.

Under a timing profile every answer waits (``timing.py``). Each wait on its own timer wakes the
simulator once per answer, and a wake-up after a sleep costs far more CPU than the little work it
does (the caches went cold while the other processes ran: ``bench/sim_bench.py`` shows 16 phones
costing about twice the CPU of the same dumps under ``instant``). So a wait of ``s`` seconds ends
on the nearest boundary of a frame no longer than ``FRAME_SHARE × s`` (nor ``MAX_FRAME_S``); the
frames are the display's 60 Hz frame times a power of two, so the boundaries of all sizes line up,
and the waits of all phones that end near one boundary end in one wake-up. An answer keeps its
mean latency and moves by at most ``FRAME_SHARE / 2`` of its wait (±12.5%, inside the profile's
own ±20% jitter). A wait that is a timeout (a shell command's time) ends on the first boundary
at or after it instead, never before; uiautomator2's idle waits re-check their own deadline
(``JsonRpc._idle_wait``), so ``waitForIdle`` on a busy screen never ends early either.

Only the end of a wait moves: what the phone shows while it works (the hierarchy switch and the
frames of a transition, ``phone.py``) runs on the phone's own clock as before.
"""

from __future__ import annotations

import asyncio
import math

FRAME_S = 1 / 60  # one display frame; frame sizes are FRAME_S * 2**k
FRAME_SHARE = 0.25  # the largest frame a wait may round to, as a share of the wait ...
MAX_FRAME_S = 4 * FRAME_S  # ... and at most this long, so a long wait moves by milliseconds, not seconds


def frame_for(seconds: float) -> float:
    """The frame a wait of ``seconds`` rounds to: the largest ``FRAME_S * 2**k`` (k may be
    negative) not over ``FRAME_SHARE × seconds`` nor over ``MAX_FRAME_S``."""
    return min(MAX_FRAME_S, FRAME_S * 2.0 ** math.floor(math.log2(FRAME_SHARE * seconds / FRAME_S)))


def frame_due(now: float, seconds: float, *, early: bool = True) -> float:
    """When a wait of ``seconds`` started at ``now`` ends: the boundary of its frame nearest to
    ``now + seconds`` (the mean is kept), or with ``early=False`` the first one at or after it
    (a timeout never ends before its time); ``now`` itself for a wait of nothing."""
    if seconds <= 0:
        return now
    frame = frame_for(seconds)
    boundary = round if early else math.ceil
    return max(now, boundary((now + seconds) / frame) * frame)


async def pause(seconds: float, *, early: bool = True) -> None:
    """Wait ``seconds`` on the loop's timer, ending on a shared frame boundary; nothing when 0.

    The timer is set for the boundary itself (``call_at``), so every phone waiting for that
    boundary holds a timer for the very same instant and the loop fires them all in one wake-up.
    """
    if seconds <= 0:
        return
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    timer = loop.call_at(frame_due(loop.time(), seconds, early=early), _release, done)
    try:
        await done
    finally:
        timer.cancel()


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


def _release(done: asyncio.Future) -> None:
    if not done.done():
        done.set_result(None)
