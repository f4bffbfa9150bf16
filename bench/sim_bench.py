"""How fast is the simulated phone, seen through the real adb server, adbutils and uiautomator2?

Measured side by side in one run on one simulated phone: shell round-trips per second, the
latency of uiautomator2's dump_hierarchy and screenshot, and pull throughput of the same tree
through adbutils' sync versus the `adb pull` CLI (the baseline). The simulator must not be what
limits the tool: the targets are >= 50 MB/s pull and hierarchy dumps under 20 ms.

    python bench/sim_bench.py [--mb 200] [--files 40] [--rounds 200]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=200, help="size of the tree pulled, MB")
    ap.add_argument("--files", type=int, default=40, help="files in the tree")
    ap.add_argument("--rounds", type=int, default=200, help="shell round-trips")
    args = ap.parse_args()

    from miui_automator.sim.host import SimHost, adb_connect, adb_path, ensure_adb_server, free_port, kill_adb_server
    from miui_automator.sim.phone import Phone

    adb_port = free_port()
    os.environ["ANDROID_ADB_SERVER_PORT"] = str(adb_port)
    ensure_adb_server(adb_port)
    import adbutils
    import uiautomator2 as u2

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
        width = max(len(r[0]) for r in rows)
        for name, value, note in rows:
            print(f"{name:<{width}}  {value:>18}  {note}")
    finally:
        host.stop()
        kill_adb_server(adb_port)


if __name__ == "__main__":
    main()
