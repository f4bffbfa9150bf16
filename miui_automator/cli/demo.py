"""``miui-automator demo``: the whole product on a simulated phone, with no set-up.

It starts a private adb server on a free port (so a developer's own adb and phones are left
alone), a simulated Xiaomi phone in-process, then runs ``backup`` and ``remove-mi-account``
exactly as a user would on a real phone — the same plan (params, preflight, backup gate) as
``run``, with ``--yes`` as the answer — and prints where the reports are. Its backups and their
records stay in the output folder.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path

import click

from ..backup.records import HOME_ENV
from ..sim.state import DEFAULT_PASSWORD
from ..sim.variants import VARIANTS


@click.command("demo")
@click.option("--variant", type=click.Choice(list(VARIANTS)), default="hyperos1-en", show_default=True,
              help="OS variant of the simulated phone.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("demo-output"),
              show_default=True, help="Folder for backups and reports.")
def demo_cmd(variant: str, out_dir: Path) -> int:
    """Back up a simulated Xiaomi phone, then sign its Mi Account out — every screen proven."""
    from ..sim.host import free_port

    adb_port = free_port()
    with _private_session(adb_port, out_dir):
        return _demo(variant, out_dir, adb_port)


@contextmanager
def _private_session(adb_port: int, out_dir: Path):
    """Point this process (and uiautomator2's global adb client) at a private adb server for the demo, and
    put everything back afterwards: the demo may run inside a longer-lived process (tests, a notebook), whose
    adb settings must not end up pointing at a server that no longer runs."""
    import adbutils

    from ..sim.host import ensure_adb_server, kill_adb_server

    names = ("ANDROID_ADB_SERVER_PORT", "MIUI_AUTOMATOR_BACKUPS", HOME_ENV)
    saved_env = {name: os.environ.get(name) for name in names}
    saved_client = adbutils.adb, adbutils.device
    os.environ.update({"ANDROID_ADB_SERVER_PORT": str(adb_port), "MIUI_AUTOMATOR_BACKUPS": str(out_dir / "backups"),
                       HOME_ENV: str(out_dir)})  # a simulated phone's backup records do not belong in the user's own
    try:
        ensure_adb_server(adb_port, usb=False)  # private: it only ever sees the simulated phone
        adbutils.adb = adbutils.AdbClient(port=adb_port)  # uiautomator2's global client: the private server
        adbutils.device = adbutils.adb.device
        yield
    finally:
        kill_adb_server(adb_port)
        adbutils.adb, adbutils.device = saved_client
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _demo(variant: str, out_dir: Path, adb_port: int) -> int:
    from .. import run
    from ..device.android import AndroidDevice
    from ..sim.host import SimHost, adb_connect
    from ..sim.phone import Phone

    host = SimHost().start()
    try:
        dev = host.add_phone(Phone(variant, media_files=24, media_bytes=12 * 1024 * 1024))
        adb_connect(dev.serial, adb_port)
        driver = AndroidDevice(dev.serial)
        info = driver.info()
        click.echo(f"simulated phone {dev.serial}: {info.market_name}, {info.os_label}, Mi account {info.mi_account}")
        codes = []
        for name in ("backup", "remove-mi-account"):
            flow = run.load(name)
            plan = run.plan_run(flow, info, given={}, secret_source=_simulated_password, confirmer=run.ASSUME_YES)
            if flow.destructive:
                click.echo(f"{'':<18} backup gate: {plan.gate.describe()}")
            started = time.monotonic()
            outcome = run.execute(plan, driver, run_dir=run.new_run_dir(out_dir / "runs", flow, dev.serial),
                                  on_step=_echo_step)
            result = outcome.result
            click.echo(f"{name:<18} {result.outcome:<7} {time.monotonic() - started:5.1f} s   "
                       f"{outcome.reports.get('html')}" + (f"\n  {result.error}" if result.error else ""))
            codes.append(result.exit_code)
            if result.exit_code:
                break
            info = driver.info()
        click.echo(f"Mi account on the phone now: {info.mi_account or 'none'}")
        return max(codes)
    finally:
        host.stop()


def _simulated_password(name: str, env: str | None) -> str | None:
    """The simulated phone's account password: the one secret the demo's flows ask for."""
    return DEFAULT_PASSWORD if name == "password" else None


def _echo_step(step_id: str, status: str, text: str) -> None:
    if status == "failed":
        click.echo(f"  step {step_id} failed: {text}", err=True)
