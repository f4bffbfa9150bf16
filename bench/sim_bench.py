"""How fast is the simulated phone, seen through the real adb server, adbutils and uiautomator2?

Measured side by side in one run on one simulated phone: shell round-trips per second, the
latency of uiautomator2's dump_hierarchy and screenshot, and pull throughput of the same tree
through adbutils' sync versus the `adb pull` CLI (the baseline). The simulator must not be what
limits the tool: the targets are >= 50 MB/s pull and hierarchy dumps under 20 ms.

A second section checks the simulator's clock (``--timing``): 16 phones doing hierarchy dumps
under ``phone`` timing must cost the simulator process about as much CPU as under ``instant``
(waiting is the event loop's timers, never a busy wait). The simulator runs in its own process
(``sim start``), so its CPU is read from /proc without the clients' share; each side runs its
dumps several times on one simulator and keeps the median round, as a shared host is noisy. A
control run with the clients pausing as long as a phone answers shows what the sparse requests
cost by themselves, and the host's CPU per timer wake-up shows what each separate burst costs. The
last row times the simulator's own dump work (no I/O) back-to-back and right after 20 ms asleep: the
host's surcharge on any work that waited, which puts a floor under phone / instant on that host.

    python bench/sim_bench.py [--mb 200] [--files 40] [--rounds 200] [--phones 16] [--dumps 30]
                              [--cpu-rounds 3] [--only-cpu]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

SIM_READY_TIMEOUT_S = 120.0


def process_cpu(pid: int) -> float:
    """CPU seconds of process ``pid`` (all its threads), from /proc.

    The scheduler's nanosecond run time of each thread (``schedstat``): user + system time in
    ``stat`` comes in clock ticks of 10 ms, too coarse for rounds that cost a few tenths of a second."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except OSError:  # the thread ended meanwhile
            continue
    return total / 1e9


def process_wakeups(pid: int) -> int:
    """Times the threads of ``pid`` went to sleep and were woken (voluntary context switches)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            status = (task / "status").read_text()
        except OSError:  # the thread ended meanwhile
            continue
        total += sum(int(line.split()[1]) for line in status.splitlines() if line.startswith("voluntary_ctxt_switches"))
    return total


def wakeup_cpu_us(sleep_s: float = 0.02, count: int = 50) -> float:
    """CPU microseconds one event-loop timer wake-up costs on this host after ``sleep_s`` asleep:
    the price of every separate burst of work, whatever the simulator does in it."""
    import asyncio

    async def naps() -> float:
        started = time.process_time()
        for _ in range(count):
            await asyncio.sleep(sleep_s)
        return (time.process_time() - started) / count * 1e6

    return asyncio.run(naps())


def cold_work_ratio(asleep_s: float = 0.02, count: int = 200) -> tuple[float, float]:
    """The simulator's own per-dump work (serialising one screen's hierarchy, no I/O), its CPU microseconds
    back-to-back and how many times that it costs right after ``asleep_s`` asleep: what this host charges
    any work that waits, whatever the simulator does. Medians of ``count`` runs each."""
    from miui_automator.sim.phone import Phone
    from miui_automator.sim.ui import hierarchy_xml

    windows = Phone("hyperos1-en").windows()

    def cost(nap: float) -> float:
        samples = []
        for _ in range(count):
            if nap:
                time.sleep(nap)
            started = time.thread_time()
            hierarchy_xml(windows)
            samples.append(time.thread_time() - started)
        return statistics.median(samples)

    hot = cost(0.0)
    return hot * 1e6, cost(asleep_s) / hot if hot else float("nan")


IDLE_SAMPLE_S = 2.0
SPARSE_PAUSE_S = 0.17  # about one phone dump


@dataclass
class CpuRun:
    """One simulator process, ``rounds`` times the same dumps: medians keep a busy host's noise out."""

    cpu: float  # simulator CPU seconds, median round
    wall: float  # seconds, median round
    wakeups: float  # voluntary context switches of the simulator, median round
    idle_rate: float  # CPU s per s with nothing asked of it
    rounds: list[float]  # every round's CPU seconds


def timing_cpu(timing: str, phones: int, dumps: int, adb_port: int, pause: float = 0.0, rounds: int = 3) -> CpuRun:
    """Simulator CPU for ``phones`` phones each answering ``dumps`` uiautomator2 dumps, ``rounds``
    times on one ``sim start`` process. The idle rate is what the process burns with nothing
    asked of it (about 0: the host wakes only for a phone's timer), so the dumps' own cost is
    CPU − idle rate × wall. ``pause``: seconds each client waits between its dumps (requests as sparse as a
    phone's, without its clock)."""
    import json

    import uiautomator2 as u2

    ready = Path(tempfile.mkdtemp(prefix="simcpu-")) / "ready.json"
    env = dict(os.environ, MIUI_AUTOMATOR_SIM_READY=str(ready))
    proc = subprocess.Popen([sys.executable, "-m", "miui_automator.cli.main", "sim", "start", "--port", "0",
                             "--devices", str(phones), "--timing", timing, "--adb-port", str(adb_port),
                             "--media-files", "0"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + SIM_READY_TIMEOUT_S
        while not ready.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"sim start --timing {timing} did not come up")
            time.sleep(0.1)
        serials = json.loads(ready.read_text())["serials"]
        clients = [u2.connect(serial) for serial in serials]
        for d in clients:
            d.dump_hierarchy()  # the server is up and warm before the clock starts
        cpu0 = process_cpu(proc.pid)
        time.sleep(IDLE_SAMPLE_S)
        idle_rate = (process_cpu(proc.pid) - cpu0) / IDLE_SAMPLE_S

        def work(d) -> None:
            for _ in range(dumps):
                d.dump_hierarchy()
                if pause:
                    time.sleep(pause)  # the client's pause, in the bench process: not the simulator's CPU

        samples = []
        with ThreadPoolExecutor(len(clients)) as pool:
            for _ in range(rounds):
                cpu0, wake0, t0 = process_cpu(proc.pid), process_wakeups(proc.pid), time.perf_counter()
                list(pool.map(work, clients))
                samples.append((process_cpu(proc.pid) - cpu0, time.perf_counter() - t0,
                                process_wakeups(proc.pid) - wake0))
        for d in clients:
            d.stop_uiautomator(wait=False)
        return CpuRun(cpu=statistics.median(s[0] for s in samples), wall=statistics.median(s[1] for s in samples),
                      wakeups=statistics.median(s[2] for s in samples), idle_rate=idle_rate,
                      rounds=[s[0] for s in samples])
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(ready.parent, ignore_errors=True)


def cpu_section(phones: int, dumps: int, adb_port: int, rounds: int = 3) -> list[tuple[str, str, str]]:
    """Both sides do the same dumps and only the simulator process is measured. ``instant`` has
    16 clients hammering a simulator that never sleeps between requests (every wake-up serves
    many of them); the control has the same sparse arrivals as ``phone`` without its clock, so
    phone / control is what the phone's waiting itself costs."""
    instant = timing_cpu("instant", phones, dumps, adb_port, rounds=rounds)
    phone = timing_cpu("phone", phones, dumps, adb_port, rounds=rounds)
    sparse = timing_cpu("instant", phones, dumps, adb_port, pause=SPARSE_PAUSE_S, rounds=rounds)
    wake_us = wakeup_cpu_us()
    hot_us, cold = cold_work_ratio()
    n = phones * dumps
    instant_net = max(instant.cpu - instant.idle_rate * instant.wall, 1e-9)
    phone_net = max(phone.cpu - phone.idle_rate * phone.wall, 0.0)

    def row(name: str, run: CpuRun) -> tuple[str, str, str]:
        return (name, f"{run.cpu:.2f} s CPU",
                f"{run.cpu / n * 1000:.2f} ms CPU and {run.wakeups / n:.2f} wake-ups per dump; wall {run.wall:.2f} s; "
                f"idle {run.idle_rate * 1000:.0f} ms CPU/s; rounds {' '.join(f'{c:.2f}' for c in run.rounds)}")

    return [
        row(f"{phones} phones x {dumps} dumps, --timing instant", instant),
        row(f"{phones} phones x {dumps} dumps, --timing phone", phone),
        row(f"control: instant, clients pause {SPARSE_PAUSE_S * 1000:.0f} ms", sparse),
        ("simulator CPU, phone / instant", f"{phone.cpu / instant.cpu:.2f}x" if instant.cpu else "n/a",
         "target ~1x; instant answers back-to-back requests, so one wake-up serves several"),
        ("  net of the idle rate", f"{phone_net / instant_net:.2f}x", "the dumps' own CPU, phone / instant"),
        ("simulator CPU, phone / control", f"{phone.cpu / sparse.cpu:.2f}x" if sparse.cpu else "n/a",
         "the same sparse requests: what waiting on the phone's clock costs (target ~1x)"),
        ("host: CPU per timer wake-up", f"{wake_us:.0f} us",
         "an event loop woken after 20 ms asleep; x the wake-ups above is most of the difference"),
        ("host: a dump's work after 20 ms asleep", f"{cold:.2f}x",
         f"its CPU back-to-back ({hot_us:.0f} us, no I/O): what this host adds to any work that waited, "
         "so phone / instant stays above 1 here however the simulator sleeps"),
    ]


def print_rows(rows: list[tuple[str, str, str]]) -> None:
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>18}  {note}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=200, help="size of the tree pulled, MB")
    ap.add_argument("--files", type=int, default=40, help="files in the tree")
    ap.add_argument("--rounds", type=int, default=200, help="shell round-trips")
    ap.add_argument("--phones", type=int, default=16, help="phones in the CPU-under-timing section")
    ap.add_argument("--dumps", type=int, default=30, help="hierarchy dumps per phone in that section")
    ap.add_argument("--cpu-rounds", type=int, default=3, help="rounds of those dumps per simulator (median kept)")
    ap.add_argument("--only-cpu", action="store_true", help="run only the CPU-under-timing section")
    args = ap.parse_args()

    from miui_automator.sim.host import SimHost, adb_connect, adb_path, ensure_adb_server, free_port, kill_adb_server
    from miui_automator.sim.phone import Phone

    adb_port = free_port()
    os.environ["ANDROID_ADB_SERVER_PORT"] = str(adb_port)
    ensure_adb_server(adb_port)
    import adbutils
    import uiautomator2 as u2

    if args.only_cpu:
        try:
            print_rows(cpu_section(args.phones, args.dumps, adb_port, args.cpu_rounds))
        finally:
            kill_adb_server(adb_port)
        return

    host = SimHost().start()
    try:
        dev = host.add_phone(Phone("hyperos1-en", media_files=args.files, media_bytes=args.mb * 1024 * 1024))
        adb_connect(dev.serial, adb_port)
        client = adbutils.AdbClient(port=adb_port)
        d = client.device(dev.serial)

        t = time.perf_counter()
        for _ in range(args.rounds):
            d.shell("echo hi")
        shell_rate = args.rounds / (time.perf_counter() - t)

        def raw_shell() -> bytes:
            # the smart-socket protocol straight to the adb server: what the phone side costs,
            # without adbutils' own 10 ms sleep when it closes each connection
            conn = client.make_connection()
            conn.send_command(f"host:tport:serial:{dev.serial}")
            conn.check_okay()
            conn.read(8)
            conn.send_command("shell:echo hi")
            conn.check_okay()
            return conn.read_until_close()

        t = time.perf_counter()
        for _ in range(args.rounds):
            raw_shell()
        raw_rate = args.rounds / (time.perf_counter() - t)

        ud = u2.connect(d)
        ud.shell("am start -n com.android.settings/.MainSettings")
        ud.dump_hierarchy()
        ud.screenshot()
        dumps = []
        for _ in range(30):
            t = time.perf_counter()
            ud.dump_hierarchy()
            dumps.append(time.perf_counter() - t)
        shots = []
        for _ in range(15):
            t = time.perf_counter()
            ud.screenshot()
            shots.append(time.perf_counter() - t)

        remote = "/sdcard/DCIM"
        size = host.call(lambda: dev.phone.state.fs.usage(remote))
        host.call(lambda: [e.content() for _, e in dev.phone.state.fs.walk_files(remote)])  # materialise first
        out = Path(tempfile.mkdtemp(prefix="simbench-"))
        try:
            t = time.perf_counter()
            d.sync.pull(remote, str(out / "adbutils"))
            adbutils_s = time.perf_counter() - t
            t = time.perf_counter()
            subprocess.run([adb_path(), "-P", str(adb_port), "-s", dev.serial, "pull", remote, str(out / "cli")],
                           check=True, capture_output=True)
            cli_s = time.perf_counter() - t
        finally:
            shutil.rmtree(out, ignore_errors=True)
        mb = size / 1e6
        rows = [
            ("shell round-trips (adbutils)", f"{shell_rate:.0f} /s", "adbutils sleeps 10 ms closing each connection"),
            ("shell round-trips (raw adb protocol)", f"{raw_rate:.0f} /s", "same server, same phone"),
            ("dump_hierarchy (uiautomator2)", f"{statistics.median(dumps) * 1000:.1f} ms median",
             f"p90 {sorted(dumps)[int(len(dumps) * 0.9)] * 1000:.1f} ms; target < 20 ms"),
            ("screenshot (uiautomator2)", f"{statistics.median(shots) * 1000:.1f} ms median", "JPEG, 1080x2400"),
            ("pull, adb CLI (baseline)", f"{mb / cli_s:.1f} MB/s", f"{mb:.0f} MB in {cli_s:.2f} s"),
            ("pull, adbutils sync", f"{mb / adbutils_s:.1f} MB/s", f"ratio to adb CLI {cli_s / adbutils_s:.2f}; target >= 50 MB/s"),
        ]
        print_rows(rows)
    finally:
        host.stop()
    try:
        print()
        print_rows(cpu_section(args.phones, args.dumps, adb_port, args.cpu_rounds))
    finally:
        kill_adb_server(adb_port)


if __name__ == "__main__":
    main()
