"""The simulator's clock (sim/timing.py), without sockets: the table, the jitter, transitions on a
fake clock, the noidle fault, and that waiting goes through the event loop's timers."""

from __future__ import annotations

import asyncio
import io
import json
import math
import random
import statistics
import time

import pytest
from PIL import Image, ImageChops

from miui_automator.errors import ConfigError
from miui_automator.sim import frames
from miui_automator.sim.jsonrpc import JsonRpc
from miui_automator.sim.phone import Phone
from miui_automator.sim.shell import Shell
from miui_automator.sim.timing import LINKS, PROFILES, Pacer, Timing
from miui_automator.sim.u2server import U2Server
from miui_automator.sim.ui import hit_test

WALL = 1_700_000_000.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_phone(clock: FakeClock, **kw) -> Phone:
    return Phone("hyperos1-en", clock=clock, wall_clock=lambda: WALL, **kw)


def drive(rpc: JsonRpc, method: str, *params, clock: FakeClock | None = None) -> tuple[list[float], dict]:
    """Run one JSON-RPC call to the end; the yielded waits advance ``clock`` (the loop's timers)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
    call = rpc.handle(body)
    waits: list[float] = []
    try:
        while True:
            wait = call.send(None)
            waits.append(wait)
            if clock is not None:
                clock.advance(wait)
    except StopIteration as done:
        return waits, json.loads(done.value)


def frame(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB")


def differs(a: Image.Image, b: Image.Image) -> bool:
    return ImageChops.difference(a, b).getbbox() is not None


def tap_text(phone: Phone, text: str) -> None:
    for win in phone.windows():
        for node in win.walk():
            if node.text == text:
                x, y = node.center
                assert hit_test(phone.windows(), x, y) is not None
                phone.tap(x, y)
                return
    raise AssertionError(f"{text!r} not on screen")


# ------------------------------------------------------------------ the table
def test_phone_profile_holds_the_issue_figures_and_slow_phone_doubles_them() -> None:
    phone, slow = PROFILES["phone"], PROFILES["slow-phone"]
    assert (phone.dump_s, phone.dump_per_kb_s, phone.screenshot_s, phone.input_s) == (0.150, 0.004, 0.180, 0.040)
    assert (phone.activity_s, phone.dialog_s, phone.shell_s, phone.md5_rate) == (0.350, 0.200, 0.015, 200e6)
    assert slow.dump_s == 2 * phone.dump_s and slow.activity_s == 2 * phone.activity_s
    assert slow.md5_rate == phone.md5_rate / 2  # twice as slow: half the rate
    assert slow.shell_dump_idle_timeout_s == phone.shell_dump_idle_timeout_s == 10.0  # uiautomator's own constant
    assert LINKS == {"usb2": 40e6, "usb3": 250e6, "instant": 0.0}
    assert all(getattr(PROFILES["instant"], name) == 0 for name in ("dump_s", "screenshot_s", "input_s", "md5_rate"))


def test_delays_jitter_within_20_percent_and_repeat_for_the_same_seed() -> None:
    a = [Timing("phone", seed=7).dump(10 * 1024) for _ in range(1)] + [Timing("phone", seed=7).screenshot()]
    b = [Timing("phone", seed=7).dump(10 * 1024) for _ in range(1)] + [Timing("phone", seed=7).screenshot()]
    assert a == b
    clock = Timing("phone", seed=7)
    dumps = [clock.dump(10 * 1024) for _ in range(200)]
    nominal = 0.150 + 0.004 * 10
    assert all(0.8 * nominal <= d <= 1.2 * nominal for d in dumps)
    assert len(set(dumps)) > 100  # never the same latency twice in a row
    assert Timing("phone", seed=8).dump(10 * 1024) != Timing("phone", seed=7).dump(10 * 1024)


def test_link_defaults_follow_the_profile_and_bad_names_are_config_errors() -> None:
    assert Timing("instant").link == "instant" and Timing("instant").sync_rate() == 0
    assert Timing("phone").link == "usb2"
    assert 32e6 <= Timing("phone", "usb2").sync_rate() <= 48e6
    assert 200e6 <= Timing("slow-phone", "usb3").sync_rate() <= 300e6
    with pytest.raises(ConfigError, match="timing profile"):
        Timing("fast")
    with pytest.raises(ConfigError, match="link"):
        Timing("phone", "usb4")


# ------------------------------------------------------------------ transitions
def test_instant_phone_has_no_animation_and_shows_the_new_screen_at_once() -> None:
    clock = FakeClock()
    phone = make_phone(clock)
    phone.launch_app("com.android.settings")
    tap_text(phone, "About phone")
    assert phone.animation is None
    assert phone.current_screen_name() == "about_phone"
    assert "Android version" in phone.hierarchy_xml()
    assert phone.idle_in() == 0


def test_activity_transition_shows_the_old_hierarchy_first_and_animation_frames_until_it_settles() -> None:
    clock = FakeClock()
    phone = make_phone(clock, timing="phone", seed=3)
    phone.launch_app("com.android.settings")
    clock.advance(2.0)
    old_xml = phone.hierarchy_xml()
    old_frame = frame(phone.screenshot("png"))
    tap_text(phone, "About phone")
    animation = phone.animation
    assert animation is not None and animation.kind == "activity"
    assert 0.8 * 0.350 <= animation.seconds <= 1.2 * 0.350

    assert phone.hierarchy_xml() == old_xml  # the hierarchy still lists the old screen ...
    clock.advance(0.05)
    mid_frame = frame(phone.screenshot("png"))  # ... while the frames already slide
    clock.advance(animation.seconds * 0.5)
    new_xml = phone.hierarchy_xml()
    assert new_xml != old_xml and "Settings" in old_xml  # then it lists the new one, mid-animation
    assert phone.animation.running(clock())
    clock.advance(animation.seconds)
    settled = frame(phone.screenshot("png"))
    assert phone.animation is None
    assert differs(mid_frame, old_frame) and differs(mid_frame, settled)
    assert differs(settled, old_frame)
    assert frame(phone.screenshot("png")) == settled  # settled frames stay settled


def test_a_slow_fault_keeps_the_old_screen_until_its_freeze_ends_then_the_animation_finishes() -> None:
    clock = FakeClock()
    phone = make_phone(clock, timing="phone", faults="slow=1.0")
    phone.launch_app("com.android.settings")
    clock.advance(3.0)
    old_xml, old_png = phone.hierarchy_xml(), phone.screenshot("png")
    tap_text(phone, "About phone")
    clock.advance(0.7)
    assert phone.hierarchy_xml() == old_xml and phone.screenshot("png") == old_png  # frozen, not yet animating
    clock.advance(0.2)
    assert phone.hierarchy_xml() == old_xml and phone.screenshot("png") != old_png  # the slide begins
    clock.advance(0.2)
    assert phone.hierarchy_xml() != old_xml and phone.animation.running(clock())  # listed, frames still sliding
    clock.advance(1.0)
    assert phone.animation is None or not phone.animation.running(clock())
    assert phone.idle_in() == 0  # animation over and 500 ms quiet since


def test_a_dialog_fades_in_and_is_listed_at_once() -> None:
    clock = FakeClock()
    phone = make_phone(clock, timing="phone", faults="popup=2")
    phone.launch_app("com.android.settings")
    clock.advance(2.0)
    tap_text(phone, "About phone")  # action 1: an activity, no popup yet
    assert phone.animation.kind == "activity" and phone.popup is None
    clock.advance(2.0)
    before = frame(phone.screenshot("png"))
    phone.press_key("back")  # action 2: back to Settings, and the promo popup over it
    assert phone.popup is not None and phone.animation.kind == "activity"
    clock.advance(2.0)
    under = frame(phone.screenshot("png"))
    phone.press_key("back")  # closes only the popup: a dialog transition (action 3)
    animation = phone.animation
    assert animation.kind == "dialog" and 0.8 * 0.2 <= animation.seconds <= 1.2 * 0.2
    assert phone.popup is None and "Later" not in phone.hierarchy_xml()  # listed as gone at once
    clock.advance(0.05)
    fading = frame(phone.screenshot("png"))
    clock.advance(1.0)
    gone = frame(phone.screenshot("png"))
    assert differs(fading, under) and differs(fading, gone) and differs(before, under)


def quiet_settings(clock: FakeClock, seed: int) -> tuple[Phone, JsonRpc]:
    """A phone on ``phone`` timing showing Settings, nothing changed for 2 s, and its uiautomator2 service."""
    phone = make_phone(clock, timing="phone", seed=seed)
    phone.launch_app("com.android.settings")
    clock.advance(2.0)
    return phone, JsonRpc(phone)


def test_waiting_for_idle_runs_until_the_animation_is_over_and_quiet() -> None:
    clock = FakeClock()
    phone, rpc = quiet_settings(clock, seed=5)
    waits, reply = drive(rpc, "waitForIdle", 10_000, clock=clock)
    assert waits == [] and reply["result"] is None  # quiet for 2 s: idle at once
    tap_text(phone, "About phone")
    end = phone.animation.end
    waits, _ = drive(rpc, "waitForIdle", 10_000, clock=clock)
    assert clock() == pytest.approx(end + 0.5)  # the animation, then uiautomator's 500 ms of quiet


# ------------------------------------------------------------------ costs of calls
def test_uiautomator2_calls_cost_the_profiles_time_and_nothing_under_instant() -> None:
    clock = FakeClock()
    phone = make_phone(clock, timing="phone", seed=1)
    rpc = JsonRpc(phone)
    waits, reply = drive(rpc, "dumpWindowHierarchy", False, 50)
    nominal = 0.150 + 0.004 * len(reply["result"].encode()) / 1024
    assert len(waits) == 1 and 0.8 * nominal <= waits[0] <= 1.2 * nominal
    waits, _ = drive(rpc, "takeScreenshot", 1, 80)
    assert len(waits) == 1 and 0.8 * 0.180 <= waits[0] <= 1.2 * 0.180
    waits, _ = drive(rpc, "pressKey", "home")
    assert len(waits) == 1 and 0.8 * 0.040 <= waits[0] <= 1.2 * 0.040
    waits, _ = drive(rpc, "ping")
    assert waits == []
    instant = JsonRpc(make_phone(FakeClock()))
    assert drive(instant, "dumpWindowHierarchy", False, 50)[0] == []
    assert drive(instant, "takeScreenshot", 1, 80)[0] == []


def test_selector_waits_look_once_a_second_on_a_phone_as_uiautomator_does() -> None:
    clock = FakeClock()
    phone, rpc = quiet_settings(clock, seed=3)
    selector = {"mask": 1, "childOrSibling": [], "childOrSiblingSelector": [], "text": "Back up and restore"}
    tapped = clock()
    tap_text(phone, "About phone")  # the next screen's text is listed 40% into its slide
    waits, reply = drive(rpc, "waitForExists", selector, 10_000, clock=clock)
    assert reply["result"] is True and waits == [1.0]  # missed at the first look, seen at the next
    assert clock() - tapped == pytest.approx(1.0)
    waits, reply = drive(rpc, "waitUntilGone", selector, 3_000, clock=clock)
    assert reply["result"] is False and waits == [1.0] * 3
    assert PROFILES["slow-phone"].selector_poll_s == 1.0  # uiautomator's constant, not the phone's speed
    instant = JsonRpc(make_phone(FakeClock()))
    assert drive(instant, "waitForExists", selector, 200)[0] == [0.05] * 4


def test_shell_round_trip_and_md5_take_the_phones_time() -> None:
    clock = FakeClock()
    phone = make_phone(clock, timing="phone", seed=2)
    assert 0.8 * 0.015 <= Shell(phone).run("echo hi").duration <= 1.2 * 0.015
    phone.state.fs.write("/sdcard/big.bin", b"\0" * 20_000_000)
    result = Shell(phone).run("md5sum /sdcard/big.bin")
    assert result.rc == 0
    assert 0.8 * 0.1 <= result.duration - 0.015 * 1.2 and result.duration <= 1.2 * 0.1 + 1.2 * 0.015
    assert Shell(make_phone(FakeClock())).run("md5sum /sdcard/big.bin").duration == 0
    shot = Shell(phone).run("screencap -p /sdcard/s.png").duration
    assert 0.8 * (0.180 + 0.015) <= shot <= 1.2 * (0.180 + 0.015)


# ------------------------------------------------------------------ noidle
def test_noidle_shell_dump_gives_up_after_its_idle_timeout() -> None:
    clock = FakeClock()
    phone = make_phone(clock, faults="noidle=about_phone", timing=Timing("instant", shell_dump_idle_timeout=0.3))
    phone.launch_app("com.android.settings")
    ok = Shell(phone).run("uiautomator dump /dev/tty")
    assert b"<hierarchy" in ok.stdout and ok.duration == 0
    tap_text(phone, "About phone")
    busy = Shell(phone).run("uiautomator dump /sdcard/d.xml")
    assert busy.stderr == b"ERROR: could not get idle state.\n"
    assert b"UI hierchary dumped" not in busy.stdout and not phone.state.fs.exists("/sdcard/d.xml")
    assert busy.duration == pytest.approx(0.3)
    assert Timing("phone").shell_dump_idle_timeout == 10.0


def test_noidle_uiautomator2_waits_run_out_their_timeout() -> None:
    clock = FakeClock()
    phone = make_phone(clock, faults="noidle=about_phone")
    phone.launch_app("com.android.settings")
    tap_text(phone, "About phone")
    rpc = JsonRpc(phone)
    start = clock()
    drive(rpc, "waitForIdle", 1500, clock=clock)
    assert clock() - start == pytest.approx(1.5)
    start = clock()
    waits, reply = drive(rpc, "dumpWindowHierarchy", False, 50, clock=clock)
    assert waits == [] and "<hierarchy" in reply["result"]  # the jar's waitForIdleTimeout is 0
    drive(rpc, "setConfigurator", {"waitForIdleTimeout": 700})
    waits, reply = drive(rpc, "dumpWindowHierarchy", False, 50, clock=clock)
    assert sum(waits) == pytest.approx(0.7) and "<hierarchy" in reply["result"]


# ------------------------------------------------------------------ waiting costs no CPU
def test_pacer_holds_the_rate_with_few_timer_waits() -> None:
    clock = FakeClock()
    pacer = Pacer(40e6, clock)
    sleeps = []
    for _ in range(40_000_000 // 65536):
        wait = pacer.spend(65536)
        if wait:
            sleeps.append(wait)
            clock.advance(wait)
    total = 65536 * (40_000_000 // 65536) / 40e6
    assert sum(sleeps) == pytest.approx(total, rel=0.01)
    assert all(s >= pacer.quantum for s in sleeps) and len(sleeps) <= total / pacer.quantum
    assert Pacer(0, clock).spend(10**9) == 0


def test_u2_server_waits_on_the_event_loop_never_on_the_thread(monkeypatch) -> None:
    from tests.unit.sim.test_u2_server import MemoryStream, post

    monkeypatch.setattr(time, "sleep", lambda s: pytest.fail("time.sleep on the loop thread"))
    phone = Phone("hyperos1-en", timing="phone", seed=4)
    phone.u2_running = True
    loop_waits: list[float] = []

    async def recording_pause(seconds: float, **_: object) -> None:
        loop_waits.append(seconds)

    monkeypatch.setattr(frames, "pause", recording_pause)
    stream = MemoryStream(*post("dumpWindowHierarchy", False, 50))
    started = time.perf_counter()
    asyncio.run(U2Server(phone).serve(stream))
    assert b'"result"' in bytes(stream.written)
    assert loop_waits and 0.15 * 0.8 <= max(loop_waits) <= 1.0
    assert time.perf_counter() - started < 0.15 * 0.8  # the recorded timer wait is all the waiting there was


@pytest.mark.parametrize("method, params, held", [
    ("swipe", [540, 1800, 540, 600, 40], 0.2),  # 40 steps of 5 ms: the finger moves for 200 ms
    ("drag", [540, 1800, 540, 600, 40], 0.2),
    ("click", [540, 1200, 700], 0.7),  # a long press held 700 ms
])
def test_a_gesture_is_held_in_full_never_ended_early_by_the_frame_clock(monkeypatch, method, params, held) -> None:
    from tests.unit.sim.test_u2_server import MemoryStream, post

    phone = Phone("hyperos1-en", seed=4)
    phone.u2_running = True
    ends: list[bool] = []

    async def recording_pause(seconds: float, *, early: bool = True) -> None:
        if seconds == pytest.approx(held):
            ends.append(early)

    monkeypatch.setattr(frames, "pause", recording_pause)
    stream = MemoryStream(*post(method, *params))
    asyncio.run(U2Server(phone).serve(stream))
    assert b'"result"' in bytes(stream.written)
    assert ends == [False]  # a 200 ms swipe rounded to 175 ms would be a different gesture


def test_a_wait_may_end_an_eighth_of_it_either_side_and_a_timeout_only_after() -> None:
    for seconds in (0.003, 0.04, 0.17, 0.35, 2.0):
        answer = frames.window(1000.0, seconds)
        shift = min(seconds * frames.FRAME_SHARE / 2, frames.MAX_SHIFT_S)
        assert (answer.opens, answer.due, answer.closes) == pytest.approx((1000 + seconds - shift, 1000 + seconds,
                                                                           1000 + seconds + shift))
        timeout = frames.window(1000.0, seconds, early=False)
        assert (timeout.opens, timeout.closes) == pytest.approx((1000 + seconds, 1000 + seconds + 2 * shift))
    assert frames.window(0.0, 2.0).closes - 2.0 == pytest.approx(2 / 60)  # a long wait moves by milliseconds


def random_waits(rng: random.Random, count: int) -> list[frames.Wait]:
    """Answers of a phone's figures (±20%) and a few timeouts, started over half a second."""
    return [frames.window(rng.uniform(0, 0.5), rng.uniform(0.12, 0.2) if rng.random() < 0.8 else
                          rng.uniform(0.03, 0.05), early=rng.random() < 0.8) for _ in range(count)]


def run_plan(waits: list[frames.Wait]) -> list[tuple[float, list[frames.Wait]]]:
    batches = []
    pending = list(waits)
    while pending:
        when, batch = frames.plan(pending)
        batches.append((when, batch))
        pending = [w for w in pending if w not in batch]
    return batches


def test_a_batch_ends_inside_every_window_at_its_answers_mean_due_time() -> None:
    rng = random.Random(7)
    offsets = []
    for _ in range(200):
        batches = run_plan(random_waits(rng, rng.randint(1, 16)))
        for when, batch in batches:
            assert all(w.opens - 1e-12 <= when <= w.closes + 1e-12 for w in batch)  # none moves outside its window
            answers = [w.due for w in batch if w.early]
            if answers:
                assert when == pytest.approx(statistics.mean(answers))  # the batch keeps its mean latency
            else:
                assert when == max(w.opens for w in batch)  # timeouts alone: as soon as all ran out
            offsets += [when - w.due for w in batch if w.early]
    assert abs(statistics.mean(offsets)) < 1e-9
    lone = frames.window(5.0, 0.17)
    assert frames.plan([lone]) == (lone.due, [lone])  # a wait alone ends at its very due time


def test_overlapping_windows_end_in_fewer_batches_than_a_grid_of_frames_that_fit_in_them() -> None:
    """16 phones dumping, ~0.17 s each: a fixed grid needs one wake-up per 33 ms frame
    (the largest 60 Hz × 2^k frame inside a quarter of the wait); planning over the pending
    waits lets a batch span their windows."""
    rng = random.Random(3)
    waits = [frames.window(rng.uniform(0, 1.0), rng.uniform(0.136, 0.204)) for _ in range(96)]
    grid = len({round((w.due) / (2 / 60)) for w in waits})
    assert len(run_plan(waits)) <= 0.85 * grid  # about 0.75 over seeds


def test_phones_waiting_near_the_same_time_wake_the_loop_once() -> None:
    """16 phones' answers due within a few milliseconds of each other: one timer fires, not 16."""

    async def main() -> tuple[list[asyncio.TimerHandle], list[float], float]:
        loop = asyncio.get_running_loop()
        timers: list[asyncio.TimerHandle] = []
        real_call_at = loop.call_at

        def recording_call_at(when, *args, **kw):
            handle = real_call_at(when, *args, **kw)
            timers.append(handle)
            return handle

        loop.call_at = recording_call_at  # type: ignore[method-assign]
        started = loop.time()
        ends: list[float] = []

        async def answer(seconds: float) -> None:
            await frames.pause(seconds)
            ends.append(loop.time() - started)

        # each phone's jitter differs: the answers fall due over 8 ms
        await asyncio.gather(*(answer(0.16 + i * 0.0005) for i in range(16)))
        return [t for t in timers if not t.cancelled()], ends, statistics.mean(0.16 + i * 0.0005 for i in range(16))

    fired, ends, mean_due = asyncio.run(main())
    assert len({t.when() for t in fired}) == 1  # on a timer per answer: 16 instants
    assert min(ends) >= mean_due - 1e-3 and max(ends) < 2.0  # all at their mean due time, none before it


def test_a_host_timer_wakes_on_the_frame_clock_never_before_its_time() -> None:
    async def main() -> float:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.gather(frames.pause(0.1, early=False), frames.pause(0.11))
        return loop.time() - started

    assert 0.1 <= asyncio.run(main()) < 2.0


def test_a_screen_is_serialised_once_however_often_it_is_dumped(monkeypatch) -> None:
    import miui_automator.sim.phone as phone_module

    serialised = []
    real = phone_module.hierarchy_xml
    monkeypatch.setattr(phone_module, "hierarchy_xml", lambda wins: serialised.append(wins) or real(wins))
    phone = Phone("hyperos1-en", media_files=0)
    first = phone.hierarchy_xml()
    assert phone.hierarchy_xml() is first and len(serialised) == 1  # 16 phones dumping: no re-serialising
    phone.start_activity("com.android.settings/.MainSettings")
    changed = phone.hierarchy_xml()
    assert changed != first and "com.android.settings" in changed and len(serialised) == 2


def test_screenshots_during_a_transition_draw_each_end_once_and_compose_the_rest() -> None:
    from miui_automator.sim.animation import Animation

    drawn: list[list] = []

    def draw(windows: list) -> Image.Image:
        drawn.append(windows)
        return Image.new("RGB", (40, 80), (len(drawn) * 60, 0, 0))

    before, after = ["old window"], ["new window"]
    animation = Animation("activity", before, start=10.0, seconds=0.35)  # type: ignore[arg-type]
    frames_seen = [animation.frame(draw, after, 10.0 + t) for t in (0.05, 0.15, 0.25)]  # type: ignore[arg-type]
    assert drawn == [before, after]  # not one render per screenshot
    assert differs(frames_seen[0], frames_seen[2])  # still a moving animation
    newer = ["newer window"]
    animation.frame(draw, newer, 10.3)  # type: ignore[arg-type]
    assert drawn[-1] is newer and len(drawn) == 3  # the screen changed meanwhile: drawn again


def test_a_shell_command_held_by_its_duration_is_cut_when_the_host_hangs_up() -> None:
    async def main() -> tuple[bool, bool, float]:
        closed = asyncio.Event()
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        ran_out = await frames.pause_unless(closed, 0.05)
        took = loop.time() - t0
        loop.call_later(0.01, closed.set)
        cut = await frames.pause_unless(closed, 30.0)
        return ran_out, cut, took

    ran_out, cut, took = asyncio.run(main())
    assert ran_out is True and cut is False and 0.05 * 0.9 <= took < 1.0


# ------------------------------------------------------------------ the CLI
def test_sim_start_offers_the_profiles_and_links_and_refuses_others() -> None:
    from click.testing import CliRunner

    from miui_automator.cli.main import cli

    runner = CliRunner()
    help_text = runner.invoke(cli, ["sim", "start", "--help"]).output
    assert "[instant|phone|slow-phone]" in help_text and "[usb2|usb3|instant]" in help_text
    for bad in (["--timing", "fast"], ["--link", "usb4"]):
        result = runner.invoke(cli, ["sim", "start", *bad])
        assert result.exit_code == 2 and bad[1] in result.output
