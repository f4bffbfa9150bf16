"""``miui-automator fleet run | watch | status``: many phones at once, over local and remote adb servers.

Thin commands over :mod:`miui_automator.fleet`: choose the phones (an inventory, ``--all`` or ``-s``),
bind everything before the first tap, then run them with a live view, a SQLite ledger written as it
happens (``--resume`` after a crash) and a fleet report. Exit 0 only when every phone passed.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import click

from ..errors import UsageError
from ..fleet.inventory import LOCAL, Inventory, load_inventory, normalize_server
from ..fleet.ledger import PASSED, RUNNING, Ledger
from ..fleet.orchestrator import DEFAULT_PARALLEL, DEFAULT_PHONE_TIMEOUT_S, Fleet, FleetOptions, new_fleet_run, plan_resume
from ..fleet.plan import (PROBE_PARALLEL, PhonePlan, SecretPrompt, bind, check, dedupe, list_attached, no_phones_error,
                          plan_phones, probe_all, select, worth_probing)
from ..fleet.pool import tune_allocator
from ..fleet.summary import render_fleet, summarize
from ..fleet.view import FleetView, format_table, print_summary, summary_text
from ..fleet.watch import Station
from ..flow.model import Flow
from ..flow.parser import is_path_ref
from ..run import load
from ..run.confirm import Confirmer, confirm_destructive, require_confirmer
from .flows import cli_confirmer, param_pairs

LEDGER_NAME = "ledger.sqlite3"


def _common(command):
    """Options ``fleet run`` and ``fleet watch`` share."""
    options = [
        click.option("--inventory", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="devices.yaml: adb servers, phones by serial/label or match rules, params, password sources."),
        click.option("--server", "servers", multiple=True, metavar="HOST:PORT",
                     help="adb server to use (repeatable; 'local' is this machine's). Default: the inventory's, else local."),
        click.option("-s", "--serial", "names", multiple=True, metavar="SERIAL",
                     help="Only this phone: serial, ro.serialno or inventory label (repeatable)."),
        click.option("--param", "param_values", multiple=True, metavar="NAME=VALUE",
                     help="Flow parameter for every phone (repeatable; wins over the inventory)."),
        click.option("--password-file", type=click.Path(dir_okay=False), default=None,
                     help="Account password for phones whose inventory entry names no password source."),
        click.option("--parallel", type=click.IntRange(1, 512), default=None,
                     help=f"Phones at once (default: the inventory's, else {DEFAULT_PARALLEL})."),
        click.option("--phone-timeout", "phone_timeout", type=click.FloatRange(min=0.1), default=None, metavar="S",
                     help=f"Give up on a phone after S seconds (default: the inventory's, else {DEFAULT_PHONE_TIMEOUT_S:g})."),
        click.option("--yes", is_flag=True, help="Do not ask before a destructive flow."),
        click.option("--no-backup-gate", is_flag=True, help="Run a destructive flow even on phones without a verified backup."),
        click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("runs"),
                     show_default=True, help="Base folder: the fleet report goes to OUT/fleet-<run>/."),
        click.option("--ledger", "ledger_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help=f"SQLite ledger (default: OUT/{LEDGER_NAME})."),
        click.option("--no-verify", is_flag=True, hidden=True, help="Skip screenshot verification (benchmarks only)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.group("fleet")
def fleet() -> None:
    """Run a flow on many phones at once (local and remote adb servers), with a ledger to resume."""
    tune_allocator()  # before any phone thread starts


def _ledger(ledger_path: Path | None, out_dir: Path) -> Ledger:
    return Ledger(ledger_path or out_dir / LEDGER_NAME)


def _servers(values: tuple[str, ...], inventory: Inventory | None) -> tuple[str, ...]:
    if not values:
        return inventory.servers if inventory else (LOCAL,)
    try:
        return tuple(dict.fromkeys(normalize_server(v) for v in values))
    except ValueError as err:
        raise UsageError(f"--server: {err}") from None


def _flow_ref(ref: str) -> str:
    """A flow file as an absolute path (``--resume`` may run from another folder); a built-in name as it is."""
    return str(Path(ref).resolve()) if is_path_ref(ref) else ref


def _options(parallel: int | None, phone_timeout: float | None, inv: Inventory | None, no_backup_gate: bool,
             no_verify: bool) -> FleetOptions:
    """The command line wins over the inventory, which wins over the defaults."""
    return FleetOptions(parallel=parallel or (inv.parallel if inv else None) or DEFAULT_PARALLEL,
                        phone_timeout_s=phone_timeout or (inv.phone_timeout_s if inv else None) or DEFAULT_PHONE_TIMEOUT_S,
                        no_backup_gate=no_backup_gate, verify=not no_verify)


def _settings(servers: tuple[str, ...], options: FleetOptions, password_file: str | None, inventory: Path | None) -> dict:
    """What the ledger keeps of a run's set-up, so ``--resume`` finds the phones and passwords again."""
    return {"servers": list(servers), "parallel": options.parallel, "phone_timeout_s": options.phone_timeout_s,
            "password_file": str(Path(password_file).resolve()) if password_file else None,
            "inventory": str(inventory.resolve()) if inventory else None}


def _refuse_unattended(flow: Flow, yes: bool) -> Confirmer | None:
    """Checked before anything else: a flow whose account the user must confirm by typing it (a deletion
    request) is one phone at a time; without a terminal to ask, a destructive flow needs --yes.
    Returns how to ask for the fleet's one confirmation."""
    if flow.confirm:
        raise UsageError(f"flow {flow.name} needs its account confirmed phone by phone: run it with "
                         f"`miui-automator run {flow.name} -s SERIAL`, not as a fleet")
    confirmer = cli_confirmer(yes)
    require_confirmer(flow, confirmer)
    return confirmer


def _ready(plans: list[PhonePlan]) -> list[PhonePlan]:
    """The checked phones that will run. Shown first: each phone turned down (recorded, never started) and the
    backup that let each one through the gate."""
    for plan in plans:
        if plan.problem and plan.info is not None:
            click.echo(f"{plan.name}: {plan.problem_status}: {plan.problem}", err=True)
        elif plan.run_plan is not None and plan.run_plan.gate.backup is not None:
            click.echo(f"{plan.name}: backup gate: {plan.run_plan.gate.describe()}", err=True)
    return [p for p in plans if not p.problem]


def _phones(plans: list[PhonePlan], extra: str = "") -> str:
    names = ", ".join(p.name for p in plans[:6]) + (", ..." if len(plans) > 6 else "")
    return f"{len(plans)} phones ({names}){extra}"


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM (a service manager, ``kill``) stops the fleet the way Ctrl-C does."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _finish(fleet: Fleet, view: FleetView, extra_failure: bool = False) -> int:
    view.stop()
    summary = fleet.finish()
    print_summary(summary, sys.stdout, view.live)
    click.echo(f"report: {fleet.out_dir / 'index.html'}")
    resumable = summary.run.mode == "run"
    if fleet.interrupted:
        click.echo("interrupted" + (f"; resume with: miui-automator fleet run --resume {summary.run.id}" if resumable else ""),
                   err=True)
        return 130
    ok = summary.all_passed or (not summary.phones and summary.run.mode == "watch")
    if not ok and resumable:
        click.echo(f"resume the phones that did not pass with: miui-automator fleet run --resume {summary.run.id}")
    return 0 if ok and not extra_failure else 1


def _drive(fleet: Fleet, view: FleetView, body) -> int:
    """Run ``body`` (True when something outside the phones failed, e.g. an unreachable adb server) under the live
    view; Ctrl-C or SIGTERM interrupts every phone and still writes the summary and the report."""
    view.start()
    try:
        with _sigterm_interrupts():
            result = body()
    except KeyboardInterrupt:
        fleet.interrupt()
        return _finish(fleet, view)
    return _finish(fleet, view, extra_failure=bool(result))


def _run_all(fleet: Fleet, plans) -> None:
    """Record every planned phone first (so the report lists them all), then start them and wait."""
    for plan in plans:
        fleet.record(plan)
    fleet.render()
    for plan in plans:
        fleet.start(plan)
    fleet.wait()


@fleet.command("run")
@click.argument("flow_ref", metavar="FLOW", required=False)
@click.option("--all", "everything", is_flag=True, help="Every phone attached to the adb server(s) in use.")
@click.option("--resume", "resume", metavar="RUN", default=None,
              help="Finish run RUN (an id, a prefix or 'latest'): only its phones that did not pass, each from its first "
                   "unfinished step.")
@_common
def run_cmd(flow_ref: str | None, everything: bool, resume: str | None, inventory: Path | None, servers: tuple[str, ...],
            names: tuple[str, ...], param_values: tuple[str, ...], password_file: str | None, parallel: int | None,
            phone_timeout: float | None, yes: bool, no_backup_gate: bool, out_dir: Path, ledger_path: Path | None,
            no_verify: bool) -> int:
    """Run FLOW on every selected phone at once; exit 0 only if every phone passed."""
    if resume:
        if inventory or everything or names or servers or param_values:
            raise UsageError("--resume takes its phones, servers and params from the ledger: drop --inventory, --all, -s, "
                             "--server and --param")
        return _resume(flow_ref, resume, password_file=password_file, parallel=parallel, phone_timeout=phone_timeout,
                       yes=yes, no_backup_gate=no_backup_gate, out_dir=out_dir, ledger_path=ledger_path, no_verify=no_verify)
    if not flow_ref:
        raise UsageError("fleet run needs a FLOW (or --resume RUN)")
    if inventory is None and not everything and not names:
        raise UsageError("choose the phones: --inventory devices.yaml, --all, or -s SERIAL (repeatable)")
    if everything and (inventory or names):
        raise UsageError("--all takes every attached phone: do not combine it with --inventory or -s")
    flow = load(flow_ref)
    inv = load_inventory(inventory) if inventory else None
    cli_params = param_pairs(param_values)
    confirmer = _refuse_unattended(flow, yes)
    use = _servers(servers, inv)
    options = _options(parallel, phone_timeout, inv, no_backup_gate, no_verify)
    attached, unreachable = list_attached(use)
    for server, why in unreachable.items():
        click.echo(f"warning: adb server {server} unreachable: {why}", err=True)
    probes, notes = dedupe(probe_all(worth_probing(attached, names, inv), max(options.parallel, PROBE_PARALLEL)))
    selection = select(probes, inventory=inv, names=names, everything=everything)
    for note in notes + selection.notes:
        click.echo(f"note: {note}", err=True)
    plans = plan_phones(flow, selection, inventory=inv, cli_params=cli_params, password_file=password_file,
                        prompt=SecretPrompt(sys.stdin.isatty()))
    if not plans:
        raise no_phones_error(use, unreachable)
    for plan in plans:
        check(flow, plan, no_backup_gate=options.no_backup_gate)
    ready = _ready(plans)
    if ready:
        confirm_destructive(flow, _phones(ready), confirmer)
    ledger = _ledger(ledger_path, out_dir)
    settings = _settings(use, options, password_file, inventory)
    run_id = new_fleet_run(ledger, flow, _flow_ref(flow_ref), mode="run", out_base=out_dir, settings=settings)
    view = FleetView()
    fleet_ = Fleet(flow, ledger, run_id, options, view)
    click.echo(f"fleet run {run_id}: flow {flow.name} on {len(plans)} phone(s), {options.parallel} at a time")

    return _drive(fleet_, view, lambda: _run_all(fleet_, plans) or bool(unreachable))


def _resume(flow_ref: str | None, run_ref: str, *, password_file: str | None, parallel: int | None,
            phone_timeout: float | None, yes: bool, no_backup_gate: bool, out_dir: Path, ledger_path: Path | None,
            no_verify: bool) -> int:
    ledger = _ledger(ledger_path, out_dir)
    run = ledger.run(run_ref)
    if run.status == RUNNING and run.controller_alive:
        raise UsageError(f"run {run.id} is still going (controller {run.controller}); wait for it or stop it first")
    if flow_ref and _flow_ref(flow_ref) not in (run.flow_ref, run.flow):
        raise UsageError(f"run {run.id} ran flow {run.flow}, not {flow_ref}")
    flow = load(run.flow_ref)
    settings = run.settings
    options = FleetOptions(parallel=parallel or settings.get("parallel") or DEFAULT_PARALLEL,
                           phone_timeout_s=phone_timeout or settings.get("phone_timeout_s") or DEFAULT_PHONE_TIMEOUT_S,
                           no_backup_gate=no_backup_gate, verify=not no_verify)
    confirmer = _refuse_unattended(flow, yes)
    plans = plan_resume(ledger, run, flow, parallel=options.parallel,
                        password_file=password_file or settings.get("password_file"), prompt=SecretPrompt(sys.stdin.isatty()),
                        no_backup_gate=no_backup_gate)
    if not plans:
        click.echo(f"run {run.id}: every phone already passed; nothing to resume")
        return 0
    ready = _ready(plans)
    if ready:
        confirm_destructive(flow, _phones(ready, f" of run {run.id}"), confirmer)
    ledger.reopen_run(run.id)
    view = FleetView()
    fleet_ = Fleet(flow, ledger, run.id, options, view)
    for row in ledger.phones(run.id):
        if row.status == PASSED:
            view.add(row.key, name=row.name, serial=row.serial, model=row.model, status=PASSED, note="in an earlier attempt")
    click.echo(f"fleet run {run.id}: resuming flow {flow.name} on {len(plans)} phone(s): "
               + ", ".join(f"{p.name} at step {p.start_at}" for p in plans if not p.problem))

    return _drive(fleet_, view, lambda: _run_all(fleet_, plans))


@fleet.command("watch")
@click.argument("flow_ref", metavar="FLOW")
@click.option("--max-devices", type=click.IntRange(1), default=None, help="Stop after this many phones were taken.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0), default=None, metavar="S",
              help="Stop taking phones after S seconds (the ones running finish).")
@_common
def watch_cmd(flow_ref: str, max_devices: int | None, timeout_s: float | None, inventory: Path | None,
              servers: tuple[str, ...], names: tuple[str, ...], param_values: tuple[str, ...], password_file: str | None,
              parallel: int | None, phone_timeout: float | None, yes: bool, no_backup_gate: bool, out_dir: Path,
              ledger_path: Path | None, no_verify: bool) -> int:
    """Station mode: run FLOW on every phone as it is plugged in, until Ctrl-C (or --max-devices / --timeout)."""
    flow = load(flow_ref)
    inv = load_inventory(inventory) if inventory else None
    cli_params = param_pairs(param_values)
    confirm_destructive(flow, "every phone plugged in from now on", _refuse_unattended(flow, yes))
    use = _servers(servers, inv)
    options = _options(parallel, phone_timeout, inv, no_backup_gate, no_verify)
    prompt = SecretPrompt(sys.stdin.isatty())
    # Bind once now, for a phone the inventory says nothing special about: bad params and missing passwords stop
    # the station before it takes a phone, and a password typed here serves every phone later.
    bind(flow, inventory_params=inv.params_for(None) if inv else {}, cli_params=cli_params,
         password=inv.password_for(None) if inv else None, password_file=password_file, prompt=prompt, phone="every phone")
    ledger = _ledger(ledger_path, out_dir)
    settings = _settings(use, options, password_file, inventory)
    run_id = new_fleet_run(ledger, flow, _flow_ref(flow_ref), mode="watch", out_base=out_dir, settings=settings)
    view = FleetView()
    fleet_ = Fleet(flow, ledger, run_id, options, view)
    station = Station(fleet_, use, inventory=inv, names=names, cli_params=cli_params, password_file=password_file,
                      prompt=prompt.cached)
    where = ", ".join("local adb server" if s == LOCAL else s for s in use)
    click.echo(f"fleet watch {run_id}: flow {flow.name} on every phone plugged in ({where}); Ctrl-C to stop")

    def body() -> bool:
        fleet_.render()
        station.run(stop=threading.Event(), max_devices=max_devices, timeout_s=timeout_s)
        return False

    return _drive(fleet_, view, body)


@fleet.command("status")
@click.argument("run_ref", metavar="[RUN]", required=False)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("runs"), show_default=True,
              help="Base folder of fleet runs (the ledger is OUT/ledger.sqlite3).")
@click.option("--ledger", "ledger_path", type=click.Path(dir_okay=False, path_type=Path), default=None, help="SQLite ledger.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--list", "list_runs", is_flag=True, help="List recent runs instead.")
def status_cmd(run_ref: str | None, out_dir: Path, ledger_path: Path | None, as_json: bool, list_runs: bool) -> None:
    """Where a fleet run stands (the latest by default): per phone, status, last step and error."""
    path = ledger_path or out_dir / LEDGER_NAME
    if not path.exists():
        raise UsageError(f"{path}: no ledger here (run `miui-automator fleet run` first, or pass --ledger)")
    ledger = Ledger(path)
    if list_runs:
        runs = ledger.runs()
        if as_json:
            click.echo(json.dumps([{"id": r.id, "flow": r.flow, "status": r.shown_status, "started": r.started} for r in runs]))
            return
        click.echo(format_table(("run", "flow", "mode", "started", "status"),
                                [(r.id, r.flow, r.mode, r.started, r.shown_status) for r in runs]))
        return
    summary = summarize(ledger, run_ref)
    if Path(summary.run.out_dir).is_dir():
        render_fleet(summary, summary.run.out_dir)  # the report of a run killed half-way, brought up to date
    if as_json:
        click.echo(json.dumps(summary.as_dict(), indent=2, ensure_ascii=False))
        return
    run = summary.run
    click.echo(f"run {run.id}  flow {run.flow}  mode {run.mode}  started {run.started}  status {run.shown_status}")
    click.echo(f"report {Path(run.out_dir) / 'index.html'}")
    if sys.stdout.isatty():
        print_summary(summary, sys.stdout, True)
    else:
        click.echo(summary_text(summary))

