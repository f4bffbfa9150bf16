"""The HTML report in a real headless Chromium: it loads offline, lays out, and its DOM has the timeline.

Skipped when no Chromium is installed (``apt-get install chromium``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from miui_automator.report import EventWriter, render_all
from miui_automator.vision import annotate

W, H = 1080, 2400
CHROMIUM_TIMEOUT_S = 90


def _chromium() -> str | None:
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size)


def _screen(title: str, rows: list[str], accent: tuple[int, int, int]) -> Image.Image:
    """A phone-like frame: status bar, title, list rows, a coloured button."""
    img = Image.new("RGB", (W, H), (247, 247, 247))
    draw = ImageDraw.Draw(img)
    draw.text((48, 24), "12:04", fill=(0, 0, 0), font=_font(36))
    draw.text((48, 180), title, fill=(0, 0, 0), font=_font(72))
    for i, row in enumerate(rows):
        top = 380 + i * 190
        draw.rounded_rectangle((32, top, W - 32, top + 160), radius=28, fill=(255, 255, 255))
        draw.text((80, top + 50), row, fill=(30, 30, 30), font=_font(48))
    draw.rounded_rectangle((80, H - 260, W - 80, H - 120), radius=70, fill=accent)
    draw.text((W // 2 - 120, H - 225), "Continue", fill=(255, 255, 255), font=_font(54))
    return img


def _record_run(run_dir: Path) -> None:
    screens = run_dir / "screens"
    screens.mkdir(parents=True)
    plan = [
        ("1", "launch", "Open Settings", "settings_home", ["Mi Account", "SIM cards", "Wi-Fi", "Bluetooth"], (540, 560)),
        ("2", "tap", "Tap “Mi Account”", "account", ["Xiaomi Cloud", "Devices", "Sign out"], (540, 760)),
        ("3", "tap", "Tap “Sign out”", "signout_confirm", ["Sign out of this device?", "Keep data"], (540, 2170)),
    ]
    with EventWriter(run_dir) as events:
        events.write("run_start", flow="remove-mi-account", description="Sign the Xiaomi account out of the phone",
                     destructive=True, params={"password": "***", "keep_data": False}, out_dir=str(run_dir),
                     device={"serial": "127.0.0.1:5555", "model": "23049PCD8G", "market_name": "Xiaomi 13T Pro",
                             "os_family": "HyperOS", "os_version": "1", "os_label": "HyperOS 1 (OS1.0.3.0)",
                             "android_version": "14", "mi_account": "6281734509", "mi_account_present": True,
                             "battery_level": 76, "adb_input_enabled": True},
                     started="2024-05-01T09:12:03.123Z")
        for index, kind, text, screen, rows, tap in plan:
            events.write("step_start", step=index, kind=kind, description=text, line=4 + int(index) * 3)
            frame = _screen(screen.replace("_", " ").title(), rows, (230, 90, 20))
            frame.save(screens / f"{int(index):03d}-after.png")
            annotate(frame, tap=tap, label=f"{index}. {text}").save(screens / f"{int(index):03d}-after.annotated.png")
            events.write("screenshot", step=index, kind="after", path=f"screens/{int(index):03d}-after.png",
                         annotated_path=f"screens/{int(index):03d}-after.annotated.png", tap=list(tap))
            events.write("step_done", step=index, duration_s=1.5 + int(index), screen=screen, note="")
        events.write("step_start", step="4", kind="assert_screen", description="Wait for “Enter password”", line=16)
        seen = _screen("Find device", ["Couldn't turn off Find device"], (200, 40, 40))
        seen.save(screens / "004-failure.png")
        (run_dir / "hierarchy-004.xml").write_text("<hierarchy rotation=\"0\"/>", encoding="utf-8")
        events.write("step_failed", step="4", duration_s=20.0, error="expected screen signout_password, saw find_device_failed",
                     screen_seen="find_device_failed", hierarchy_path="hierarchy-004.xml",
                     screenshot_path="screens/004-failure.png")
        events.write("step_skipped", step="5", kind="tap", description="Confirm sign-out", reason="an earlier step failed")
        events.write("run_end", outcome="failed", exit_code=1, duration_s=31.2, summary="step 4 failed")


def _run_chromium(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT_S, check=False)


def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no Chromium installed (/usr/bin/chromium, chromium or chromium-browser on PATH)")
    run_dir = tmp_path / "run"
    _record_run(run_dir)
    html = render_all(run_dir)["html"]
    url = html.resolve().as_uri()

    shot = tmp_path / "report.png"
    result = _run_chromium(chromium, tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1280,2000", url)
    assert shot.is_file(), f"chromium wrote no screenshot: {result.stderr[-2000:]}"
    with Image.open(shot) as page:
        assert page.size == (1280, 2000)
        colours = page.convert("RGB").reduce(4).getcolors(1 << 20)
        assert colours is not None and len(colours) > 50, "the page rendered as a near-flat image"

    result = _run_chromium(chromium, tmp_path / "profile-dom", "--dump-dom", url)
    dom = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    rows = re.findall(r'<tr class="step status-(\w+) depth-0" id="step-(\d+)"', dom)
    assert rows == [("passed", "1"), ("passed", "2"), ("passed", "3"), ("failed", "4"), ("skipped", "5")]
    assert 'id="outcome">failed<' in dom
    assert len(re.findall(r'<img src="data:image/jpeg;base64,', dom)) == 5  # 3 steps, failed step 4, failure panel
    assert 'href="screens/004-failure.png"' in dom and 'href="hierarchy-004.xml"' in dom
    assert "62******09" in dom and "6281734509" not in dom
