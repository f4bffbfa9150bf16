"""``miui-automator sim``: start, stop and list simulated Xiaomi phones.

The phones speak the real ADB wire protocol; ``sim start`` makes sure an adb server runs
(honouring ANDROID_ADB_SERVER_PORT), attaches every phone with ``adb connect`` and prints one
serial per line, so anything that drives a real phone can drive these.

Detached simulators are named (``--name``, default ``default``) so a lab can run several side
by side, each standing in for one USB host; each leaves ``<name>.json`` (pid, serials) in
:func:`state_dir` for ``sim list`` and ``sim stop``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import click

from ..errors import ConfigError, DeviceError, UsageError
from ..secret_env import scrubbed_environ
from ..sim.faults import FaultRegistry
from ..sim.state import DEFAULT_ACCOUNT_ID, DEFAULT_PASSWORD, hardware_serial
from ..sim.strings import Locale, load_strings
from ..sim.timing import DEFAULT_TIMING, LINKS, PROFILES
from ..sim.variants import VARIANTS

DEFAULT_PORT = 5600
DEFAULT_NAME = "default"
STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def state_dir() -> Path:
    """Where detached simulators leave their pid and serials for ``sim list`` and ``sim stop``."""
    base = os.environ.get("MIUI_AUTOMATOR_STATE_DIR") or os.path.join(
        os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state"), "miui-automator")
    path = Path(base) / "sims"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _variants(spec: str, count: int) -> list[str]:
    names = [v.strip() for v in spec.split(",") if v.strip()]
    for name in names:
        if name not in VARIANTS:
            raise UsageError(f"unknown variant {name!r} (known: {', '.join(VARIANTS)})")
    if not names:
        raise UsageError("--variant needs at least one variant name")
    return [names[i % len(names)] for i in range(count)]


def _ports(port: int, count: int) -> list[int]:
    """The phones' ports: ``port`` and the next ones, checked free; all 0 (each picks a free one) for 0."""
    if port == 0:
        return [0] * count
    if port < 1024 or port + count - 1 > 65535:
        raise UsageError(f"--port {port}: the phones' ports must lie in 1024-65535 (or 0 for free ports)")
    ports = list(range(port, port + count))
    busy = [p for p in ports if not _port_free(p)]
    if busy:
        raise UsageError(f"port {busy[0]} is already in use (choose another with --port, or --port 0)")
    return ports


def _check_name(name: str) -> str:
    if not NAME_RE.fullmatch(name):
        raise UsageError(f"--name {name!r}: use letters, digits, '.', '_' or '-' (at most 64)")
    return name


def adb_server_port() -> int:
    return int(os.environ.get("ANDROID_ADB_SERVER_PORT") or 5037)


@click.group()
def sim() -> None:
    """Simulated Xiaomi phones on the real ADB wire protocol."""


@sim.command("variants")
def variants_cmd() -> None:
    """List the OS variants a simulated phone can be."""
    for v in VARIANTS.values():
        click.echo(f"{v.name:<13} {v.description}")


@sim.command("faults")
def faults_cmd() -> None:
    """List the faults `sim start --faults` accepts."""
    click.echo(FaultRegistry().help_text())


FAULTS_EPILOG = ("\b\nFaults (--faults 'name[=value];...'):\n"
                 + "\n".join(f"  {line}" for line in FaultRegistry().help_text().splitlines()))


@sim.command("start", epilog=FAULTS_EPILOG)
@click.option("--devices", "count", type=click.IntRange(1, 64), default=1, show_default=True, help="How many phones.")
@click.option("--variant", default="hyperos1-en", show_default=True,
              help="OS variant; a comma-separated list is used round-robin across phones.")
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True,
              help="TCP port of the first phone, the others take the following ports; 0: each phone a free port.")
@click.option("--faults", "fault_spec", default="", help="Fault spec, e.g. 'popup=3;slow=0.5;u2crash=25' (list below).")
@click.option("--seed", type=int, default=None,
              help="Seed of everything generated (phone i uses seed+i), hardware serials too. Without it the "
                   "content comes from seed 0 and each serial from the seed and the phone's port.")
@click.option("--account-id", default=DEFAULT_ACCOUNT_ID, show_default=True, help="Mi account id the phones are signed in to.")
@click.option("--account-password", default=DEFAULT_PASSWORD, show_default=True,
              help="Password of the simulated account (a test value, not a real secret).")
@click.option("--signed-out", is_flag=True, help="Start with no Mi account signed in.")
@click.option("--unactivated-account", is_flag=True,
              help="Also hold an unactivated Xiaomi account (type com.xiaomi.unactivated in `dumpsys account`).")
@click.option("--keep-adb-after-reset", is_flag=True,
              help="An engineering build: ADB, its authorisation and input stay on across a factory reset "
                   "(a retail phone leaves ADB for good once the erase starts).")
@click.option("--media-files", type=click.IntRange(0, 100000), default=40, show_default=True, help="Synthetic files on /sdcard.")
@click.option("--media-mb", type=click.IntRange(0, 100000), default=24, show_default=True, help="Their total size in MB.")
@click.option("--detach", is_flag=True, help="Run in the background; stop with `miui-automator sim stop`.")
@click.option("--name", default=DEFAULT_NAME, show_default=True, help="Name of a detached simulator (run several side by side).")
@click.option("--adb-port", type=click.IntRange(1, 65535), default=None,
              help="The adb server to attach the phones to (default: $ANDROID_ADB_SERVER_PORT, else 5037); "
                   "one per simulated USB host.")
# Languages (docs/simulator.md, "Languages")
@click.option("--locale", default=None, metavar="LOCALE",
              help="The phones' language, e.g. de-DE, pt-BR, id-ID, en-XA (pseudo-locale); default: the variant's.")
@click.option("--strings", "string_dirs", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="A folder of translations (<App>.apk/res/values-<qualifier>/strings.xml) laid over the built-in "
                   "texts; repeatable, later folders win.")
# The simulator's clock (sim/timing.py): how long a phone takes for each thing, and the cable's speed.
@click.option("--timing", "timing", type=click.Choice(list(PROFILES)), default=DEFAULT_TIMING, show_default=True,
              help="How long the phones take: instant (no waits), phone (a real phone's latencies), slow-phone (twice).")
@click.option("--link", "link", type=click.Choice(list(LINKS)), default=None,
              help="USB throughput of file transfers: usb2 ~40 MB/s, usb3 ~250 MB/s, instant. "
                   "Default: usb2 with a phone timing, instant with --timing instant.")
def start_cmd(count: int, variant: str, port: int, fault_spec: str, seed: int | None, account_id: str,
              account_password: str, signed_out: bool, unactivated_account: bool, keep_adb_after_reset: bool,
              media_files: int, media_mb: int, detach: bool, name: str, adb_port: int | None,
              locale: str | None, string_dirs: tuple[str, ...], timing: str, link: str | None) -> None:
    """Start simulated phones, attach them to the adb server, print their serials."""
    names = _variants(variant, count)
    if locale is not None:
        Locale.parse(locale)  # a bad tag fails before anything starts
    load_strings(string_dirs)
    faults = FaultRegistry().parse(fault_spec)
    ports = _ports(port, count)
    _check_name(name)
    if detach:
        _start_detached(name)
        return
    from ..sim.host import SimHost, adb_connect, ensure_adb_server
    from ..sim.phone import Phone

    adb_port = adb_port or adb_server_port()
    ensure_adb_server(adb_port)
    host = SimHost()
    host.start()
    stop = threading.Event()
    try:
        devices = []
        for i, (variant_name, p) in enumerate(zip(names, ports)):
            phone_seed = (seed or 0) + i
            phone = Phone(variant_name, seed=phone_seed, account_id=account_id, password=account_password,
                          signed_in=not signed_out, unactivated_account=unactivated_account,
                          keep_adb_after_reset=keep_adb_after_reset, faults=faults, media_files=media_files,
                          media_bytes=media_mb * 1024 * 1024, locale=locale, strings=string_dirs,
                          timing=timing, link=link)
            dev = host.add_phone(phone, port=p)
            if seed is None:  # real phones never share a serial, whichever simulator they come from
                host.call(phone.set_serial, hardware_serial(phone_seed, dev.port))
            devices.append(dev)
        for dev in devices:
            adb_connect(dev.serial, adb_port)
            click.echo(dev.serial)
        sys.stdout.flush()
        ready = os.environ.get("MIUI_AUTOMATOR_SIM_READY")
        if ready:
            info = {"name": name, "pid": os.getpid(), "adb_port": adb_port, "serials": [d.serial for d in devices],
                    "hardware_serials": [host.call(lambda d=d: d.phone.serial) for d in devices],
                    "variants": names}
            partial = Path(ready + ".part")
            partial.write_text(json.dumps(info))
            partial.replace(ready)  # the waiting parent never reads half a file
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        while not stop.wait(0.5):
            pass
    finally:
        host.stop()


# ---------------------------------------------------------------------- detached simulators
def _info_path(name: str) -> Path:
    return state_dir() / f"{name}.json"


def _running() -> dict[str, dict]:
    """Detached simulators still alive, by name; files of dead ones are removed on the way."""
    found: dict[str, dict] = {}
    for path in sorted(state_dir().glob("*.json")):
        try:
            info = json.loads(path.read_text() or "{}")
        except (OSError, ValueError):
            info = {}
        if _alive(int(info.get("pid") or 0)):
            found[path.stem] = info
        elif info:  # an empty file is a simulator still starting: leave it to its parent
            path.unlink(missing_ok=True)
    return found


def _start_detached(name: str) -> None:
    """Re-run ``sim start`` without --detach in a new session and wait until it is ready."""
    ready = _info_path(name)
    if name in _running():
        raise UsageError(f"a detached simulator named {name!r} is already running; stop it with "
                         f"`miui-automator sim stop --name {name}` or choose another --name")
    ready.unlink(missing_ok=True)
    args = [a for a in sys.argv[1:] if a != "--detach"]
    log_path = state_dir() / f"{name}.log"
    env = scrubbed_environ(MIUI_AUTOMATOR_SIM_READY=str(ready))  # the simulator lives on: no secrets in it
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "miui_automator.cli.main", *args], stdout=log, stderr=log,
                                stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if ready.exists() and ready.read_text():
            for serial in json.loads(ready.read_text())["serials"]:
                click.echo(serial)
            return
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise DeviceError(f"the simulator exited during start-up: {tail[0]}")
        time.sleep(0.1)
    proc.terminate()
    raise DeviceError(f"the simulator did not become ready within {STARTUP_TIMEOUT_S:.0f} s (log: {log_path})")


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _stop(name: str, info: dict) -> int:
    """Stop one detached simulator and detach its phones from adb; the number of phones it had."""
    pid = int(info.get("pid", 0))
    if _alive(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    try:
        import adbutils

        client = adbutils.AdbClient(port=int(info.get("adb_port") or adb_server_port()))
        for serial in info.get("serials", []):
            client.disconnect(serial)
    except Exception:  # noqa: BLE001 - adb may already be gone; stopping still succeeded
        pass
    _info_path(name).unlink(missing_ok=True)
    return len(info.get("serials", []))


@sim.command("list")
def list_cmd() -> None:
    """List the detached simulators that are running: name, pid, then each phone's adb serial and ro.serialno."""
    running = _running()
    if not running:
        click.echo("no detached simulator is running")
    for name, info in running.items():
        phones = ", ".join(f"{s} ({hw})" for s, hw in zip(info.get("serials", []), info.get("hardware_serials", [])))
        click.echo(f"{name}  pid {info.get('pid')}  adb port {info.get('adb_port')}  {phones}")


@sim.command("stop")
@click.option("--name", default=None, help="The detached simulator to stop (needed when several run).")
@click.option("--all", "stop_all", is_flag=True, help="Stop every detached simulator.")
def stop_cmd(name: str | None, stop_all: bool) -> None:
    """Stop a simulator started with --detach and detach its phones from adb."""
    if name is not None and stop_all:
        raise UsageError("give --name or --all, not both")
    running = _running()
    if not running:
        raise ConfigError("no detached simulator is running (nothing to stop)")
    if stop_all:
        chosen = list(running)
    elif name is not None:
        if name not in running:
            raise ConfigError(f"no detached simulator named {name!r} is running (running: {', '.join(running)})")
        chosen = [name]
    elif len(running) == 1:
        chosen = list(running)
    else:
        raise UsageError(f"{len(running)} detached simulators are running ({', '.join(running)}): "
                         "choose one with --name or stop them all with --all")
    for each in chosen:
        phones = _stop(each, running[each])
        click.echo(f"stopped {phones} simulated phone(s) of {each!r}")
