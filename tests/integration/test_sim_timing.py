"""The simulator's clock seen through the real adb server, the real adb binary and uiautomator2.

Each test is kept to a second or two: the phone profile where its latencies are measured, and
a profile with a long activity transition where the order "old screen, then new" is checked,
so a loaded machine cannot slip past the window in which the old screen is still listed.
"""

from __future__ import annotations

import dataclasses
import io
import subprocess
import time

import pytest
from PIL import Image, ImageChops, ImageStat

from miui_automator.sim.frames import FRAME_SHARE
from miui_automator.sim.host import adb_path
from miui_automator.sim.timing import PROFILES, Timing

pytestmark = pytest.mark.integration

ABOUT = "About phone"
ABOUT_ROW = "Android version"  # a row only the About phone screen lists
# The phone profile, but with a 1.5 s activity transition: the old screen stays listed for the
# first 0.48-0.72 s, far longer than a loaded machine needs for the next request.
LONG_TRANSITION = dataclasses.replace(PROFILES["phone"], name="long-transition", activity_s=1.5, dump_s=0.01,
                                      dump_per_kb_s=0.0, screenshot_s=0.01, input_s=0.01)


def _open_settings(d, read, wait_until) -> None:
    d.app_start("com.android.settings")
    wait_until(lambda: read(lambda p: p.current_screen_name() == "settings_home" and p.idle_in() == 0),
               timeout=15, message="Settings open and settled")


def _image(jpeg) -> Image.Image:
    return jpeg.convert("RGB") if isinstance(jpeg, Image.Image) else Image.open(io.BytesIO(jpeg)).convert("RGB")


def _distance(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute pixel difference (0..255): JPEG noise stays far below a changed screen."""
    return ImageStat.Stat(ImageChops.difference(a, b).convert("L")).mean[0]


def test_a_transition_lists_the_old_screen_first_and_shows_animation_frames_until_settled(connect, wait_until):
    d, sim, read = connect(timing=Timing(LONG_TRANSITION, seed=11))
    _open_settings(d, read, wait_until)
    old_shot = _image(d.screenshot())
    assert ABOUT in d.dump_hierarchy()
    x, y = d(text=ABOUT).center()

    d.click(x, y)
    first = d.dump_hierarchy()
    mid_shot = _image(d.screenshot())
    assert ABOUT in first and ABOUT_ROW not in first  # the hierarchy still lists Settings ...
    assert read(lambda p: p.animation is not None and p.animation.running(p.clock()))
    wait_until(lambda: ABOUT_ROW in d.dump_hierarchy(), timeout=5, interval=0.02,
               message="the new screen listed")  # ... then About phone
    wait_until(lambda: read(lambda p: p.animation is None or not p.animation.running(p.clock())), timeout=5,
               message="the animation over")
    settled = _image(d.screenshot())
    assert _distance(settled, _image(d.screenshot())) < 2  # settled frames stay put
    assert _distance(mid_shot, old_shot) > 4 and _distance(mid_shot, settled) > 4  # an animation frame
    assert _distance(settled, old_shot) > 4


def test_phone_profile_latencies_through_uiautomator2(connect, wait_until):
    d, sim, read = connect(timing="phone", seed=12)
    _open_settings(d, read, wait_until)
    xml = d.dump_hierarchy()
    nominal = 0.150 + 0.004 * len(xml.encode()) / 1024
    fastest = 0.8 * (1 - FRAME_SHARE / 2)  # the low end of the jitter, then the earliest its batch may end (frames.py)
    for _ in range(3):
        started = time.perf_counter()
        d.dump_hierarchy()
        assert time.perf_counter() - started >= fastest * nominal
    started = time.perf_counter()
    d.screenshot()
    assert time.perf_counter() - started >= fastest * 0.180
    started = time.perf_counter()
    d.shell("echo hi")
    assert time.perf_counter() - started >= 0.8 * 0.015  # a shell command's time never ends early


def test_noidle_screen_through_uiautomator2(connect, wait_until):
    d, sim, read = connect(faults="noidle=about_phone")
    _open_settings(d, read, wait_until)
    started = time.perf_counter()
    d.jsonrpc.waitForIdle(3000)
    assert time.perf_counter() - started < 2.5  # an idle screen answers at once
    d(text=ABOUT).click()
    wait_until(lambda: read(lambda p: p.current_screen_name() == "about_phone"), message="About phone open")
    started = time.perf_counter()
    d.jsonrpc.waitForIdle(600)
    assert time.perf_counter() - started >= 0.6  # never idle: the wait runs out
    d.jsonrpc.setConfigurator({"waitForIdleTimeout": 400})
    started = time.perf_counter()
    xml = d.dump_hierarchy()
    assert time.perf_counter() - started >= 0.4 and "com.android.settings" in xml


def test_noidle_screen_through_the_adb_binary(make_phone, adb_port, sim_host):
    sim = make_phone(faults="noidle=about_phone", timing=Timing("instant", shell_dump_idle_timeout=0.5))

    def adb_shell(command: str) -> tuple[str, float]:
        started = time.perf_counter()
        proc = subprocess.run([adb_path(), "-P", str(adb_port), "-s", sim.serial, "shell", command],
                              capture_output=True, text=True, timeout=30)
        return proc.stdout + proc.stderr, time.perf_counter() - started

    sim_host.call(lambda: sim.phone.launch_app("com.android.settings"))
    out, _ = adb_shell("uiautomator dump /sdcard/ok.xml")
    assert "UI hierchary dumped to: /sdcard/ok.xml" in out
    x, y = sim_host.call(lambda: next(n.center for w in sim.phone.windows() for n in w.walk() if n.text == ABOUT))
    adb_shell(f"input tap {x} {y}")
    assert sim_host.call(lambda: sim.phone.current_screen_name()) == "about_phone"
    out, seconds = adb_shell("uiautomator dump /sdcard/busy.xml")
    assert "ERROR: could not get idle state." in out and "dumped" not in out
    assert seconds >= 0.5


def test_usb2_link_paces_a_pull(make_phone, adb_port, sim_host, tmp_path):
    sim = make_phone(timing="instant", link="usb2", media_files=0)
    sim_host.call(lambda: sim.phone.state.fs.write("/sdcard/blob.bin", b"\x5a" * 8_000_000))
    started = time.perf_counter()
    subprocess.run([adb_path(), "-P", str(adb_port), "-s", sim.serial, "pull", "/sdcard/blob.bin", str(tmp_path)],
                   check=True, capture_output=True, timeout=60)
    seconds = time.perf_counter() - started
    assert (tmp_path / "blob.bin").stat().st_size == 8_000_000
    assert seconds >= 8_000_000 / (40e6 * 1.2)  # no faster than the fastest usb2 link the jitter allows
