"""``miui-automator inspect | flows | validate | run | report``: thin commands over the library core
(device, run, report). ``run`` supplies only its UI to :mod:`miui_automator.run`: where secrets come
from, how to ask for a yes, how progress shows.
"""

from __future__ import annotations

import getpass
import json
import sys
import time
from pathlib import Path

import click

from .. import secret_env
from .. import run
from ..errors import DeviceError, UsageError
from ..run.confirm import ASSUME_YES, Confirmer, require_confirmer
from ..run.preflight import PreflightFailed
from ..run.progress import ProgressDisplay

SERVER_HELP = "adb server to use: host:port (a USB host sharing its phones), default the local one."


def _driver(serial: str | None, server: str | None):
    from ..device.android import AndroidDevice, adb_client

    if serial is None:
        try:
            devices = [d.serial for d in adb_client(server).device_list()]
        except Exception as err:  # noqa: BLE001 - any adb failure here is "cannot reach adb"
            raise DeviceError(f"cannot reach the adb server: {err}") from None
        if not devices:
            raise DeviceError("no phone attached (plug one in, or start one: miui-automator sim start)")
        if len(devices) > 1:
            raise UsageError(f"{len(devices)} phones attached ({', '.join(devices)}): choose one with -s SERIAL")
        serial = devices[0]
    return AndroidDevice(serial, server)


@click.command("inspect")
@click.option("-s", "--serial", default=None, help="Phone serial (default: the only one attached).")
@click.option("--server", default=None, help=SERVER_HELP)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for screenshot.png, hierarchy.xml and elements.json.")
def inspect_cmd(serial: str | None, server: str | None, out_dir: Path | None) -> None:
    """Screenshot, hierarchy, identified screen and element list of the phone now."""
    from ..screens.catalogue import default_catalogue

    driver = _driver(serial, server)
    info = driver.info()
    h = driver.hierarchy()
    ident = default_catalogue().identify(h, info.variant)
    shot = driver.screenshot()
    out = out_dir or Path("inspect") / f"{time.strftime('%Y%m%d-%H%M%S')}-{driver.serial.replace(':', '_')}"
    out.mkdir(parents=True, exist_ok=True)
    shot.save(out / "screenshot.png")
    (out / "hierarchy.xml").write_text(h.source, encoding="utf-8")
    elements = h.elements()
    (out / "elements.json").write_text(json.dumps(elements, indent=1, ensure_ascii=False), encoding="utf-8")
    click.echo(f"device   {driver.serial}  {info.market_name or info.model}  {info.os_label}")
    click.echo(f"screen   {ident.name}" + (f"  (popup over it: {ident.popup.name})" if ident.popup else ""))
    click.echo(f"package  {h.main_package}")
    for el in elements:
        if el.get("text") or el.get("id") or el.get("desc"):
            mark = "*" if el.get("clickable") else " "
            click.echo(f"  {mark} {el.get('bounds')}  {el.get('id') or '-':<45} {el.get('text') or el.get('desc') or ''}")
    click.echo(f"saved    {out}/screenshot.png, hierarchy.xml, elements.json")


@click.command("flows")
def flows_cmd() -> None:
    """List the built-in flows."""
    for name in run.builtin_flows():
        flow = run.load(name)
        mark = " [destructive]" if flow.destructive else ""
        click.echo(f"{flow.name:<26} {flow.description}{mark}")


@click.command("validate")
@click.argument("flow_ref", metavar="FLOW")
def validate_cmd(flow_ref: str) -> None:
    """Parse a flow (built-in name or path) and report errors; runs nothing."""
    flow = run.load(flow_ref)
    steps = sum(1 for _ in flow.walk(subflows=True))
    click.echo(f"{flow.path}: ok — flow {flow.name}, {steps} steps, params: "
               f"{', '.join(p.name + (' (secret)' if p.secret else '') for p in flow.params) or 'none'}")


def param_pairs(values: tuple[str, ...]) -> dict[str, str]:
    params = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--param {item!r}: expected NAME=VALUE")
        params[name.strip()] = value
    return params


def secret_source(password_file: str | None, interactive: bool):
    def source(name: str, env: str | None) -> str | None:
        if password_file:
            return run.read_secret_file(password_file)
        if env and secret_env.read(env):
            return secret_env.read(env)
        if interactive:
            return getpass.getpass(f"{name} (hidden): ")
        return None

    return source


def cli_confirmer(yes: bool) -> Confirmer | None:
    """``--yes`` answers for the user; at a terminal the question is asked; otherwise there is nobody to ask."""
    if yes:
        return ASSUME_YES
    if not sys.stdin.isatty():
        return None
    return lambda question: click.confirm(question, default=False)


@click.command("run")
@click.argument("flow_ref", metavar="FLOW")
@click.option("-s", "--serial", default=None, help="Phone serial (default: the only one attached).")
@click.option("--server", default=None, help=SERVER_HELP)
@click.option("--param", "param_values", multiple=True, metavar="NAME=VALUE", help="Flow parameter (repeatable).")
@click.option("--password-file", type=click.Path(dir_okay=False), default=None, help="Read the account password from this file.")
@click.option("--dry-run", is_flag=True, help="Resolve the flow, preflight, identify the screen; tap nothing.")
@click.option("--yes", is_flag=True, help="Do not ask before a destructive flow.")
@click.option("--no-backup-gate", is_flag=True, help="Run a destructive flow even without a verified backup of the phone.")
@click.option("--confirm-account", default=None, metavar="ID",
              help="Confirm the Mi account a flow with 'confirm:' acts on (account deletion) without being asked to type it.")
@click.option("--no-verify", is_flag=True, hidden=True, help="Skip screenshot verification (benchmarks only).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("runs"), show_default=True,
              help="Base folder of run reports.")
def run_cmd(flow_ref: str, serial: str | None, server: str | None, param_values: tuple[str, ...], password_file: str | None,
            dry_run: bool, yes: bool, no_backup_gate: bool, confirm_account: str | None, no_verify: bool, out_dir: Path) -> int:
    """Run FLOW (a built-in name or a YAML path) on one phone, proving each screen transition."""
    flow = run.load(flow_ref)
    given = param_pairs(param_values)
    confirmer = cli_confirmer(yes)
    if not dry_run:
        require_confirmer(flow, confirmer)  # before any prompt for a password or any contact with the phone
    source = secret_source(password_file, sys.stdin.isatty() and not dry_run)
    driver = _driver(serial, server)
    info = driver.info()
    click.echo(f"{driver.serial}: {info.market_name or info.model}, {info.os_label}, Android {info.android_version}", err=True)
    try:
        if dry_run:
            params, secrets = run.bind_params(flow, given, secret_source=source)
            plan = run.prepare(flow, info, params, secrets, no_backup_gate=no_backup_gate)
        else:
            plan = run.plan_run(flow, info, given=given, secret_source=source, confirmer=confirmer,
                                 no_backup_gate=no_backup_gate, account_confirmer=_account_confirmer(driver, confirm_account))
    except PreflightFailed as err:
        for issue in err.issues:
            click.echo(f"preflight: {issue.problem} — {issue.fix}", err=True)
        raise DeviceError(f"{driver.serial}: preflight failed ({', '.join(i.check for i in err.issues)})",
                          serial=driver.serial) from None
    if flow.destructive:
        click.echo(f"backup gate: {plan.gate.describe()}", err=True)
    if dry_run:
        from ..screens.catalogue import default_catalogue

        ident = default_catalogue().identify(driver.hierarchy(), info.variant)
        click.echo(f"dry run: flow {flow.name} resolved ({sum(1 for _ in flow.walk(subflows=True))} steps), "
                   f"preflight ok, current screen: {ident.name}. Nothing was tapped.")
        return 0
    run_dir = run.new_run_dir(out_dir, flow, driver.serial)
    progress = _Progress()
    outcome = run.execute(plan, driver, run_dir=run_dir, on_step=progress.update, verify=not no_verify,
                          listeners=[ProgressDisplay(sys.stderr)])
    progress.close()
    result = outcome.result
    click.echo(f"{result.outcome}: flow {flow.name} on {driver.serial} in {result.duration_s:.1f} s"
               + (f" — {result.error}" if result.error else ""))
    click.echo(f"report: {outcome.reports.get('html', run_dir / 'report.html')}")
    return result.exit_code


def _account_confirmer(driver, given: str | None):
    """The typed account confirmation of a flow with ``confirm:`` (account deletion), at the terminal or by --confirm-account."""
    from .account import confirm_flow_account

    def confirm(plan: run.RunPlan) -> str:
        return confirm_flow_account(plan.flow, dict(plan.params), driver, given, interactive=sys.stdin.isatty())

    return confirm


class _Progress:
    """The step running and the elapsed time, on a terminal only."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.started = time.monotonic()

    def update(self, step_id: str, status: str, text: str) -> None:
        elapsed = time.monotonic() - self.started
        line = f"[{elapsed:6.1f}s] {step_id:<7} {status:<7} {text}"
        if self.tty:
            click.echo("\r\033[K" + line[:160], err=True, nl=status != "running")
        elif status != "running":
            click.echo(line, err=True)

    def close(self) -> None:
        if self.tty:
            click.echo("", err=True)


@click.command("report")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
def report_cmd(run_dir: Path) -> None:
    """Re-render report.html, report.json and junit.xml of a run from its events.jsonl."""
    from ..report.render import render_all

    paths = render_all(run_dir)
    for kind, path in paths.items():
        click.echo(f"{kind:<6} {path}")
