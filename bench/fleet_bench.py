"""How does a fleet run scale? The same flow (open-account-page) on 1, 16 and 64 simulated phones at once,
measured side by side in one bench run: wall time and its ratio to one phone (the aim under ``--timing phone``:
16 phones <= 1.5x one phone — the controller waits on phones, not on itself), the controller's CPU seconds per
phone-flow, and its peak memory and what each extra phone adds (the aim: <= 15 MB).

``--timing phone`` gives the simulated phones a real phone's clock (hierarchy dumps, screenshots, taps and
transitions take what they take on a phone); ``--timing instant`` is the CPU-bound case. Several timings may be
given (``--timing phone,instant``): each gets its own simulator and table. ``--no-verify`` leaves out the
screenshots and their checks, to show what the fleet machinery costs apart from the evidence.

The simulated phones run in a SEPARATE process (``miui-automator sim start --detach`` with its own state dir),
and each fleet run is its own controller process (``miui-automator fleet run``), so ``os.wait4`` gives that
controller's CPU and peak RSS alone. "fleet wall" is the run as the ledger saw it (first phone started to last
phone done); "process wall" adds interpreter start-up, imports, finding the phones and rendering the reports.

    python bench/fleet_bench.py [--timing phone,instant] [--sizes 1,16,64] [--rounds 1]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VARIANTS = "miui12.5-en,miui14-en,hyperos1-en,hyperos2-zh"
WALL_AIM = 1.5  # 16 phones against one
RSS_AIM_MB = 15.0  # controller memory per extra phone
CLI = [sys.executable, "-m", "miui_automator.cli.main"]


def proc_cpu_s(pid: int) -> float:
    """User+system CPU seconds of another process so far (Linux /proc), to show the phones' side of the cost."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_ports(count: int) -> int:
    """The first of ``count`` consecutive loopback ports that are all free (``sim start`` takes port..port+N-1)."""
    for base in range(20000, 60000, 97):
        try:
            socks = []
            for port in range(base, base + count):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise SystemExit(f"no {count} consecutive free ports")


def controller_run(serials: list[str], out: Path, env: dict[str, str], verify: bool = True) -> dict[str, float]:
    """One ``fleet run`` in its own process; its wall, CPU and peak RSS from wait4, the fleet's wall from its report."""
    args = [*CLI, "fleet", "run", "open-account-page", *[a for s in serials for a in ("-s", s)],
            "--parallel", str(len(serials)), "--out", str(out), *([] if verify else ["--no-verify"])]
    started = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    stdout, stderr = proc.stdout.read().decode(), proc.stderr.read().decode()
    if proc.returncode != 0:
        raise SystemExit(f"fleet run on {len(serials)} phones failed ({proc.returncode}):\n{stdout[-2000:]}\n{stderr[-2000:]}")
    report = json.loads(next(out.glob("fleet-*/fleet.json")).read_text())
    return {"fleet_wall": report["duration_s"], "process_wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
            "maxrss_mb": usage.ru_maxrss / 1024}


def sim_has_timing() -> bool:
    from miui_automator.cli.sim import start_cmd

    return any("--timing" in param.opts for param in start_cmd.params)


def bench_timing(timing: str, sizes: list[int], rounds: int, verify: bool = True) -> None:
    from miui_automator.sim.host import ensure_adb_server, free_port, kill_adb_server

    work = Path(tempfile.mkdtemp(prefix="fleetbench-"))
    adb_port = free_port()
    env = dict(os.environ, ANDROID_ADB_SERVER_PORT=str(adb_port), ADB_LIBUSB="0", MIUI_AUTOMATOR_STATE_DIR=str(work / "state"))
    os.environ.update(ANDROID_ADB_SERVER_PORT=str(adb_port), ADB_LIBUSB="0")
    ensure_adb_server(adb_port)
    sim_port = free_ports(max(sizes))
    clock = ["--timing", timing] if timing != "instant" else []
    started = subprocess.run([*CLI, "sim", "start", "--devices", str(max(sizes)), "--variant", VARIANTS,
                              "--port", str(sim_port), "--detach", *clock], env=env, capture_output=True, text=True,
                             timeout=300)
    try:
        if started.returncode != 0:
            raise SystemExit(f"sim start failed: {started.stderr}")
        serials = started.stdout.split()
        sim_pid = json.loads(next((work / "state").rglob("*.json")).read_text())["pid"]
        controller_run(serials, work / "warm-up", env, verify)  # every phone's uiautomator2 started once, unmeasured
        results: dict[int, list[dict[str, float]]] = {n: [] for n in sizes}
        for r in range(rounds):  # interleaved, so machine noise hits every size alike
            for n in sizes:
                sim_before = proc_cpu_s(sim_pid)
                m = controller_run(serials[:n], work / f"r{r}-n{n}", env, verify)
                m["sim_cpu"] = proc_cpu_s(sim_pid) - sim_before
                results[n].append(m)

        def med(n: int, key: str) -> float:
            return statistics.median(m[key] for m in results[n])

        base_wall, base_rss = med(sizes[0], "fleet_wall"), med(sizes[0], "maxrss_mb")
        print(f"fleet bench, --timing {timing}{'' if verify else ', --no-verify'}: open-account-page, sims in a separate process, {os.cpu_count()} CPUs, "
              f"median of {rounds} round(s); aims: 16 phones <= {WALL_AIM}x one phone's wall (phone timing), "
              f"<= {RSS_AIM_MB:g} MB per extra phone")
        print(f"{'phones':>6} {'fleet wall':>11} {'ratio':>6} {'process wall':>13} {'ctl CPU':>8} {'CPU/phone-flow':>15} "
              f"{'peak RSS':>9} {'RSS/extra phone':>16} {'sim CPU':>8}")
        for n in sizes:
            wall, rss = med(n, "fleet_wall"), med(n, "maxrss_mb")
            extra = f"{(rss - base_rss) / (n - sizes[0]):.1f} MB" if n > sizes[0] else "–"
            print(f"{n:>6} {wall:>9.2f} s {wall / base_wall:>6.2f} {med(n, 'process_wall'):>11.2f} s "
                  f"{med(n, 'cpu'):>6.2f} s {med(n, 'cpu') / n:>13.2f} s {rss:>6.0f} MB {extra:>16} "
                  f"{med(n, 'sim_cpu'):>6.2f} s")
    finally:
        subprocess.run([*CLI, "sim", "stop", "--all"], env=env, capture_output=True, timeout=60)
        kill_adb_server(adb_port)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--sizes", default="1,16,64", help="fleet sizes, the first is the base of the ratios")
    ap.add_argument("--timing", default="phone,instant", help="comma-separated: phone, slow-phone, instant")
    ap.add_argument("--no-verify", action="store_true",
                    help="runs without screenshot verification: what the fleet itself costs, apart from the evidence")
    args = ap.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    timings = [t.strip() for t in args.timing.split(",") if t.strip()]
    if not sim_has_timing() and timings != ["instant"]:
        print("note: this simulator has no --timing (the timing profile is not merged yet): measuring instant only",
              file=sys.stderr)
        timings = ["instant"]
    for timing in timings:
        bench_timing(timing, sizes, args.rounds, verify=not args.no_verify)


if __name__ == "__main__":
    main()
