"""The backup gate: a destructive flow runs on a phone only when a verified backup of that phone exists.

The gate is one direct call (:func:`backup_gate`) in :func:`~miui_automator.run.plan.prepare`, which every
front end goes through; ``--no-backup-gate`` is the only way past it. A flow that backs the phone up
itself (``reset-test-device``) needs no earlier backup — but only when its backup step will actually run
with these params: ``--param skip_backup=true`` leaves the step out, so that run is gated like any other.

Backups are found through the per-user records (:mod:`miui_automator.backup.records`: every verified
backup, wherever it was written, e.g. an external disk) and under the backups root (``./backups`` or
``$MIUI_AUTOMATOR_BACKUPS``); each must still exist and still pass the quick check.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from ..backup import backup_root
from ..backup.records import BackupRecord, find_verified
from ..device.info import DeviceInfo
from ..errors import UsageError
from ..flow.model import Condition, Flow, Item, RetryStep, RunStep, WhenStep

BACKUP_FLOW = "backup"
REJECTED_SHOWN = 3


class BackupGateRefused(UsageError):
    """No verified backup of the phone: the destructive flow is refused (exit 2)."""


@dataclass(frozen=True)
class GateResult:
    """Why the gate let the run through: ``backup`` is the backup that satisfied it (None when none was needed)."""

    reason: str
    backup: Path | None = None
    record: BackupRecord | None = None

    def describe(self) -> str:
        if self.backup is None:
            return self.reason
        return f"verified backup {self.record.describe() if self.record else self.backup}"


def backup_gate(flow: Flow, info: DeviceInfo, params: Mapping[str, str], *, no_backup_gate: bool = False,
                start_at: int = 1, roots: Sequence[Path] | None = None) -> GateResult:
    """Let the run through (saying why) or raise :class:`BackupGateRefused`.

    ``start_at`` is the first top-level step that will run (a resumed fleet run): a backup step before it
    does not count, since it will not run again. ``roots`` default to the backups root.
    """
    if not flow.destructive:
        return GateResult("not needed: the flow is not destructive")
    if no_backup_gate:
        return GateResult("skipped: --no-backup-gate")
    if backs_up_itself(flow, params, start_at):
        return GateResult("not needed: the flow backs the phone up itself before its destructive steps")
    where = list(roots) if roots is not None else [backup_root()]
    search = find_verified(info.hardware_serial, where)
    if search.found is not None:
        return GateResult("verified backup", search.found, search.record)
    turned_down = "".join(f"; {folder}: {why}" for folder, why in search.rejected[:REJECTED_SHOWN])
    raise BackupGateRefused(f"{info.serial}: no verified backup of this phone ({info.hardware_serial or 'no ro.serialno'}) "
                            f"in the backup records or under {', '.join(map(str, where))}{turned_down}: run "
                            f"`miui-automator run backup -s {info.serial}` first, or pass --no-backup-gate to go on "
                            f"without one", serial=info.serial)


def backs_up_itself(flow: Flow, params: Mapping[str, str], start_at: int = 1) -> bool:
    """True when a ``backup`` sub-flow will run, for these params, among the top-level steps from ``start_at``.

    Only branches whose conditions are known before the run count: a ``when`` on one of the flow's params
    (the parser refuses a ``save-as`` that would overwrite one) compared with a fixed value. A backup behind
    any other condition might not run, so it does not count.
    """
    known = {p.name: params[p.name] for p in flow.params if not p.secret and p.name in params}
    return _any(flow.steps[max(start_at, 1) - 1:], known)


def _will_run_backup(item: Item, params: Mapping[str, str]) -> bool:
    if isinstance(item, RunStep):
        return item.flow.name == BACKUP_FLOW
    if isinstance(item, WhenStep):
        holds = _known(item.condition, params)
        if holds is None:
            return False
        return _any(item.then_steps if holds else item.else_steps, params)
    if isinstance(item, RetryStep):
        return _any(item.steps, params)
    return False  # drive rules run only on the screens they name; other steps start no flow


def _any(items: Iterable[Item], params: Mapping[str, str]) -> bool:
    return any(_will_run_backup(item, params) for item in items)


def _known(condition: Condition, params: Mapping[str, str]) -> bool | None:
    """Whether ``condition`` holds, when the params alone tell (compared as the engine does); None otherwise."""
    if condition.kind != "param" or condition.subject not in params or "${" in condition.value:
        return None
    text, value = params[condition.subject], condition.value
    return {"equals": text.strip() == value, "not-equals": text.strip() != value, "contains": value in text,
            "not-contains": value not in text}.get(condition.op)
