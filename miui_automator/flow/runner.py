"""Running a flow on one phone, as a library call the CLI (and later the fleet) wraps:
load and validate everything first, preflight, then the engine with its listeners.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from ..device.driver import Driver
from ..device.info import DeviceInfo
from ..errors import ConfigError, UsageError
from ..report.events import EventWriter
from ..report.render import render_all
from ..screens.catalogue import Catalogue
from ..screens.overlay import load_catalogue
from ..tasks import registry
from .artifacts import ArtifactListener
from .engine import Engine, RunResult
from .model import Flow
from .parser import FlowResolver, load_flow

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "flows"
MIN_BATTERY = 20


def resolver() -> FlowResolver:
    return FlowResolver(BUILTIN_DIR)


def builtin_flows() -> list[str]:
    return resolver().names()


def load(ref: str, catalogue: Catalogue | None = None) -> Flow:
    """A built-in flow by name, or a YAML file by path; validated completely (screen names against
    ``catalogue``, default the built-in one with the user's catalogues over it)."""
    path = Path(ref)
    return load_flow(path if path.suffix in (".yaml", ".yml") or os.sep in ref else ref,
                     known_screens=(catalogue or load_catalogue()).names, builtin_dir=BUILTIN_DIR, known_tasks=registry())


def bind_params(flow: Flow, given: Mapping[str, str], *, secret_source: Callable[[str, str | None], str | None]) \
        -> tuple[dict[str, str], dict[str, str]]:
    """(plain params, secrets) for ``flow`` from ``--param`` values, defaults and secret sources.

    Secrets never come from ``--param`` (that would put them in argv); ``secret_source(name, env)``
    reads them from the environment, a file or a hidden prompt.
    """
    known = {p.name: p for p in flow.params}
    for name in given:
        if name not in known:
            raise UsageError(f"flow {flow.name} has no param {name!r} (params: {', '.join(known) or 'none'})")
        if known[name].secret:
            raise UsageError(f"param {name!r} is a secret: pass it through ${known[name].env or 'its environment variable'}"
                             f" or a file, never on the command line")
    plain: dict[str, str] = {}
    secrets: dict[str, str] = {}
    for p in flow.params:
        if p.secret:
            value = secret_source(p.name, p.env)
            if value:
                secrets[p.name] = value
            elif p.required:
                raise UsageError(f"flow {flow.name} needs the secret {p.name!r}: set ${p.env}" if p.env
                                 else f"flow {flow.name} needs the secret {p.name!r}")
            continue
        value = given.get(p.name, p.default)
        if value is None:
            if p.required:
                raise UsageError(f"flow {flow.name} needs --param {p.name}=VALUE")
            value = ""
        if p.choices and value not in p.choices:
            raise UsageError(f"param {p.name}={value!r} is not one of: {', '.join(p.choices)}")
        plain[p.name] = value
    return plain, secrets


@dataclass(frozen=True)
class PreflightIssue:
    check: str
    problem: str
    fix: str


def preflight(info: DeviceInfo) -> list[PreflightIssue]:
    """What must hold before any tap: each failure with the instruction that fixes it."""
    issues = []
    if not info.adb_input_enabled:
        issues.append(PreflightIssue("usb-debugging-security", "USB debugging (Security settings) is off: MIUI refuses taps",
                                     "On the phone: Settings > Additional settings > Developer options > turn on "
                                     "\"USB debugging (Security settings)\" (needs a SIM and a signed-in Mi account)"))
    if info.screen_on is False:
        issues.append(PreflightIssue("screen", "the screen is off", "Wake the phone (press power) and unlock it"))
    elif info.locked:
        issues.append(PreflightIssue("lock", "the screen is locked", "Unlock the phone and keep it on the home screen"))
    if info.battery_level is not None and info.battery_level < MIN_BATTERY and not info.charging:
        issues.append(PreflightIssue("battery", f"battery at {info.battery_level}% and not charging",
                                     f"Charge the phone above {MIN_BATTERY}% or plug it in"))
    if not info.supported:
        issues.append(PreflightIssue("os", f"{info.os_label or 'this OS'} is not a supported MIUI 12-14 / HyperOS 1-2 build",
                                     "Use a phone on MIUI 12-14 or HyperOS 1-2"))
    return issues


def runs_backup_itself(flow: Flow, params: Mapping[str, str]) -> bool:
    """A flow that backs the phone up before its destructive steps (reset-test-device) gates itself."""
    from .model import RunStep

    return params.get("skip_backup", "false") != "true" and any(
        isinstance(step, RunStep) and step.flow.name == "backup" for step in flow.walk())


def check_backup_gate(flow: Flow, info: DeviceInfo, no_backup_gate: bool, params: Mapping[str, str] | None = None,
                      root: Path | None = None) -> Path | None:
    """Refuse a destructive flow on a phone without a verified backup (by hardware serial).

    Returns the backup that satisfies the gate (None when the gate does not apply).
    """
    if not flow.destructive or no_backup_gate or runs_backup_itself(flow, params or {}):
        return None
    from ..backup import backup_root, latest_verified_backup

    found = latest_verified_backup(root or backup_root(), info.hardware_serial)
    if found is None:
        raise UsageError(f"{info.serial}: no verified backup of this phone ({info.hardware_serial}) under "
                         f"{root or backup_root()}: run `miui-automator run backup -s {info.serial}` first, "
                         f"or pass --no-backup-gate to go on without one")
    return found


@dataclass
class RunOutcome:
    result: RunResult
    run_dir: Path
    reports: dict[str, Path] = field(default_factory=dict)


def new_run_dir(base: Path, flow: Flow, serial: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    safe = serial.replace(":", "_").replace("/", "_")
    path = base / f"{stamp}-{flow.name}-{safe}"
    n = 1
    while path.exists():
        n += 1
        path = base / f"{stamp}-{flow.name}-{safe}-{n}"
    path.mkdir(parents=True)
    return path


def run(flow: Flow, driver: Driver, info: DeviceInfo, *, params: Mapping[str, str], secrets: Mapping[str, str],
        run_dir: Path, on_step: Callable[[str, str, str], None] | None = None, verify: bool = True,
        start_at: int = 1, catalogue: Catalogue | None = None) -> RunOutcome:
    """Run ``flow`` on ``driver`` writing records into ``run_dir``; always renders the reports.

    ``start_at`` skips the top-level steps before it (a resumed fleet run: they completed before)."""
    writer = EventWriter(run_dir, redact=[v for v in secrets.values() if v])
    listener = ArtifactListener(run_dir, writer, info.as_dict(), on_step)
    engine = Engine(driver, catalogue or load_catalogue(), listeners=[listener], variant=info.variant, verify=verify,
                    tasks=registry())
    try:
        result = engine.run(flow, params, secrets, start_at=start_at)
    finally:
        writer.close()
        reports = render_all(run_dir)
    return RunOutcome(result, run_dir, reports)


def read_secret_file(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as err:
        raise ConfigError(f"{path}: cannot read the password file: {err.strerror or err}") from None
