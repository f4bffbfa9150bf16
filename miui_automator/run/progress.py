"""Showing how far a long task has got: a bar redrawn in place on a terminal, a plain line every few
seconds in a pipe or CI log.

The engine passes on each :class:`~miui_automator.progress.Progress` a task hands up (files, bytes);
:class:`ProgressDisplay` is the listener that shows it. Rate and time left are worked out here, from
the figures and a clock (:class:`RateMeter`, pure apart from the injected clock), so the fleet view
words a phone's progress the same way (:func:`progress_text`).
"""

from __future__ import annotations

import sys
import time
from collections import deque
from typing import IO, Callable

from ..backup.inventory import human_size
from ..flow.listeners import BaseListener
from ..progress import Progress

PLAIN_EVERY_S = 5.0  # a pipe or CI log gets one line per this many seconds, per long task
RATE_WINDOW_S = 10.0  # the rate is the average over this much recent time: it follows a change of pace
REFRESH_PER_SECOND = 4


def by_bytes(figure: Progress) -> bool:
    """Whether the work is measured in bytes: their total is known, or (MIUI writing its backup, no total known
    beforehand) bytes are all there is to count."""
    return figure.bytes_total > 0 or (not figure.files_total and figure.bytes_done > 0)


class RateMeter:
    """Bytes (or, without byte totals, items) per second over the last :data:`RATE_WINDOW_S`, and the time left."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, window_s: float = RATE_WINDOW_S) -> None:
        self.clock = clock
        self.window_s = window_s
        self._samples: deque[tuple[float, float]] = deque()

    @staticmethod
    def amount(figure: Progress) -> tuple[float, float]:
        """(done, total) in the unit the rate is measured in: bytes when they are counted, else files."""
        if by_bytes(figure):
            return figure.bytes_done, figure.bytes_total
        return figure.files_done, figure.files_total

    def add(self, figure: Progress) -> None:
        now = self.clock()
        done, _ = self.amount(figure)
        if self._samples and done < self._samples[-1][1]:
            self._samples.clear()  # a new piece of work started counting from zero
        self._samples.append((now, done))
        while len(self._samples) > 2 and now - self._samples[1][0] >= self.window_s:
            self._samples.popleft()

    @property
    def rate(self) -> float | None:
        if len(self._samples) < 2:
            return None
        (t0, d0), (t1, d1) = self._samples[0], self._samples[-1]
        return (d1 - d0) / (t1 - t0) if t1 > t0 else None

    def seconds_left(self, figure: Progress) -> float | None:
        done, total = self.amount(figure)
        rate = self.rate
        if not total or rate is None or rate <= 0:
            return None
        return max(0.0, (total - done) / rate)


def clock_text(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return f"{seconds // 60}:{seconds % 60:02d}"


def progress_text(figure: Progress, meter: RateMeter | None = None) -> str:
    """One line: what, files, bytes, rate and time left — e.g.
    ``pulling files 12/40 files, 24.0 MB of 200.0 MB (12%), 38.2 MB/s, 0:05 left``."""
    parts = []
    if figure.files_total:
        parts.append(f"{figure.files_done}/{figure.files_total} files")
    elif figure.files_done:
        parts.append(f"{figure.files_done} files")  # no total known: what is done so far
    if figure.bytes_total:
        parts.append(f"{human_size(figure.bytes_done)} of {human_size(figure.bytes_total)}")
    elif figure.bytes_done:
        parts.append(human_size(figure.bytes_done))
    fraction = figure.fraction
    text = f"{figure.what} {', '.join(parts)}".rstrip() + (f" ({fraction:.0%})" if fraction is not None else "")
    if meter is not None and meter.rate is not None:
        rate = meter.rate
        text += f", {human_size(int(rate))}/s" if by_bytes(figure) else f", {rate:.1f} files/s"
        left = meter.seconds_left(figure)
        if left is not None or fraction is not None:
            text += f", {clock_text(left)} left"
    return text


class ProgressDisplay(BaseListener):
    """Shows each task's progress on ``stream`` (stderr by default): a rich bar on a terminal (``live``), else
    a plain line at most every :data:`PLAIN_EVERY_S` seconds, plus the last figure when the task ends."""

    def __init__(self, stream: IO[str] | None = None, live: bool | None = None,
                 clock: Callable[[], float] = time.monotonic, every_s: float = PLAIN_EVERY_S) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.clock = clock
        self.every_s = every_s
        self._step: str | None = None
        self._last: Progress | None = None
        self._shown: Progress | None = None
        self._printed_at: float | None = None
        self._meter = RateMeter(clock)
        self._bar = None
        self._task = None

    # ------------------------------------------------------------------ engine hooks
    def progress(self, step_id: str, figure: Progress) -> None:
        if step_id != self._step:
            self._end()
            self._step, self._meter, self._printed_at = step_id, RateMeter(self.clock), None
        self._meter.add(figure)
        self._last = figure
        if self.live:
            self._draw(figure)
            return
        now = self.clock()
        if self._printed_at is None or now - self._printed_at >= self.every_s:
            self._printed_at, self._shown = now, figure
            self._write(f"  {step_id}: {progress_text(figure, self._meter)}")

    def step_done(self, step_id, step, obs, duration_s, note) -> None:
        self._end()

    def step_failed(self, step_id, step, error, obs, duration_s) -> None:
        self._end()

    def run_end(self, outcome, exit_code, duration_s, error) -> None:
        self._end()

    # ------------------------------------------------------------------ output
    def _end(self) -> None:
        """The task ended: the bar goes; a plain log gets the last figure if it has not shown it."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = self._task = None
        elif self._last is not None and self._last is not self._shown:
            self._write(f"  {self._step}: {progress_text(self._last, self._meter)}")
        self._step = self._last = self._shown = None

    def _write(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()

    def _draw(self, figure: Progress) -> None:
        from rich.console import Console
        from rich.progress import (BarColumn, DownloadColumn, MofNCompleteColumn, Progress as Bar, TextColumn,
                                   TimeRemainingColumn, TransferSpeedColumn)

        bytes_counted = by_bytes(figure)
        if self._bar is None:
            self.stream.write("\n")  # the step's own line stays above the bar
            columns = [TextColumn("  {task.description}"), BarColumn(), TextColumn("{task.fields[files]}")]
            columns += [DownloadColumn(), TransferSpeedColumn()] if bytes_counted else [MofNCompleteColumn()]
            columns.append(TimeRemainingColumn())
            self._bar = Bar(*columns, console=Console(file=self.stream), transient=True,
                            refresh_per_second=REFRESH_PER_SECOND)
            self._bar.start()
            self._task = self._bar.add_task(figure.what, total=None, files="")
        files = (f"{figure.files_done}/{figure.files_total} files" if figure.files_total else
                 f"{figure.files_done} files" if figure.files_done else "") if bytes_counted else ""
        done, total = RateMeter.amount(figure)
        self._bar.update(self._task, description=figure.what, completed=done, total=total or None, files=files)
