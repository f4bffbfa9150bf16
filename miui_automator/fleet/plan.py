"""Which phones a fleet run takes, and what each gets: find them on the adb servers, ask each what
it is, select them (inventory, ``--all`` or ``-s``), and bind each one's params and password.

Everything here happens before the first tap, so a bad param or a missing password stops the
whole command with exit 2 instead of failing phone after phone half-way through a reset. Then
:func:`check` runs each bound phone through preflight and the backup gate (:func:`miui_automator.run.prepare`,
the same as a single run): a phone that fails either is recorded with why, and never started.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from .. import secret_env
from ..device.info import DeviceInfo
from ..errors import ConfigError, DeviceError, MiuiAutomatorError, UsageError
from ..flow.model import Flow
from ..run import RunPlan, bind_params, prepare, read_secret_file
from ..run.gate import BackupGateRefused
from ..run.preflight import PreflightFailed
from .inventory import LOCAL, PhoneEntry, Inventory, PasswordSource, PhoneFacts, server_address
from .ledger import ERROR, MISSING, REFUSED

PROBE_TIMEOUT_S = 60.0
"""How long asking one phone what it is may take before it counts as not answering."""
PROBE_PARALLEL = 16
"""Phones asked what they are at once (a few shell commands each: light, whatever --parallel says)."""


@dataclass(frozen=True)
class Attached:
    """A phone an adb server lists, in whatever state (device, unauthorized, offline...)."""

    server: str
    serial: str
    state: str


@dataclass
class Probe:
    """An attached phone after asking it what it is: the device handle and its info, or why not."""

    server: str
    serial: str
    state: str = "device"
    device: Any = None  # AndroidDevice
    info: DeviceInfo | None = None
    problem: str = ""

    @property
    def key(self) -> str:
        return phone_key(self.server, self.serial, self.info)

    @property
    def facts(self) -> PhoneFacts:
        i = self.info
        return PhoneFacts(self.server, self.serial, i.hardware_serial if i else "", i.model if i else "",
                          i.market_name if i else "", i.variant if i else "", i.os_label if i else "")


@dataclass
class PhonePlan:
    """One phone of a run: where it is, what it is, what it gets. ``problem`` set: recorded, never run."""

    key: str
    server: str
    serial: str
    label: str = ""
    device: Any = None
    info: DeviceInfo | None = None
    params: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    password: dict[str, str] = field(default_factory=dict)  # where the password came from, for the ledger
    start_at: int = 1
    problem: str = ""
    problem_status: str = ""
    problem_code: int = DeviceError.exit_code
    run_plan: RunPlan | None = None  # set by check(): preflight and the backup gate passed

    @property
    def name(self) -> str:
        return self.label or self.serial

    @property
    def model(self) -> str:
        return (self.info.market_name or self.info.model) if self.info else ""


def phone_key(server: str, serial: str, info: DeviceInfo | None) -> str:
    """A phone's identity in the ledger: ``ro.serialno`` (the same on any hub or host), else where it is."""
    return info.hardware_serial if info is not None and info.hardware_serial else f"{server}/{serial}"


def flow_digest(flow: Flow) -> str:
    """Fingerprint of the top-level steps: resuming against a flow whose steps moved would skip or repeat steps."""
    steps = [(s.kind, s.describe()) for s in flow.steps]
    return hashlib.sha256(json.dumps(steps, ensure_ascii=False).encode()).hexdigest()[:16]


# ---------------------------------------------------------------------- discovery
def list_attached(servers: Iterable[str]) -> tuple[list[Attached], dict[str, str]]:
    """Every phone on every server, and the servers that could not be reached (server -> why)."""
    from ..device.android import adb_client

    phones: list[Attached] = []
    unreachable: dict[str, str] = {}
    for server in servers:
        try:
            entries = adb_client(server_address(server)).list()
        except MiuiAutomatorError as err:
            unreachable[server] = str(err)
            continue
        except Exception as err:  # noqa: BLE001 - any adb/socket failure means "cannot reach this server"
            unreachable[server] = f"{type(err).__name__}: {err}"
            continue
        phones.extend(Attached(server, e.serial, e.state) for e in entries)
    return phones, unreachable


def probe_one(server: str, serial: str, state: str = "device") -> Probe:
    """Connect to one phone and read its info; a problem instead of an exception."""
    from ..device.android import AndroidDevice

    if state != "device":
        hint = " (accept the USB debugging prompt on the phone)" if state == "unauthorized" else ""
        return Probe(server, serial, state, problem=f"device is {state}{hint}")
    try:
        device = AndroidDevice(serial, server_address(server))
        return Probe(server, serial, state, device, device.info())
    except MiuiAutomatorError as err:
        return Probe(server, serial, state, problem=str(err))
    except Exception as err:  # noqa: BLE001 - one odd phone must not stop the others being probed
        return Probe(server, serial, state, problem=f"{type(err).__name__}: {err}")


def worth_probing(attached: list[Attached], names: tuple[str, ...], inventory: Inventory | None = None) -> list[Attached]:
    """Only the phones ``-s`` names, when every name is an attached phone's adb serial (or the label of an inventory
    entry with one); otherwise all of them, since a name may be a ro.serialno only a probe reveals."""
    if not names:
        return attached
    labels = {e.label: e.serial for e in inventory.entries if e.label and e.serial} if inventory else {}
    wanted = {labels.get(n, n) for n in names}
    direct = [a for a in attached if a.serial in wanted]
    return direct if wanted <= {a.serial for a in direct} else attached


def probe_all(attached: list[Attached], parallel: int = PROBE_PARALLEL, timeout_s: float = PROBE_TIMEOUT_S) -> list[Probe]:
    """Probe phones in parallel (daemon threads: one that hangs is reported, not waited for)."""
    results: dict[int, Probe] = {}
    lock = threading.Condition()
    pending = list(enumerate(attached))

    def worker() -> None:
        while True:
            with lock:
                if not pending:
                    return
                i, a = pending.pop(0)
            probe = probe_one(a.server, a.serial, a.state)
            with lock:
                results[i] = probe
                lock.notify_all()

    for _ in range(max(1, min(parallel, len(attached)))):
        threading.Thread(target=worker, name="probe", daemon=True).start()
    deadline = time.monotonic() + timeout_s
    with lock:
        while len(results) < len(attached) and time.monotonic() < deadline:
            lock.wait(deadline - time.monotonic())
    return [results.get(i) or Probe(a.server, a.serial, a.state, problem=f"did not answer within {timeout_s:g} s")
            for i, a in enumerate(attached)]


def dedupe(probes: list[Probe]) -> tuple[list[Probe], list[str]]:
    """One phone seen through two adb servers (same ro.serialno) is run once, from the first server."""
    seen: dict[str, Probe] = {}
    out: list[Probe] = []
    notes: list[str] = []
    for p in probes:
        if p.info is not None and p.info.hardware_serial:
            first = seen.get(p.info.hardware_serial)
            if first is not None:
                notes.append(f"{p.serial} on {p.server} is the same phone as {first.serial} on {first.server}: run once")
                continue
            seen[p.info.hardware_serial] = p
        out.append(p)
    return out, notes


# ---------------------------------------------------------------------- selection
@dataclass
class Selection:
    chosen: list[tuple[Probe, PhoneEntry | None]]
    missing: list[tuple[str, str, str]]  # (name, server or "", why)
    notes: list[str]


def select(probes: list[Probe], *, inventory: Inventory | None = None, names: tuple[str, ...] = (),
           everything: bool = False) -> Selection:
    """The phones to run: by inventory (optionally narrowed to ``names``: serials or labels), every attached
    one, or the ones named. Names and listed phones that are not attached come back as missing."""
    chosen: list[tuple[Probe, PhoneEntry | None]] = []
    notes: list[str] = []
    wanted = set(names)
    found: set[str] = set()

    def named(p: Probe, entry: PhoneEntry | None) -> set[str]:
        ids = {p.serial} | ({p.info.hardware_serial} if p.info and p.info.hardware_serial else set())
        return ids | ({entry.label} if entry and entry.label else set())

    for p in probes:
        if inventory is None:
            ids = named(p, None)
            if everything or ids & wanted:
                chosen.append((p, None))
                found |= ids & wanted
            continue
        entry = inventory.select(p.facts)
        if p.info is None and (entry is None or entry.is_rule):
            notes.append(f"{p.serial} on {p.server} not selected: {p.problem} (rules need a phone that answers)")
            continue
        if entry is None:
            continue
        if wanted and not named(p, entry) & wanted:
            continue
        chosen.append((p, entry))
        found |= named(p, entry) & wanted
    missing: list[tuple[str, str, str]] = []
    if inventory is not None and not wanted:
        taken = {id(e) for _, e in chosen}
        missing = [(e.serial or "", e.server or "", f"listed at {e.origin} but not attached")
                   for e in inventory.listed if id(e) not in taken]
    missing += [(name, "", "not attached to any adb server in use") for name in dict.fromkeys(names) if name not in found]
    return Selection(chosen, missing, notes)


# ---------------------------------------------------------------------- params and passwords
class SecretPrompt:
    """Asks for each secret once per fleet (hidden), only on a terminal; never per phone. Phone threads get
    :meth:`cached` (answers given so far, never a prompt racing the live view)."""

    def __init__(self, interactive: bool) -> None:
        self.interactive = interactive
        self._answers: dict[str, str] = {}
        self._lock = threading.Lock()

    def __call__(self, name: str) -> str | None:
        if not self.interactive:
            return None
        with self._lock:
            if name not in self._answers:
                self._answers[name] = getpass.getpass(f"{name} for every phone (hidden): ")
            return self._answers[name]

    def cached(self, name: str) -> str | None:
        with self._lock:
            return self._answers.get(name)


def bind(flow: Flow, *, inventory_params: Mapping[str, tuple[str, str]], cli_params: Mapping[str, str],
         password: PasswordSource | None, password_file: str | None, prompt: Callable[[str], str | None] | None,
         phone: str) -> tuple[dict[str, str], dict[str, str]]:
    """(plain params, secrets) of one phone. Inventory params the flow does not declare are left out (one
    inventory serves every flow); ``--param`` values are strict, as with ``run``, and win over the inventory."""
    declared = {p.name: p for p in flow.params}
    given: dict[str, str] = {}
    for name, (value, origin) in inventory_params.items():
        if name not in declared:
            continue
        if declared[name].secret:
            raise UsageError(f"{origin}: param '{name}' is a secret of flow {flow.name}: use password: {{env: NAME}}")
        given[name] = value
    given.update(cli_params)

    try:
        return bind_params(flow, given, secret_source=secret_reader(flow, password, password_file, prompt))
    except UsageError as err:
        if type(err) is UsageError:  # a ConfigError already names its file:line
            raise UsageError(f"{phone}: {err}") from None
        raise


def secret_reader(flow: Flow, password: PasswordSource | None, password_file: str | None,
                  prompt: Callable[[str], str | None] | None) -> Callable[[str, str | None], str | None]:
    """Where a phone's secrets come from, first that applies: its inventory password source, --password-file,
    the flow's environment variable, a hidden prompt (on a terminal)."""

    def source(name: str, env: str | None) -> str | None:
        if password is not None:
            value = password.read()
            param = flow.param(name)
            if value is None and param is not None and param.required:
                raise ConfigError(f"{password.origin}: flow {flow.name} needs the password, but {password.describe()} "
                                  f"is not set")
            return value
        if password_file:
            return read_secret_file(password_file)
        value = secret_env.read(env) if env else None
        if value:
            return value
        return prompt(name) if prompt else None

    return source


def plan_phones(flow: Flow, selection: Selection, *, inventory: Inventory | None, cli_params: Mapping[str, str],
                password_file: str | None, prompt: Callable[[str], str | None] | None) -> list[PhonePlan]:
    """A plan per chosen phone (params bound: errors here are the user's to fix, exit 2), plus the missing ones."""
    plans: list[PhonePlan] = []
    for p, entry in selection.chosen:
        plan = PhonePlan(key=p.key, server=p.server, serial=p.serial, label=entry.label if entry else "",
                         device=p.device, info=p.info)
        if p.info is None:
            plan.problem, plan.problem_status = p.problem, ERROR
        else:
            source = inventory.password_for(entry) if inventory else None
            plan.params, plan.secrets = bind(flow, inventory_params=inventory.params_for(entry) if inventory else {},
                                             cli_params=cli_params, password=source, password_file=password_file,
                                             prompt=prompt, phone=plan.name)
            plan.password = source.as_dict() if source and plan.secrets else {}
        plans.append(plan)
    for name, server, why in selection.missing:
        plans.append(PhonePlan(key=f"{server or 'any'}/{name}", server=server, serial=name, problem=why,
                               problem_status=MISSING))
    return plans


def check(flow: Flow, plan: PhonePlan, *, no_backup_gate: bool) -> PhonePlan:
    """Preflight and the backup gate for one bound phone: ``plan.run_plan`` when both pass, else a problem
    (status ``error`` for a phone not ready, ``refused`` for one without a verified backup). Bad params and
    passwords were caught when binding; nothing here stops the other phones."""
    if plan.problem or plan.info is None:
        return plan
    try:
        plan.run_plan = prepare(flow, plan.info, plan.params, plan.secrets, no_backup_gate=no_backup_gate,
                                start_at=plan.start_at)
    except PreflightFailed as err:
        plan.problem, plan.problem_status, plan.problem_code = str(err), ERROR, err.exit_code
    except BackupGateRefused as err:
        plan.problem, plan.problem_status, plan.problem_code = str(err), REFUSED, err.exit_code
    return plan


def no_phones_error(servers: Iterable[str], unreachable: Mapping[str, str]) -> DeviceError:
    where = ", ".join("this machine's adb server" if s == LOCAL else s for s in servers)
    if unreachable:
        return DeviceError("cannot reach the adb server: " + "; ".join(f"{s}: {why}" for s, why in unreachable.items()))
    return DeviceError(f"no phone selected on {where} (plug phones in, or start some: miui-automator sim start --devices 4)")
