"""The run record: one JSON line per engine event, written the moment it happens.

Records are kept apart from renderers (after mobly's TestSummaryWriter): every
event is appended to ``<run_dir>/events.jsonl``, flushed and fsync'ed before :meth:`EventWriter.write`
returns, so a run killed half-way (kill -9, a pulled cable that hangs the host, a power cut) still leaves
a file the renderers read. :func:`read_events` skips a last line cut off mid-write, and a run without
``run_end`` renders as outcome ``incomplete``.

Every line is ``{"ts": "2024-05-01T09:12:03.123Z", "seq": 7, "type": ..., **fields}``: ``ts`` is UTC with
milliseconds, ``seq`` counts from 1 within the file. The engine's listeners emit these types (``step`` is
the step's index path: ``"3"`` for a top-level step, ``"5.2"`` for the second step inside step 5):

``run_start``
    flow, description, destructive (bool), device (the DeviceInfo as a dict), params (secrets already
    masked as ``"***"`` by the engine), out_dir, started (ISO-8601).
``step_start``
    step, kind (the step's handler, e.g. ``tap``), description (the step's ``describe()``), line (in the
    flow file).
``screenshot``
    step, path (relative to run_dir), annotated_path (relative, or null), kind (``before`` | ``after`` |
    ``evidence-NAME`` | ``popup-NAME`` | ``failed`` ...), screen (the screen it shows), tap ([x, y] or null),
    swipe ([[x1, y1], [x2, y2]] or null), target (the bounds [l, t, r, b] of the element aimed at, or null).
    A step that acted writes ``before`` (the frame the action was aimed at, annotated with it) and ``after``.
``step_done``
    step, duration_s, screen (the identified screen name), note.
``step_failed``
    step, duration_s, error (one line), screen_seen, hierarchy_path, screenshot_path (both relative).
``step_skipped``
    step, description, kind, line, reason: a step that did not run — after a failed step at its level
    (``step 3 failed``), or before the step a resumed run starts at (``completed in an earlier run``).
``popup_dismissed``
    step, popup (catalogue name such as ``update_popup``), action (what was tapped).
``log``
    level (``debug`` | ``info`` | ``warning`` | ``error``), message, step (optional).
``run_end``
    outcome (``passed`` | ``failed`` | ``error`` | ``interrupted``), exit_code, duration_s, summary.

Unknown types and fields are kept in the file and ignored by :class:`RunRecord`, so the engine can add
events without breaking old renderers.
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, is_dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from miui_automator.errors import UsageError
from miui_automator.privacy import mask_text
from miui_automator.private_files import open_private, private_dir

EVENTS_FILE = "events.jsonl"
MASK = "***"
OUTCOME_INCOMPLETE = "incomplete"  # no run_end: the run was killed or is still going
STATUS_INCOMPLETE = "incomplete"  # a step that started and never finished
# Fields that name the phone or a file of the run: the tool finds things by them, and a numeric serial
# (or a run folder named after it) must stay as it is. No text from the screen ever lands in one.
UNMASKED_FIELDS = frozenset({"serial", "hardware_serial", "out_dir", "path", "annotated_path", "hierarchy_path",
                             "screenshot_path"})


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class EventWriter:
    """Appends events to ``run_dir/events.jsonl``, one durable JSON line each.

    ``redact`` registers secret values (as does :meth:`redact`): any string field that contains one is
    written as ``"***"``. The engine masks secrets before emitting; this is the second lock on the door.
    Every other string field goes through :func:`~miui_automator.privacy.mask_text`, so an account id or
    phone number read off the screen (a failure lists the texts it saw) is masked in the record and in
    every report rendered from it; only :data:`UNMASKED_FIELDS` (serials, paths) are kept as they are.
    """

    def __init__(self, run_dir: Path | str, *, redact: Iterable[str] = ()) -> None:
        self.run_dir = Path(run_dir)
        private_dir(self.run_dir)
        self.path = self.run_dir / EVENTS_FILE
        existing = self.path.read_bytes() if self.path.exists() else b""
        self._seq = existing.count(b"\n")
        self._secrets: set[str] = set()
        self._lock = threading.Lock()
        self._file = open_private(self.path, "a", encoding="utf-8")
        if existing and not existing.endswith(b"\n"):
            # A line cut off by a kill: end it, so the next event does not glue onto the wreck.
            self._file.write("\n")
            self._seq += 1
        self._sync()
        self.redact(redact)

    def redact(self, values: Iterable[str]) -> None:
        """Register secret values to mask in every later event (empty strings are ignored)."""
        self._secrets.update(v for v in values if isinstance(v, str) and v)

    def write(self, type: str, **fields: Any) -> dict[str, Any]:
        """Append one event and make it durable; returns the event as written."""
        with self._lock:
            if self._file.closed:
                raise ValueError(f"{self.path}: event writer is closed")
            self._seq += 1
            event = {"ts": _utc_now(), "seq": self._seq, "type": type, **self._masked(_plain(fields))}
            self._file.write(json.dumps(event, ensure_ascii=False) + "\n")
            self._sync()
            return event

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.close()

    def __enter__(self) -> EventWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _sync(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())

    def _masked(self, value: Any, key: str = "") -> Any:
        if isinstance(value, str):
            return MASK if any(secret in value for secret in self._secrets) else masked_fields(value, key)
        if isinstance(value, dict):
            return {k: self._masked(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self._masked(v, key) for v in value]
        return value


def masked_fields(value: Any, key: str = "") -> Any:
    """An event (or any JSON-shaped value) with account ids and phone numbers masked in every string but
    those of :data:`UNMASKED_FIELDS`. The writer applies it to what it writes, and renderers to what they
    read, so a record written before masking existed renders masked too."""
    if isinstance(value, str):
        return value if key in UNMASKED_FIELDS else mask_text(value)
    if isinstance(value, dict):
        return {k: masked_fields(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [masked_fields(v, key) for v in value]
    return value


def _plain(value: Any) -> Any:
    """JSON-shaped data: dataclasses (a DeviceInfo) become dicts, paths strings, tuples and sets lists,
    so redaction sees every string and readers get the same shapes back."""
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None  # NaN and infinity are not JSON
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def events_path(run_dir: Path | str) -> Path:
    """``run_dir/events.jsonl``; a path to the file itself is accepted too."""
    path = Path(run_dir)
    return path if path.name == EVENTS_FILE or path.is_file() else path / EVENTS_FILE


def read_events(run_dir: Path | str) -> list[dict[str, Any]]:
    """All events of a run, in file order. Lines that do not parse — the last line of a killed run, cut
    mid-write — are skipped rather than fatal: a partial record is still worth reading."""
    path = events_path(run_dir)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{path.parent}: no {EVENTS_FILE} here, not a run directory", path=str(path)) from None
    events = []
    for line in raw.split(b"\n"):
        if not line.strip():
            continue
        try:
            event = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(event, dict) and isinstance(event.get("type"), str):
            events.append(event)
    return events


@dataclass(frozen=True)
class Shot:
    """One saved screenshot of a step; paths are relative to the run directory."""

    path: str
    annotated_path: str | None = None
    kind: str = "after"
    tap: tuple[int, int] | None = None
    swipe: tuple[tuple[int, int], tuple[int, int]] | None = None
    screen: str | None = None
    target: tuple[int, int, int, int] | None = None

    @property
    def display_path(self) -> str:
        """The file a human should see: the annotated copy when there is one."""
        return self.annotated_path or self.path


@dataclass(frozen=True)
class StepRecord:
    """What happened to one step. ``status``: passed, failed, skipped or incomplete (started, never ended)."""

    index: str
    description: str = ""
    kind: str = ""
    line: int | None = None
    status: str = STATUS_INCOMPLETE
    started: str | None = None
    duration_s: float | None = None
    screen: str | None = None
    note: str | None = None
    error: str | None = None
    screen_seen: str | None = None
    hierarchy_path: str | None = None
    screenshot_path: str | None = None
    skip_reason: str | None = None
    screenshots: tuple[Shot, ...] = ()
    popups: tuple[str, ...] = ()

    @property
    def depth(self) -> int:
        """0 for a top-level step, 1 for "5.2", and so on."""
        return self.index.count(".")

    @property
    def top_level(self) -> str:
        """Index of the top-level step this one belongs to ("5" for "5.2")."""
        return self.index.split(".", 1)[0]


@dataclass(frozen=True)
class LogRecord:
    ts: str
    level: str
    message: str
    step: str | None = None


@dataclass(frozen=True)
class RunRecord:
    """The summary of one run that every renderer works from, folded from its events."""

    flow: str
    outcome: str
    description: str = ""
    destructive: bool = False
    device: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    out_dir: str | None = None
    exit_code: int | None = None
    summary: str = ""
    started: str | None = None
    ended: str | None = None
    duration_s: float | None = None
    steps: tuple[StepRecord, ...] = ()
    logs: tuple[LogRecord, ...] = ()
    event_count: int = 0

    @property
    def complete(self) -> bool:
        return self.outcome != OUTCOME_INCOMPLETE

    @property
    def failed_steps(self) -> tuple[StepRecord, ...]:
        return tuple(s for s in self.steps if s.status == "failed")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (tuples become lists)."""
        return asdict(self)

    @classmethod
    def from_events(cls, events: Iterable[Mapping[str, Any]]) -> RunRecord:
        """Fold events into a record; tolerant of missing events (a killed run) and unknown ones."""
        events = list(events)
        start: Mapping[str, Any] = next((e for e in events if e.get("type") == "run_start"), {})
        end: Mapping[str, Any] | None = next((e for e in reversed(events) if e.get("type") == "run_end"), None)
        steps: dict[str, StepRecord] = {}
        logs: list[LogRecord] = []

        def step(e: Mapping[str, Any]) -> StepRecord:
            index = str(e.get("step", e.get("index", "?")))
            if index not in steps:
                steps[index] = StepRecord(index=index)
            return steps[index]

        def put(current: StepRecord, **changes: Any) -> None:
            steps[current.index] = replace(current, **{k: v for k, v in changes.items() if v is not None})

        for e in events:
            kind = e.get("type")
            if kind == "step_start":
                put(step(e), description=e.get("description"), kind=e.get("kind"), line=e.get("line"), started=e.get("ts"))
            elif kind == "screenshot":
                current = step(e)
                shot = Shot(path=str(e.get("path", "")), annotated_path=e.get("annotated_path") or None,
                            kind=str(e.get("kind", "after")), tap=_point(e.get("tap")), swipe=_swipe(e.get("swipe")),
                            screen=_opt_str(e.get("screen")), target=_box(e.get("target")))
                put(current, screenshots=current.screenshots + (shot,))
            elif kind == "step_done":
                put(step(e), status="passed", duration_s=_num(e.get("duration_s")), screen=e.get("screen"),
                    note=e.get("note") or None)
            elif kind == "step_failed":
                put(step(e), status="failed", duration_s=_num(e.get("duration_s")), error=e.get("error"),
                    screen_seen=e.get("screen_seen"), hierarchy_path=e.get("hierarchy_path"),
                    screenshot_path=e.get("screenshot_path"))
            elif kind == "step_skipped":
                put(step(e), status="skipped", description=e.get("description"), kind=e.get("kind"),
                    line=e.get("line"), skip_reason=e.get("reason"))
            elif kind == "popup_dismissed":
                current = step(e)
                put(current, popups=current.popups + (str(e.get("popup", "popup")),))
            elif kind == "log":
                logs.append(LogRecord(ts=str(e.get("ts", "")), level=str(e.get("level", "info")),
                                      message=str(e.get("message", "")), step=_opt_str(e.get("step"))))

        started = start.get("started") or start.get("ts") or (events[0].get("ts") if events else None)
        ended = end.get("ts") if end else (events[-1].get("ts") if events else None)
        duration = _num(end.get("duration_s")) if end else None
        if duration is None:
            duration = _elapsed(start.get("ts") or started, ended)
        return cls(
            flow=str(start.get("flow") or "unknown flow"),
            outcome=str(end.get("outcome", "error")) if end else OUTCOME_INCOMPLETE,
            description=str(start.get("description") or ""),
            destructive=bool(start.get("destructive", False)),
            device=dict(start.get("device") or {}),
            params=dict(start.get("params") or {}),
            out_dir=_opt_str(start.get("out_dir")),
            exit_code=end.get("exit_code") if end else None,
            summary=str(end.get("summary") or "") if end else "",
            started=started,
            ended=ended if end else None,
            duration_s=duration,
            steps=tuple(sorted(steps.values(), key=lambda s: _index_key(s.index))),
            logs=tuple(logs),
            event_count=len(events),
        )


def _index_key(index: str) -> tuple:
    """ "10" after "9", "5.2" after "5": numeric where possible, text otherwise."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in index.split("."))


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _point(value: Any) -> tuple[int, int] | None:
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
        return (int(value[0]), int(value[1]))
    return None


def _box(value: Any) -> tuple[int, int, int, int] | None:
    if isinstance(value, (list, tuple)) and len(value) == 4 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return (int(value[0]), int(value[1]), int(value[2]), int(value[3]))
    return None


def _swipe(value: Any) -> tuple[tuple[int, int], tuple[int, int]] | None:
    if isinstance(value, (list, tuple)) and len(value) == 2:
        a, b = _point(value[0]), _point(value[1])
        if a is not None and b is not None:
            return (a, b)
    return None


def _parse_ts(ts: Any) -> datetime | None:
    if not isinstance(ts, str):
        return None
    try:
        return datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return None


def _elapsed(first: Any, last: Any) -> float | None:
    a, b = _parse_ts(first), _parse_ts(last)
    if a is None or b is None or (a.tzinfo is None) != (b.tzinfo is None):
        return None
    return round((b - a).total_seconds(), 3)
