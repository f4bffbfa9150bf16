"""What does proving every transition cost? One simulated phone, one run, the same ten taps through
Settings done four ways:

- the engine with full verification (each transition proved by a settled hierarchy and a screenshot);
- the engine with verification off;
- a hand-written uiautomator2 script doing the same taps and waits (the baseline): ``d(...).click()``, then
  ``d(text=...).wait()`` for a text of the next screen. uiautomator2 runs that wait on the phone, where
  uiautomator looks for the element once a second (UiObject's WAIT_FOR_SELECTOR_POLL, WaitMixin's poll
  interval), so a script built this way pays up to a second per screen change on a real phone;
- the same script polling ``exists`` itself every 50 ms: the fastest a script can notice the next screen.
  It taps as soon as the text is listed, while the screen is still sliding in, so no frame it could take
  would be a settled one;
- the same (uiautomator2-waiting) script proving each step as the engine once did: after the text shows, it
  waits for two equal hierarchy dumps and takes a screenshot.

Under a phone's clock it also prints the floor of any run that proves each step by a settled frame (the
tap, the slide, a screenshot after it and a second one showing the first had stopped moving, from the
timing profile), against the baselines. Also: screen identification time on a ~60 KB hierarchy, and CPU
per step: the whole process's (tool and simulated phone, which share it) and the engine thread's own.
Every run starts from the phone's home screen.

    python bench/engine_bench.py [--rounds 3] [--timing instant|phone|slow-phone]

``--timing`` gives the simulated phone a real phone's clock (hierarchy dumps, screenshots, transitions
take what they take on a phone); ``instant`` answers at once, which measures the tool's own costs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

FLOW = """
name: ten-taps
description: ten taps through Settings and back
steps:
  - open: {component: com.android.settings/.MainSettings}
    expect: settings_home
  - tap: {text: About phone}
    expect: about_phone
  - tap: {text: Back up and restore}
    expect: backup_and_restore
  - tap: {text: Back up locally}
    expect: backup_home
  - tap: {desc: Back}
    expect: backup_and_restore
  - tap: {desc: Back}
    expect: about_phone
  - tap: {text: Factory reset}
    expect: factory_reset
  - tap: {desc: Back}
    expect: about_phone
  - tap: {desc: Back}
    expect: settings_home
  - tap: {text: About phone}
    expect: about_phone
  - tap: {desc: Back}
    expect: settings_home
"""

HAND = "hand-written u2"
HAND_POLLING = "hand-written u2, 50 ms polls"
HAND_PROVED = "hand-written u2, same proof"
VERIFIED = "engine, verified"
GOAL = 1.2  # the engine with full verification against the hand-written script

# (what to tap, a text that proves the next screen is there)
SCRIPT = [
    ({"text": "About phone"}, "Back up and restore"),
    ({"text": "Back up and restore"}, "On this device"),
    ({"text": "Back up locally"}, "No backups."),
    ({"description": "Back"}, "On this device"),
    ({"description": "Back"}, "Factory reset"),
    ({"text": "Factory reset"}, "Erase all data"),
    ({"description": "Back"}, "Back up and restore"),
    ({"description": "Back"}, "Search settings"),
    ({"text": "About phone"}, "Factory reset"),
    ({"description": "Back"}, "Search settings"),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--timing", default="instant", help="the simulated phone's clock: instant, phone or slow-phone")
    args = ap.parse_args()

    from miui_automator.sim.host import SimHost, adb_connect, ensure_adb_server, free_port, kill_adb_server

    adb_port = free_port()
    os.environ["ANDROID_ADB_SERVER_PORT"] = str(adb_port)
    ensure_adb_server(adb_port)
    import uiautomator2 as u2

    from miui_automator.device.android import AndroidDevice
    from miui_automator.device.hierarchy import parse_hierarchy
    from miui_automator import run
    from miui_automator.flow.parser import parse_flow
    from miui_automator.screens.catalogue import default_catalogue
    from miui_automator.sim.phone import Phone

    host = SimHost().start()
    try:
        phone, timing = _phone(Phone, args.timing)
        dev = host.add_phone(phone)
        adb_connect(dev.serial, adb_port)
        driver = AndroidDevice(dev.serial)
        info = driver.info()
        flow = parse_flow(FLOW, "ten-taps.yaml", known_screens=default_catalogue().names)
        out = Path(tempfile.mkdtemp(prefix="enginebench-"))

        steps = len(flow.steps)
        cpu: dict[str, list[tuple[float, float]]] = {}  # name -> (process CPU, this thread's CPU) per step

        def timed(name: str, fn) -> float:
            t, p, th = time.perf_counter(), time.process_time(), time.thread_time()
            fn()
            cpu.setdefault(name, []).append(((time.process_time() - p) / steps, (time.thread_time() - th) / steps))
            return time.perf_counter() - t

        def engine(verify: bool) -> float:
            def go() -> None:
                res = run.execute(run.RunPlan(flow, info), driver, run_dir=run.new_run_dir(out, flow, dev.serial),
                                  verify=verify)
                assert res.result.outcome == "passed", res.result.error
            return timed(VERIFIED if verify else "engine, no verification", go)

        d = u2.connect(driver.adb)

        def settled_and_shot() -> None:
            """What the engine's proof does, by hand: two equal dumps in a row, then a frame of that screen."""
            last = d.dump_hierarchy()
            while (now := d.dump_hierarchy()) != last:
                last = now
            d.screenshot()

        def shows(text: str, polling: bool) -> bool:
            """The next screen's text is listed: uiautomator2's wait, or the script's own 50 ms polls."""
            if not polling:
                return d(text=text).wait(timeout=10)
            end = time.monotonic() + 10
            while not d(text=text).exists:
                if time.monotonic() > end:
                    return False
                time.sleep(0.05)
            return True

        def hand(name: str) -> float:
            prove, polling = name == HAND_PROVED, name == HAND_POLLING

            def go() -> None:
                d.shell("am start -n com.android.settings/.MainSettings")
                assert shows("Search settings", polling)
                if prove:
                    settled_and_shot()
                for selector, proof in SCRIPT:
                    d(**selector).click()
                    assert shows(proof, polling), proof
                    if prove:
                        settled_and_shot()
            return timed(name, go)

        def from_home() -> None:
            """Each run starts on the launcher: a script that starts Settings while Settings is already shown
            would find its first text at once and tap while the activity is still being started."""
            d.press("home")
            assert d(text="Search settings").wait_gone(timeout=10)

        runs = {HAND: lambda: hand(HAND), HAND_POLLING: lambda: hand(HAND_POLLING), HAND_PROVED: lambda: hand(HAND_PROVED),
                VERIFIED: lambda: engine(True), "engine, no verification": lambda: engine(False)}
        results: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.rounds):  # interleaved, so machine noise hits all alike
            for name, run_once in runs.items():
                from_home()
                results[name].append(run_once())

        # identification on a big hierarchy: the account page, repeated into ~60 KB
        host.call(lambda: dev.phone.start_activity(action="android.settings.XIAOMI_ACCOUNT_SYNC_SETTINGS"))
        xml = d.dump_hierarchy()
        body = xml[xml.index("<node"): xml.rindex("</hierarchy>")]
        big = xml[: xml.index("<node")] + body * max(1, 60_000 // len(xml)) + "</hierarchy>"
        h = parse_hierarchy(big)
        cat = default_catalogue()
        t = time.perf_counter()
        n = 200
        for _ in range(n):
            cat.identify(h, "hyperos1-en")
        ident_ms = (time.perf_counter() - t) / n * 1000
        t = time.perf_counter()
        for _ in range(20):
            parse_hierarchy(big)
        parse_ms = (time.perf_counter() - t) / 20 * 1000

        base = statistics.median(results[HAND])
        polled = statistics.median(results[HAND_POLLING])
        print(f"timing: {timing}")
        print(f"{'':<32} {'wall':>8}   {'÷ script':>8}  {'÷ 50 ms polls':>13}   CPU per step: process, own thread")
        for name, times in results.items():
            med = statistics.median(times)
            proc = statistics.median(c[0] for c in cpu[name]) * 1000
            own = statistics.median(c[1] for c in cpu[name]) * 1000
            print(f"{name:<32} {med:6.2f} s   {med / base:7.2f}×  {med / polled:12.2f}×   {proc:5.1f} ms  {own:5.1f} ms")
        floor = _settled_proof_floor(timing, steps)
        if floor:
            print(f"{'floor of any settled proof':<32} {floor:6.2f} s   {floor / base:7.2f}×  {floor / polled:12.2f}×"
                  "   (per step: the tap, the slide, a frame after it and one showing it still; from the timing profile)")
        ratio = statistics.median(results[VERIFIED]) / base
        if timing == "instant":
            print(f"goal (engine, verified <= {GOAL}× the hand-written script) is judged under --timing phone; "
                  "instant shows the tool's own costs")
        else:
            print(f"goal: engine, verified <= {GOAL}× the hand-written script: {ratio:.2f}× {'✓' if ratio <= GOAL else '✗'}"
                  + (f"; {statistics.median(results[VERIFIED]) / floor:.2f}× the floor" if floor else ""))
        print(f"identify, {len(big) // 1024} KB hierarchy    {ident_ms:.3f} ms (parse {parse_ms:.1f} ms)")
    finally:
        host.stop()
        kill_adb_server(adb_port)


def _settled_proof_floor(timing: str, steps: int) -> float:
    """The least time any run proving each of ``steps`` screen changes by a settled frame can take on this
    clock: every step's tap (the first step's ``am start``: a shell round trip), the new activity sliding
    in, one screenshot taken after it and a second one that shows the first had stopped moving (a phone
    says nothing of when a slide ends); 0 under ``instant`` or a simulator without profiles."""
    try:
        from miui_automator.sim.timing import get_profile
    except ImportError:
        return 0.0
    p = get_profile(timing)
    return (p.shell_s - p.input_s) + steps * (p.input_s + p.activity_s + 2 * p.screenshot_s)


def _phone(phone_cls, timing: str):
    """(a simulated phone on ``timing``'s clock, the timing it runs); a simulator without timing profiles
    runs instant, and says so."""
    try:
        return phone_cls("hyperos1-en", timing=timing), timing
    except TypeError:
        if timing != "instant":
            print(f"this simulator has no timing profiles yet (Phone(timing=...)): measuring under instant, "
                  f"not {timing}", file=sys.stderr)
        return phone_cls("hyperos1-en"), "instant"


if __name__ == "__main__":
    main()
