"""Resolving string resources on one phone against ``adb pull`` of the same APKs, side by side in one run.

Rows (median of ``--rounds``):

- ``adb pull`` of every APK the catalogue and the built-in flows name (the CLI from the adbutils wheel):
  the baseline, what a tool that pulls APKs to read their strings pays;
- ours, cold cache: ``pm path`` + ``dumpsys package`` + ``unzip -p APK resources.arsc`` per app, parse,
  write the cache — time and bytes over adb (every shell answer counted);
- ours, cold cache without unzip: the pull fallback (whole APK over sync, table taken out here);
- ours, warm cache: what the 2nd..50th phone of a fleet pays (``pm path`` + ``dumpsys`` per app only).

The simulated phone runs in its own process (``miui-automator sim start --locale``), as a real phone
would. It needs the simulator that installs APKs per locale. Prints a table; asserts nothing.

    python bench/strings_bench.py [--locale de-DE] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

START_TIMEOUT_S = 60.0


def start_sim(adb_port: int, locale: str, work: Path) -> tuple[subprocess.Popen, str]:
    from miui_automator.sim.host import free_port

    ready = work / "sim.json"
    env = dict(os.environ, ANDROID_ADB_SERVER_PORT=str(adb_port), MIUI_AUTOMATOR_SIM_READY=str(ready))
    proc = subprocess.Popen([sys.executable, "-m", "miui_automator.cli.main", "sim", "start", "--port", str(free_port()),
                             "--locale", locale], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if ready.exists() and ready.read_text():
            return proc, json.loads(ready.read_text())["serials"][0]
        if proc.poll() is not None:
            raise SystemExit("the simulator exited during start-up (does it take --locale yet?): "
                             + proc.stderr.read().decode(errors="replace")[-500:])
        time.sleep(0.1)
    proc.terminate()
    raise SystemExit("the simulator did not start")


class Counting:
    """The phone, counting every byte its answers carry over adb."""

    def __init__(self, device, unzip: bool = True) -> None:
        self.device, self.unzip, self.bytes = device, unzip, 0
        self.serial = device.serial

    def shell(self, command, timeout_s=None):
        out = self.device.shell(command, timeout_s)
        self.bytes += len(out.output.encode("utf-8"))
        return out

    def shell_bytes(self, command, timeout_s=None):
        data = self.device.shell_bytes(command, timeout_s) if self.unzip or not command.startswith("unzip") else \
            self.device.shell_bytes("echo unzip: not found", timeout_s)
        self.bytes += len(data)
        return data

    def read_file(self, path, timeout_s=None):
        data = self.device.read_file(path, timeout_s)
        self.bytes += len(data)
        return data


def all_refs():
    from miui_automator import run
    from miui_automator.screens.catalogue import default_catalogue
    from miui_automator.strings.apply import catalogue_refs, flow_refs

    refs = catalogue_refs(default_catalogue())
    for name in run.builtin_flows():
        refs |= flow_refs(run.load(name))
    return refs


def resolve_once(serial: str, cache_dir: Path, unzip: bool = True):
    from miui_automator.device.android import AndroidDevice
    from miui_automator.strings.cache import StringCache
    from miui_automator.strings.resolver import StringResolver

    phone = Counting(AndroidDevice(serial), unzip)
    started = time.perf_counter()
    res = StringResolver(phone, StringCache(cache_dir)).resolve(all_refs())
    return time.perf_counter() - started, phone.bytes, res


def measure(serial: str, adb_port: int, work: Path, rounds: int) -> list[tuple[str, str, str]]:
    from miui_automator.device.android import AndroidDevice
    from miui_automator.sim.host import adb_path

    device = AndroidDevice(serial)
    packages = sorted({ref.package for ref in all_refs()})
    apks = [line.split(":", 1)[1].strip() for p in packages
            for line in device.shell(f"pm path {p}").output.splitlines()[:1] if line.startswith("package:")]
    pull_s, pull_bytes = [], 0
    for r in range(rounds):
        dest = work / f"pull-{r}"
        dest.mkdir()
        started = time.perf_counter()
        for apk in apks:
            subprocess.run([adb_path(), "-P", str(adb_port), "-s", serial, "pull", apk, str(dest)], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pull_s.append(time.perf_counter() - started)
        pull_bytes = sum(f.stat().st_size for f in dest.iterdir())
    cold = [resolve_once(serial, work / f"cold-{r}") for r in range(rounds)]
    nozip = [resolve_once(serial, work / f"nozip-{r}", unzip=False) for r in range(rounds)]
    warm = [resolve_once(serial, work / "cold-0") for _ in range(rounds)]
    res = cold[0][2]
    base_s = statistics.median(pull_s)

    def row(label: str, runs) -> tuple[str, str, str]:
        t, b = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
        return (label, f"{t:7.3f} s", f"{b / 1e6:8.3f} MB over adb; {t / base_s:5.2f}x the time, "
                                      f"{b / pull_bytes:6.3f}x the bytes of adb pull")

    return [
        ("adb pull of the APKs (baseline)", f"{base_s:7.3f} s", f"{pull_bytes / 1e6:8.3f} MB, {len(apks)} APKs"),
        row("ours, cold cache (unzip -p)", cold),
        row("ours, cold cache (pull fallback)", nozip),
        row("ours, warm cache", warm),
        ("resolved", f"{len(res.texts)}/{len(res.texts) + len(res.missing)}",
         f"locale {res.locale}; " + ", ".join(f"{p}: {s}" for p, s in sorted(res.sources.items()))),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--locale", default="de-DE", help="the simulated phone's locale")
    ap.add_argument("--rounds", type=int, default=3, help="rounds per measurement (the median is shown)")
    args = ap.parse_args()

    from miui_automator.sim.host import ensure_adb_server, free_port, kill_adb_server

    adb_port = free_port()
    os.environ["ANDROID_ADB_SERVER_PORT"] = str(adb_port)
    os.environ.setdefault("ADB_LIBUSB", "0")
    ensure_adb_server(adb_port)
    work = Path(tempfile.mkdtemp(prefix="stringsbench-"))
    try:
        proc, serial = start_sim(adb_port, args.locale, work)
        try:
            rows = measure(serial, adb_port, work, args.rounds)
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        kill_adb_server(adb_port)
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print(f"{name:<{width}}  {value}  {note}")


if __name__ == "__main__":
    main()
