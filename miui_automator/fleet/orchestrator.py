"""The fleet orchestrator: one flow on many phones at once, each phone's failure its own.

Every phone runs in its own thread with its own :class:`~miui_automator.device.android.AndroidDevice`
(adbutils and uiautomator2 objects are per device), at most ``parallel`` at a time, each bounded by the
phone timeout (:mod:`.pool`). Every step is written to the ledger as it happens, so a killed controller
leaves a record :func:`plan_resume` turns into "start this phone at step k": the top-level steps that
completed are skipped by the engine (``start_at``), never repeated.

Each phone is planned like a single run (:mod:`miui_automator.run`): its params bound, then
:func:`.plan.check` runs preflight and the backup gate on it before it is recorded, so a phone that is
not ready or has no verified backup is recorded as such and never started; the fleet is confirmed
once, for the phones that passed.
"""

from __future__ import annotations

import inspect
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..errors import DeviceError, MiuiAutomatorError, UsageError
from ..flow.listeners import BaseListener
from ..flow.model import Flow
from ..run import bind_params, execute, new_run_dir
from .inventory import PasswordSource, server_address
from .ledger import (ERROR, FAILED, INTERRUPTED, MISSING, PASSED, STEP_DONE, STEP_FAILED, TIMEOUT, Ledger, PhoneRow,
                     RunRow)
from .plan import PROBE_PARALLEL, PhonePlan, Probe, check, flow_digest, list_attached, probe_all, secret_reader
from .pool import PhonePool, Ticket
from .summary import FleetSummary, render_fleet, summarize
from .view import FleetView

DEFAULT_PARALLEL = 8
DEFAULT_PHONE_TIMEOUT_S = 1800.0
WIND_DOWN_S = 10.0
"""After an interrupt: how long to let cancelled phones write their reports before exiting."""
PHONES_DIR = "phones"
OUTCOME_STATUS = {"passed": PASSED, "failed": FAILED, "error": ERROR, "interrupted": INTERRUPTED}


@dataclass(frozen=True)
class FleetOptions:
    parallel: int = DEFAULT_PARALLEL
    phone_timeout_s: float = DEFAULT_PHONE_TIMEOUT_S
    no_backup_gate: bool = False
    verify: bool = True


class GuardedDriver:
    """A phone's driver that refuses every command once its phone was abandoned (timeout) or interrupted,
    so the engine of a phone that was given up on stops at its next command instead of running on."""

    def __init__(self, device: Any, ticket: Ticket) -> None:
        self._device = device
        self._ticket = ticket
        self.serial = device.serial

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._device, name)
        if not inspect.ismethod(attr):  # plain attributes and handles (adb, u2) pass through
            return attr

        def guarded(*args: Any, **kwargs: Any) -> Any:
            if self._ticket.cancelled.is_set():
                raise DeviceError(f"{self.serial}: stopped: {self._ticket.reason or 'cancelled'}", serial=self.serial)
            return attr(*args, **kwargs)

        return guarded


class Fleet:
    """One fleet run (or watch session) in the ledger: phones are added, run in the pool, and reported."""

    def __init__(self, flow: Flow, ledger: Ledger, run_id: str, options: FleetOptions, view: FleetView) -> None:
        self.flow = flow
        self.ledger = ledger
        self.run_id = run_id
        self.options = options
        self.view = view
        self.out_dir = Path(ledger.run(run_id).out_dir)
        self.phones_dir = self.out_dir / PHONES_DIR
        self.pool = PhonePool(options.parallel, options.phone_timeout_s, on_timeout=self._timed_out)
        self.interrupted = False
        self._plans: dict[Ticket, PhonePlan] = {}
        self._recorded = 0
        self._lock = threading.Lock()

    @property
    def taken(self) -> int:
        """Phones recorded in this run so far (watch mode stops after --max-devices of them)."""
        with self._lock:
            return self._recorded

    # ------------------------------------------------------------------ adding phones
    def record(self, plan: PhonePlan) -> None:
        """Put a phone in the ledger and the view; a phone with a problem is final right away."""
        info = plan.info
        self.ledger.add_phone(self.run_id, plan.key, server=plan.server, serial=plan.serial,
                              hardware_serial=info.hardware_serial if info else "", label=plan.label,
                              model=plan.model, variant=info.variant if info else "", params=plan.params,
                              password=plan.password)
        self.view.add(plan.key, name=plan.name, serial=plan.serial, model=plan.model)
        with self._lock:
            self._recorded += 1
        if plan.problem:
            status = plan.problem_status or ERROR
            self.ledger.phone_finished(self.run_id, plan.key, status, exit_code=plan.problem_code, error=plan.problem)
            self.view.phone_ended(plan.key, status, plan.problem)

    def start(self, plan: PhonePlan) -> None:
        """Queue a recorded phone in the pool (a phone with a problem is not run; one never checked is a bug)."""
        if plan.problem:
            return
        if plan.run_plan is None:
            raise ValueError(f"{plan.name}: not checked (preflight, backup gate): call fleet.plan.check first")
        self.pool.submit(plan.key, lambda ticket: self.run_phone(plan, ticket))

    # ------------------------------------------------------------------ running
    def render(self) -> FleetSummary:
        """The fleet report as the ledger stands now (at the start, so a killed run leaves one too, and at the end)."""
        summary = summarize(self.ledger, self.run_id)
        render_fleet(summary, self.out_dir)
        return summary

    def wait(self) -> None:
        self.pool.run_until_idle()

    def run_phone(self, plan: PhonePlan, ticket: Ticket) -> None:
        """The whole life of one phone in this run. Its failure is its own: only a broken ledger or disk escapes
        (and the pool logs it)."""
        with self._lock:
            self._plans[ticket] = plan  # for the timeout handler
        started = time.monotonic()
        run_dir = new_run_dir(self.phones_dir, self.flow, _safe_name(plan))
        attempt = self.ledger.phone_started(self.run_id, plan.key, start_at=plan.start_at,
                                            run_dir=os.path.relpath(run_dir, self.out_dir), server=plan.server,
                                            serial=plan.serial)
        self.view.phone_started(plan.key, plan.model, plan.start_at)
        status, code, error = self._attempt(plan, ticket, run_dir, attempt)
        if ticket.claim():
            self.ledger.phone_finished(self.run_id, plan.key, status, exit_code=code, error=error,
                                       duration_s=round(time.monotonic() - started, 3))
            self.view.phone_ended(plan.key, status, error)

    def _attempt(self, plan: PhonePlan, ticket: Ticket, run_dir: Path, attempt: int) -> tuple[str, int, str]:
        def on_step(step_id: str, status: str, text: str) -> None:
            # Written even after the phone was given up on: a step that did complete must never be repeated.
            if status == "running":
                self.ledger.step_started(self.run_id, plan.key, attempt, step_id, text)
            else:
                self.ledger.step_ended(self.run_id, plan.key, attempt, step_id,
                                       STEP_DONE if status == "done" else STEP_FAILED, text if status != "done" else "")
            if not ticket.cancelled.is_set():
                self.view.step(plan.key, step_id, status, text)

        try:
            if plan.device is None:
                from ..device.android import AndroidDevice

                plan.device = AndroidDevice(plan.serial, server_address(plan.server))
            outcome = execute(plan.run_plan, GuardedDriver(plan.device, ticket), run_dir=run_dir, on_step=on_step,
                              verify=self.options.verify, start_at=plan.start_at,
                              listeners=[_ViewProgress(self.view, plan.key, ticket)])
        except MiuiAutomatorError as err:
            return ERROR, err.exit_code, str(err)
        except Exception as err:  # noqa: BLE001 - whatever went wrong is this phone's alone
            return ERROR, DeviceError.exit_code, f"{type(err).__name__}: {err}"
        result = outcome.result
        return OUTCOME_STATUS.get(result.outcome, ERROR), result.exit_code, result.error

    def _timed_out(self, ticket: Ticket) -> None:
        with self._lock:
            plan = self._plans.get(ticket)
        if plan is None:
            return
        took = time.monotonic() - ticket.started_at if ticket.started_at is not None else None
        self.ledger.phone_finished(self.run_id, plan.key, TIMEOUT, exit_code=DeviceError.exit_code, error=ticket.reason,
                                   duration_s=round(took, 3) if took is not None else None)
        self.view.phone_ended(plan.key, TIMEOUT, ticket.reason)

    def interrupt(self) -> None:
        """Ctrl-C or SIGTERM: stop every phone at its next command, record them interrupted, let reports finish."""
        self.interrupted = True
        running, _ = self.pool.cancel_all()
        for ticket in running:
            with self._lock:
                plan = self._plans.get(ticket)
            if plan is not None and ticket.claim():
                self.ledger.phone_finished(self.run_id, plan.key, INTERRUPTED, exit_code=130, error="interrupted")
                self.view.phone_ended(plan.key, INTERRUPTED, "interrupted")
        self.pool.join(WIND_DOWN_S)

    def finish(self) -> FleetSummary:
        """Close the run in the ledger and render the fleet report from it."""
        phones = self.ledger.phones(self.run_id)
        status = INTERRUPTED if self.interrupted else \
            (PASSED if phones and all(p.status == PASSED for p in phones) else FAILED)
        self.ledger.end_run(self.run_id, status)
        return self.render()


class _ViewProgress(BaseListener):
    """A phone's long-task progress into the fleet view (not after the phone was given up on)."""

    def __init__(self, view: FleetView, key: str, ticket: Ticket) -> None:
        self.view, self.key, self.ticket = view, key, ticket

    def progress(self, step_id, figure) -> None:
        if not self.ticket.cancelled.is_set():
            self.view.progress(self.key, step_id, figure)


def _safe_name(plan: PhonePlan) -> str:
    name = plan.serial if plan.server in ("local", "") else f"{plan.server}_{plan.serial}"
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)


def new_fleet_run(ledger: Ledger, flow: Flow, flow_ref: str, *, mode: str, out_base: Path,
                  settings: dict[str, Any]) -> str:
    return ledger.new_run(mode=mode, flow=flow.name, flow_ref=flow_ref, flow_digest=flow_digest(flow),
                          top_steps=len(flow.steps), destructive=flow.destructive, out_base=str(Path(out_base).resolve()),
                          settings=settings)


# ---------------------------------------------------------------------- resume
def plan_resume(ledger: Ledger, run: RunRow, flow: Flow, *, parallel: int, password_file: str | None,
                prompt: Callable[[str], str | None] | None, no_backup_gate: bool = False) -> list[PhonePlan]:
    """The phones of ``run`` that did not pass, found again on the adb servers, each starting after its last
    completed top-level step, and checked again (preflight, backup gate) like a new run."""
    if run.mode != "run":
        raise UsageError(f"run {run.id} is a watch session: start `fleet watch` again instead of resuming it")
    if flow_digest(flow) != run.flow_digest:
        raise UsageError(f"flow {flow.name} changed since run {run.id} started: resuming could skip or repeat steps; "
                         f"start a new run instead")
    todo = [p for p in ledger.phones(run.id) if p.status != PASSED]
    if not todo:
        return []
    servers = list(dict.fromkeys([*run.settings.get("servers", []), *(p.server for p in todo if p.server)]))
    attached, _ = list_attached(servers)
    probes = [p for p in probe_all([a for a in attached if a.state == "device"], max(parallel, PROBE_PARALLEL))
              if p.info is not None]
    plans = []
    for row in todo:
        probe = _find(row, probes)
        if probe is None:
            plans.append(PhonePlan(key=row.key, server=row.server, serial=row.serial, label=row.label,
                                   params=row.params, password=row.password, problem="not attached (resume it again later)",
                                   problem_status=MISSING))
            continue
        source = PasswordSource.from_dict(row.password, origin=f"ledger run {run.id}")
        params, secrets = bind_params(flow, row.params, secret_source=secret_reader(flow, source, password_file, prompt))
        plans.append(check(flow, PhonePlan(key=row.key, server=probe.server, serial=probe.serial, label=row.label,
                                           device=probe.device, info=probe.info, params=params, secrets=secrets,
                                           password=row.password, start_at=ledger.resume_point(run.id, row.key)),
                           no_backup_gate=no_backup_gate))
    return plans


def _find(row: PhoneRow, probes: list[Probe]) -> Probe | None:
    """The attached phone a ledger row is: same ro.serialno, else same serial (on the same server if known)."""
    for p in probes:
        hw = p.info.hardware_serial if p.info else ""
        if row.hardware_serial and hw == row.hardware_serial:
            return p
    for p in probes:
        hw = p.info.hardware_serial if p.info else ""
        if (p.serial == row.serial and row.server in ("", p.server)) or (hw and hw == row.serial):
            return p
    return None
