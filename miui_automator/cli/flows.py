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

from .. import run, secret_env
from ..errors import DeviceError, UsageError
from ..privacy import mask_text
from ..private_files import open_private, private_dir, write_private_text
from ..run.confirm import ASSUME_YES, Confirmer, require_confirmer
from ..run.preflight import PreflightFailed
from ..run.progress import ProgressDisplay
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


@click.command("inspect")
@click.option("-s", "--serial", default=None, help="Phone serial (default: the only one attached).")
@click.option("--server", default=None, help=SERVER_HELP)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for screenshot.png, hierarchy.xml and elements.json.")
@click.option("--strings", "show_strings", is_flag=True,
              help="Also print the text each string resource of the catalogue and the flows has on this phone.")
@click.option("--flow", "flow_refs", multiple=True, metavar="FLOW",
              help="With --strings: the resources of this flow (built-in name or path; repeatable) instead of every "
                   "built-in flow's.")
@catalogue_option
def inspect_cmd(serial: str | None, server: str | None, out_dir: Path | None, show_strings: bool,
                flow_refs: tuple[str, ...], catalogues: tuple[Path, ...]) -> None:
    """Screenshot, hierarchy, identified screen and element list of the phone now, in the phone's language."""
    from ..report.redaction import redact_dump
    from ..screens.overlay import load_catalogue
    from ..strings.apply import catalogue_refs, resolve_catalogue
    from ..strings.resolver import StringResolver

    if flow_refs and not show_strings:
        raise UsageError("--flow chooses the resources --strings prints: give --strings too")
    flows = [run.load(ref) for ref in (flow_refs or (run.builtin_flows() if show_strings else ()))]
    driver = _driver(serial, server)
    info = driver.info()
    catalogue = load_catalogue(catalogues)
    resolution = StringResolver(driver).resolve(catalogue_refs(catalogue) | _flow_refs(flows))
    h = driver.hierarchy()
    ident = resolve_catalogue(catalogue, resolution).identify(h, info.variant)
    shot = driver.screenshot()
    out = out_dir or Path("inspect") / f"{time.strftime('%Y%m%d-%H%M%S')}-{driver.serial.replace(':', '_')}"
    private_dir(out)  # a screenshot of the phone is the owner's to read, like every record the tool writes
    with open_private(out / "screenshot.png", "wb") as f:
        shot.save(f, "PNG")
    # the account page shows the Mi account id: masked in what is saved and listed, as in every record
    write_private_text(out / "hierarchy.xml", redact_dump(h.source))
    elements = [{k: mask_text(v) if k in ("text", "desc") and isinstance(v, str) else v for k, v in el.items()}
                for el in h.elements()]
    write_private_text(out / "elements.json", json.dumps(elements, indent=1, ensure_ascii=False))
    click.echo(f"device   {driver.serial}  {info.market_name or info.model}  {info.os_label}")
    click.echo(f"locale   {resolution.locale or '(not set: the default texts)'}")
    click.echo(f"screen   {ident.name}" + (f"  (popup over it: {ident.popup.name})" if ident.popup else ""))
    click.echo(f"package  {h.main_package}")
    for el in elements:
        if el.get("text") or el.get("id") or el.get("desc"):
            mark = "*" if el.get("clickable") else " "
            click.echo(f"  {mark} {el.get('bounds')}  {el.get('id') or '-':<45} {el.get('text') or el.get('desc') or ''}")
    click.echo(f"saved    {out}/screenshot.png, hierarchy.xml, elements.json")
    if show_strings:
        _print_strings(resolution, [f.name for f in flows])
        _print_keys_on_screen(StringResolver(driver), resolution.locale, h)


def _flow_refs(flows: list) -> set:
    from ..strings.apply import flow_refs

    return set().union(*(flow_refs(f) for f in flows)) if flows else set()


def _print_keys_on_screen(resolver, locale: str, h) -> None:
    """The string resource behind each text on screen (of the apps on screen): the keys a flow author names."""
    tables = {p: t for p in sorted(h.packages) if (t := resolver.table(p, locale)) is not None}
    by_text: dict[str, list[str]] = {}
    for package, strings in tables.items():
        for key, text in strings.items():
            by_text.setdefault(text, []).append(f"@{package}:string/{key}")
    click.echo(f"on screen  (texts of {', '.join(tables) or 'no readable app'} and their resources)")
    for text in dict.fromkeys(n.text for n in h.nodes if n.text):
        keys = by_text.get(text, [])
        shown = ", ".join(keys[:3]) + (f" (+{len(keys) - 3} more)" if len(keys) > 3 else "")
        click.echo(f"  {json.dumps(mask_text(text), ensure_ascii=False)}  {shown or '-'}")  # the account page shows its id


def _print_strings(resolution, flow_names: list[str]) -> None:
    """key -> text for every resource, so a flow author can see what this phone calls each one."""
    refs = sorted(set(resolution.texts) | set(resolution.missing))
    click.echo(f"strings  {len(resolution.texts)} of {len(refs)} resolved for {resolution.locale or 'the default locale'}"
               f" (catalogue{' + ' + ', '.join(flow_names) if flow_names else ''})")
    for package, source in sorted(resolution.sources.items()):
        click.echo(f"  {package}: {source}")
    width = max((len(ref.written) for ref in refs), default=0)
    for ref in refs:
        text = resolution.texts.get(ref)
        shown = json.dumps(text, ensure_ascii=False) if text is not None else f"? {resolution.missing.get(ref, '')}"
        click.echo(f"  {ref.written:<{width}}  {shown}")


@click.command("flows")
def flows_cmd() -> None:
    """List the built-in flows."""
    for name in run.builtin_flows():
        flow = run.load(name)
        mark = " [destructive]" if flow.destructive else ""
        click.echo(f"{flow.name:<26} {flow.description}{mark}")


@click.command("validate")
@click.argument("flow_ref", metavar="FLOW")
@catalogue_option
def validate_cmd(flow_ref: str, catalogues: tuple[Path, ...]) -> None:
    """Parse a flow (built-in name or path) and report errors; runs nothing."""
    flow = run.load(flow_ref, catalogues)
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
        value = secret_env.read(env) if env else None
        if value:
            return value
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
@catalogue_option
def run_cmd(flow_ref: str, serial: str | None, server: str | None, param_values: tuple[str, ...], password_file: str | None,
            dry_run: bool, yes: bool, no_backup_gate: bool, confirm_account: str | None, no_verify: bool, out_dir: Path,
            catalogues: tuple[Path, ...]) -> int:
    """Run FLOW (a built-in name or a YAML path) on one phone, proving each screen transition."""
    flow = run.load(flow_ref, catalogues)
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
        from ..run.execute import resolve_texts
        from ..screens.overlay import load_catalogue

        _, catalogue, texts = resolve_texts(plan, driver, load_catalogue(catalogues))
        ident = catalogue.identify(driver.hierarchy(), info.variant)
        click.echo(f"dry run: flow {flow.name} resolved ({sum(1 for _ in flow.walk(subflows=True))} steps), "
                   f"preflight ok, locale {texts.locale or '(default)'} ({len(texts.texts)} of "
                   f"{len(texts.texts) + len(texts.missing)} string resources resolved), current screen: {ident.name}. "
                   "Nothing was tapped.")
        return 0
    run_dir = run.new_run_dir(out_dir, flow, driver.serial)
    progress = _Progress()
    outcome = run.execute(plan, driver, run_dir=run_dir, on_step=progress.update, verify=not no_verify,
                          catalogue_args=catalogues, listeners=[ProgressDisplay(sys.stderr)])
    progress.close()
    result = outcome.result
    click.echo(f"{result.outcome}: flow {flow.name} on {driver.serial} in {result.duration_s:.1f} s"
               + (f" — {mask_text(result.error)}" if result.error else ""))
    for line in outcome.hints:
        click.echo(f"  {line}")
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
