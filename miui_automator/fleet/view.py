"""What the person at the bench sees while a fleet runs: on a terminal a live table (one row per
phone: serial, model, current step with a long task's progress under it, status, elapsed),
elsewhere (CI logs, pipes) one plain line per event (a long task's progress every few seconds per
phone); and the summary table at the end.

Phone threads report into :class:`FleetView` from anywhere; it keeps the state under a lock and the
live table re-renders from that state a few times a second, so a burst of events costs no redraws.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from typing import IO, Sequence

from ..privacy import mask_text
from ..progress import Progress
from ..run.progress import PLAIN_EVERY_S, RateMeter, progress_text
from .ledger import ERROR, FAILED, INTERRUPTED, MISSING, PASSED, PENDING, REFUSED, RUNNING, TIMEOUT
from .summary import FleetSummary, duration_text

REFRESH_PER_SECOND = 4
STATUS_STYLE = {PASSED: "green", FAILED: "red", ERROR: "red", TIMEOUT: "red", REFUSED: "red",
                MISSING: "yellow", INTERRUPTED: "magenta", RUNNING: "cyan", PENDING: "dim"}


@dataclass
class Row:
    name: str
    serial: str
    model: str = ""
    step: str = ""
    status: str = PENDING
    started: float | None = None
    ended: float | None = None
    error: str = ""
    progress: str = ""  # a long task's figure: files, bytes, rate, time left

    def elapsed(self, now: float) -> float | None:
        if self.started is None:
            return None
        return (self.ended or now) - self.started


@dataclass
class _Tracked:
    """One phone's long task: its rate so far and when a log line last showed it."""

    step_id: str
    meter: RateMeter
    printed_at: float | None = None


class FleetView:
    """Live table (``live=True``) or line-per-event output, on ``stream``."""

    def __init__(self, stream: IO[str] | None = None, live: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty() if live is None else live
        self.rows: dict[str, Row] = {}
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._live = None
        self._console = None
        self._progress: dict[str, _Tracked] = {}

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self.started = time.monotonic()
        if self.live:
            from rich.console import Console
            from rich.live import Live

            self._console = Console(file=self.stream)
            self._live = Live(get_renderable=self._table, console=self._console, refresh_per_second=REFRESH_PER_SECOND,
                              transient=True)
            self._live.start()

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    # ------------------------------------------------------------------ events (any thread)
    def add(self, key: str, *, name: str, serial: str, model: str = "", status: str = PENDING, note: str = "") -> None:
        with self._lock:
            self.rows[key] = Row(name=name, serial=serial, model=model, status=status, step=note)
        if status != PENDING:
            self._line(key, f"{status} {note}".strip())

    def phone_started(self, key: str, model: str = "", start_at: int = 1) -> None:
        with self._lock:
            row = self.rows[key]
            row.status, row.started, row.ended, row.error = RUNNING, time.monotonic(), None, ""
            row.model = model or row.model
        self._line(key, "started" + (f" (resuming at step {start_at})" if start_at > 1 else ""))

    def step(self, key: str, step_id: str, status: str, text: str) -> None:
        with self._lock:
            row = self.rows[key]
            row.step = f"{step_id} {text}" if status == "running" else f"{step_id} {status}"
            row.progress = ""
        if status != "running":
            self._line(key, f"step {step_id} {status}: {text}")

    def progress(self, key: str, step_id: str, figure: Progress) -> None:
        """A phone's long task moved on: the live table shows it at its next redraw; a log gets a line every
        :data:`PLAIN_EVERY_S` per phone."""
        now = time.monotonic()
        with self._lock:
            track = self._progress.get(key)
            if track is None or track.step_id != step_id:
                track = self._progress[key] = _Tracked(step_id, RateMeter(time.monotonic))
            track.meter.add(figure)
            text = self.rows[key].progress = progress_text(figure, track.meter)
            due = track.printed_at is None or now - track.printed_at >= PLAIN_EVERY_S
            if due:
                track.printed_at = now
        if due:
            self._line(key, f"step {step_id}: {text}")

    def phone_ended(self, key: str, status: str, error: str = "") -> None:
        error = mask_text(error)  # a run's error quotes the screen it failed on (the account page shows the id)
        with self._lock:
            row = self.rows[key]
            row.status, row.ended, row.error = status, time.monotonic(), error
            took = row.elapsed(row.ended)
        self._line(key, status + (f" in {duration_text(took)}" if took is not None else "") + (f" — {error}" if error else ""))

    def note(self, text: str) -> None:
        self._print(text)

    # ------------------------------------------------------------------ output
    def _line(self, key: str, text: str) -> None:
        if self.live:
            return
        with self._lock:
            row = self.rows[key]
            who = row.serial if row.name == row.serial else f"{row.name} ({row.serial})"
        self._print(f"[{time.monotonic() - self.started:7.1f}s] {who}: {text}")

    def _print(self, text: str) -> None:
        if self._console is not None:
            self._console.print(text, markup=False, highlight=False)
        else:
            with self._lock:
                self.stream.write(text + "\n")
                self.stream.flush()

    def _table(self):
        from rich.markup import escape
        from rich.table import Table

        now = time.monotonic()
        table = Table("phone", "model", "step", "status", "elapsed", title=f"fleet · {time.monotonic() - self.started:.0f} s")
        with self._lock:
            rows = list(self.rows.values())
        for r in rows:
            elapsed = r.elapsed(now)
            style = STATUS_STYLE.get(r.status, "")
            name = escape(r.name) if r.name == r.serial else f"{escape(r.name)}\n[dim]{escape(r.serial)}[/]"
            step = r.error or r.step + (f"\n{r.progress}" if r.progress and r.status == RUNNING else "")
            table.add_row(name, escape(r.model), escape(step[:160]),
                          f"[{style}]{r.status}[/]" if style else r.status, duration_text(elapsed) if elapsed is not None else "")
        return table


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Plain aligned columns: readable in a CI log and easy to grep."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


SUMMARY_HEADERS = ("phone", "model", "OS", "status", "steps", "time", "last step / error")


def summary_rows(summary: FleetSummary) -> list[list[str]]:
    return [[p.serial if not p.label else f"{p.label} ({p.serial})", p.model, p.variant, p.status,
             f"{p.steps_done}/{p.top_steps}", duration_text(p.duration_s), _cut(p.error or p.last_step, 100)]
            for p in summary.phones]


def summary_text(summary: FleetSummary) -> str:
    """The end-of-run table and one line of counts."""
    run = summary.run
    head = (f"fleet run {run.id}: flow {run.flow}, {len(summary.phones)} phone(s) — {summary.counts_text()}"
            f" in {duration_text(summary.duration_s)}")
    return head + "\n" + format_table(SUMMARY_HEADERS, summary_rows(summary))


def print_summary(summary: FleetSummary, stream: IO[str], rich_table: bool) -> None:
    if not rich_table:
        stream.write(summary_text(summary) + "\n")
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    run = summary.run
    title = f"fleet run {run.id} · {run.flow} · {summary.counts_text()} in {duration_text(summary.duration_s)}"
    table = Table(*SUMMARY_HEADERS, title=escape(title))
    for column in table.columns[:-1]:
        column.no_wrap = True
    for cells, p in zip(summary_rows(summary), summary.phones):
        cells = [escape(c) for c in cells]
        style = STATUS_STYLE.get(p.status, "")
        cells[3] = f"[{style}]{p.status}[/]" if style else p.status
        table.add_row(*cells)
    Console(file=stream).print(table)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
