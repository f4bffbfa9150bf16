"""``miui-automator sim``: start, stop and list simulated Xiaomi phones.

The phones speak the real ADB wire protocol; ``sim start`` makes sure an adb server runs
(honouring ANDROID_ADB_SERVER_PORT), attaches every phone with ``adb connect`` and prints one
serial per line, so anything that drives a real phone can drive these.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import click

from ..errors import ConfigError, DeviceError, UsageError
from ..sim.faults import parse_faults
from ..sim.state import DEFAULT_ACCOUNT_ID, DEFAULT_PASSWORD
from ..sim.variants import VARIANTS

DEFAULT_PORT = 5600
STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


def state_dir() -> Path:
    """Where a detached simulator leaves its pid and serials for ``sim stop``."""
    base = os.environ.get("MIUI_AUTOMATOR_STATE_DIR") or os.path.join(
        os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state"), "miui-automator")
    path = Path(base)
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


@sim.command("start")
@click.option("--devices", "count", type=click.IntRange(1, 64), default=1, show_default=True, help="How many phones.")
@click.option("--variant", default="hyperos1-en", show_default=True,
              help="OS variant; a comma-separated list is used round-robin across phones.")
@click.option("--port", type=click.IntRange(1024, 65535), default=DEFAULT_PORT, show_default=True,
              help="TCP port of the first phone; the others take the following ports.")
@click.option("--faults", "fault_spec", default="", help="Fault spec, e.g. 'popup=3;slow=0.5;u2crash=25' (see docs).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of everything generated (phone i uses seed+i).")
@click.option("--account-id", default=DEFAULT_ACCOUNT_ID, show_default=True, help="Mi account id the phones are signed in to.")
@click.option("--account-password", default=DEFAULT_PASSWORD, show_default=True,
              help="Password of the simulated account (a test value, not a real secret).")
@click.option("--signed-out", is_flag=True, help="Start with no Mi account signed in.")
@click.option("--media-files", type=click.IntRange(0, 100000), default=40, show_default=True, help="Synthetic files on /sdcard.")
@click.option("--media-mb", type=click.IntRange(0, 100000), default=24, show_default=True, help="Their total size in MB.")
@click.option("--detach", is_flag=True, help="Run in the background; stop with `miui-automator sim stop`.")
def start_cmd(count: int, variant: str, port: int, fault_spec: str, seed: int, account_id: str, account_password: str,
              signed_out: bool, media_files: int, media_mb: int, detach: bool) -> None:
    """Start simulated phones, attach them to the adb server, print their serials."""
    names = _variants(variant, count)
    faults = parse_faults(fault_spec)
    ports = list(range(port, port + count))
    busy = [p for p in ports if not _port_free(p)]
    if busy:
        raise UsageError(f"port {busy[0]} is already in use (choose another with --port)")
    if detach:
        _start_detached()
        return
    from ..sim.host import SimHost, adb_connect, ensure_adb_server
    from ..sim.phone import Phone

    adb_port = adb_server_port()
    ensure_adb_server(adb_port)
    host = SimHost()
    host.start()
    stop = threading.Event()
    try:
        devices = []
        for i, (name, p) in enumerate(zip(names, ports)):
            phone = Phone(name, seed=seed + i, account_id=account_id, password=account_password, signed_in=not signed_out,
                          faults=faults, media_files=media_files, media_bytes=media_mb * 1024 * 1024)
            devices.append(host.add_phone(phone, port=p))
        for dev in devices:
            adb_connect(dev.serial, adb_port)
            click.echo(dev.serial)
        sys.stdout.flush()
        ready = os.environ.get("MIUI_AUTOMATOR_SIM_READY")
        if ready:
            Path(ready).write_text(json.dumps({"pid": os.getpid(), "serials": [d.serial for d in devices], "adb_port": adb_port}))
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        while not stop.wait(0.5):
            pass
    finally:
        host.stop()


def _start_detached() -> None:
    """Re-run ``sim start`` without --detach in a new session and wait until it is ready."""
    folder = state_dir()
    ready = folder / "sim.json"
    if ready.exists():
        info = json.loads(ready.read_text() or "{}")
        if _alive(info.get("pid", 0)):
            raise UsageError(f"a detached simulator is already running (pid {info['pid']}); stop it with `miui-automator sim stop`")
        ready.unlink()
    args = [a for a in sys.argv[1:] if a != "--detach"]
    log = open(folder / "sim.log", "ab")
    env = dict(os.environ, MIUI_AUTOMATOR_SIM_READY=str(ready))
    proc = subprocess.Popen([sys.executable, "-m", "miui_automator.cli.main", *args], stdout=log, stderr=log,
                            stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if ready.exists() and ready.read_text():
            for serial in json.loads(ready.read_text())["serials"]:
                click.echo(serial)
            return
        if proc.poll() is not None:
            tail = (folder / "sim.log").read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise DeviceError(f"the simulator exited during start-up: {tail[0]}")
        time.sleep(0.1)
    proc.terminate()
    raise DeviceError(f"the simulator did not become ready within {STARTUP_TIMEOUT_S:.0f} s (log: {folder / 'sim.log'})")


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


@sim.command("stop")
def stop_cmd() -> None:
    """Stop the simulator started with --detach and detach its phones from adb."""
    ready = state_dir() / "sim.json"
    if not ready.exists():
        raise ConfigError("no detached simulator is running (nothing to stop)")
    info = json.loads(ready.read_text() or "{}")
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
    ready.unlink(missing_ok=True)
    click.echo(f"stopped {len(info.get('serials', []))} simulated phone(s)")
