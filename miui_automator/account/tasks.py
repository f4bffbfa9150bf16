"""Tasks the account-deletion flows record their results with: each runs once the flow has proven
the page (by screen identification and a screenshot) and writes the ledger at once.

Arguments: ``account`` (the full id; the ledger masks it) and ``ledger`` (a path; empty for
``$MIUI_AUTOMATOR_LEDGER`` or ``runs/ledger.sqlite3``).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Callable, TypeVar

from ..errors import StepFailed
from ..tasks import TaskArg, TaskContext, task
from .ledger import DeletionLedger, ledger_path

LEDGER_ARGS = (
    TaskArg("account", "text", None, "the full account id; the ledger masks it"),
    TaskArg("ledger", doc="the ledger file; empty for $MIUI_AUTOMATOR_LEDGER or runs/ledger.sqlite3"),
)

T = TypeVar("T")

# "2026-12-30" on English pages, "2026年12月30日" on Chinese ones.
_DATE = re.compile(r"(\d{4})(?:-|年)(\d{1,2})(?:-|月)(\d{1,2})")


def deletion_date(texts: list[str]) -> date | None:
    """The first calendar day written in ``texts`` (the page's "will be deleted on ..." sentence)."""
    for value in texts:
        found = _DATE.search(value)
        if found:
            try:
                return date(*(int(part) for part in found.groups()))
            except ValueError:
                continue
    return None


def _account(ctx: TaskContext) -> str:
    account = ctx.arg("account").strip()
    if not account:
        raise StepFailed(f"task in step {ctx.step_id} needs the account id (with: {{account: ...}})")
    return account


def _device(ctx: TaskContext) -> str:
    """The phone's own identity (ro.serialno), the same on any USB port or host; the adb serial as a fallback."""
    return ctx.driver.shell("getprop ro.serialno", timeout_s=10).output.strip() or ctx.driver.serial


def _ledger(ctx: TaskContext) -> DeletionLedger:
    return DeletionLedger(ledger_path(ctx.arg("ledger") or None))


def _record(ctx: TaskContext, account: str, write: Callable[[DeletionLedger, str], T]) -> tuple[T, str, Path]:
    """``write(ledger, device)`` on the open ledger for this phone: (what it returned, the device, the ledger file)."""
    device = _device(ctx)
    with _ledger(ctx) as ledger:
        return write(ledger, device), device, ledger.path


@task("record-deletion-requested", *LEDGER_ARGS)
def record_deletion_requested(ctx: TaskContext) -> str:
    """On the "deletion requested" page: record the request and the day it completes, as the page states it."""
    account = _account(ctx)
    ends_on = deletion_date(ctx.driver.hierarchy().texts())
    if ends_on is None:
        raise StepFailed("the deletion page shows no date the deletion completes; the request was not recorded")

    def write(ledger: DeletionLedger, device: str):
        entry = ledger.requested(account, device, ends_on)
        return entry, entry.days_left(ledger.today())

    (entry, left), device, where = _record(ctx, account, write)
    return f"deletion of {entry.account} requested from {device}: completes on {ends_on} ({left} days to cancel); ledger {where}"


@task("record-deletion-cancelled", *LEDGER_ARGS)
def record_deletion_cancelled(ctx: TaskContext) -> str:
    account = _account(ctx)
    entry, device, where = _record(ctx, account, lambda ledger, device: ledger.cancelled(account, device))
    return f"deletion of {entry.account} cancelled from {device}; ledger {where}"


@task("record-account-deleted", *LEDGER_ARGS)
def record_account_deleted(ctx: TaskContext) -> str:
    account = _account(ctx)
    entry, _, where = _record(ctx, account, lambda ledger, device: ledger.completed(account, device))
    return f"{entry.account} is deleted (Xiaomi's sign-in says so); ledger {where}"
