"""``miui-automator devices | inspect | flows | validate | run | report``: thin commands over the
library core (device, flow.runner, report).
"""

from __future__ import annotations

import getpass
import json
import os
import sys
import time
from pathlib import Path

import click

from ..errors import DeviceError, UsageError
from ..flow import runner
from .screens import catalogue_option

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


@click.command("devices")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--server", default=None, help=SERVER_HELP)
def devices_cmd(as_json: bool, server: str | None) -> None:
    """Table of connected phones with model, OS, account and state."""
    from ..device.android import AndroidDevice, adb_client

    try:
        entries = adb_client(server).list()
    except Exception as err:  # noqa: BLE001
        raise DeviceError(f"cannot reach the adb server: {err}") from None
    rows = []
    for entry in entries:
        if entry.state != "device":
            rows.append({"serial": entry.serial, "state": entry.state})
            continue
        info = AndroidDevice(entry.serial, server).info()
        rows.append({"state": "device", **info.as_dict()})
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("no phones attached")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("serial", "model", "OS", "Android", "locale", "Mi account", "battery", "screen", "input gate")
    for r in rows:
        if r["state"] != "device":
            table.add_row(r["serial"], f"[yellow]{r['state']}[/]", "", "", "", "", "", "", "")
            continue
        table.add_row(r["serial"], f"{r.get('market_name') or r.get('model')}", r.get("os_label") or "",
                      str(r.get("android_version") or ""), r.get("locale") or "", r.get("mi_account") or "—",
                      f"{r.get('battery_level')}%" if r.get("battery_level") is not None else "?",
                      "locked" if r.get("locked") else ("on" if r.get("screen_on") else "off"),
                      "on" if r.get("adb_input_enabled") else "[red]off[/]")
    Console().print(table)


@click.command("inspect")
@click.option("-s", "--serial", default=None, help="Phone serial (default: the only one attached).")
@click.option("--server", default=None, help=SERVER_HELP)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for screenshot.png, hierarchy.xml and elements.json.")
@catalogue_option
def inspect_cmd(serial: str | None, server: str | None, out_dir: Path | None, catalogues: tuple[Path, ...]) -> None:
    """Screenshot, hierarchy, identified screen and element list of the phone now."""
    from ..screens.overlay import load_catalogue

    driver = _driver(serial, server)
    info = driver.info()
    h = driver.hierarchy()
    ident = load_catalogue(catalogues).identify(h, info.variant)
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
    for name in runner.builtin_flows():
        flow = runner.load(name)
        mark = " [destructive]" if flow.destructive else ""
        click.echo(f"{flow.name:<26} {flow.description}{mark}")


@click.command("validate")
@click.argument("flow_ref", metavar="FLOW")
@catalogue_option
def validate_cmd(flow_ref: str, catalogues: tuple[Path, ...]) -> None:
    """Parse a flow (built-in name or path) and report errors; runs nothing."""
    from ..screens.overlay import load_catalogue

    flow = runner.load(flow_ref, load_catalogue(catalogues))
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
            return runner.read_secret_file(password_file)
        if env and os.environ.get(env):
            return os.environ[env]
        if interactive:
            return getpass.getpass(f"{name} (hidden): ")
        return None

    return source


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
@catalogue_option
def run_cmd(flow_ref: str, serial: str | None, server: str | None, param_values: tuple[str, ...], password_file: str | None,
            dry_run: bool, yes: bool, no_backup_gate: bool, confirm_account: str | None, no_verify: bool, out_dir: Path,
            catalogues: tuple[Path, ...]) -> int:
    """Run FLOW (a built-in name or a YAML path) on one phone, proving each screen transition."""
    from ..screens.overlay import load_catalogue

    catalogue = load_catalogue(catalogues)
    flow = runner.load(flow_ref, catalogue)
    interactive = sys.stdin.isatty() and not dry_run
    params, secrets = runner.bind_params(flow, param_pairs(param_values),
                                         secret_source=secret_source(password_file, interactive))
    driver = _driver(serial, server)
    info = driver.info()
    click.echo(f"{driver.serial}: {info.market_name or info.model}, {info.os_label}, Android {info.android_version}", err=True)
    issues = runner.preflight(info)
    for issue in issues:
        click.echo(f"preflight: {issue.problem} — {issue.fix}", err=True)
    if issues:
        raise DeviceError(f"{driver.serial}: preflight failed ({', '.join(i.check for i in issues)})", serial=driver.serial)
    gate = runner.check_backup_gate(flow, info, no_backup_gate, params)
    if gate is not None:
        click.echo(f"backup gate: verified backup {gate}", err=True)
    if dry_run:
        ident = catalogue.identify(driver.hierarchy(), info.variant)
        click.echo(f"dry run: flow {flow.name} resolved ({sum(1 for _ in flow.walk(subflows=True))} steps), "
                   f"preflight ok, current screen: {ident.name}. Nothing was tapped.")
        return 0
    if flow.destructive and not yes:
        if not sys.stdin.isatty():
            raise UsageError(f"flow {flow.name} is destructive: pass --yes to run it unattended")
        if not click.confirm(f"{flow.name} is destructive ({flow.description}). Run it on {driver.serial}?", default=False):
            raise UsageError("not confirmed; nothing was done")
    if flow.confirm is not None:
        from .account import confirm_flow_account

        params[flow.confirm] = confirm_flow_account(flow, params, driver, confirm_account, interactive=sys.stdin.isatty())
    run_dir = runner.new_run_dir(out_dir, flow, driver.serial)
    progress = _Progress()
    outcome = runner.run(flow, driver, info, params=params, secrets=secrets, run_dir=run_dir,
                         on_step=progress.update, verify=not no_verify, catalogue=catalogue)
    progress.close()
    result = outcome.result
    click.echo(f"{result.outcome}: flow {flow.name} on {driver.serial} in {result.duration_s:.1f} s"
               + (f" — {result.error}" if result.error else ""))
    from ..screens.hints import annotate_run, failure_hints

    hints = failure_hints(run_dir, catalogue, info.variant, catalogues)
    for line in hints:
        click.echo(f"  {line}")
    annotate_run(run_dir, hints)
    click.echo(f"report: {outcome.reports.get('html', run_dir / 'report.html')}")
    return result.exit_code


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
