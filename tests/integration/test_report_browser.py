"""The HTML report in a real headless Chromium: it loads offline, lays out, and its DOM has the timeline;
a step that acted shows BEFORE and AFTER with their screen names; a click on a screenshot opens it in the
page, and arrow keys step through the timeline (driven over the DevTools protocol on a pipe).

Skipped when no Chromium is installed (``apt-get install chromium``).
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import time
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
        shown = None  # the frame on screen before each step: the previous step's after-frame
        for index, kind, text, screen, rows, tap in plan:
            events.write("step_start", step=index, kind=kind, description=text, line=4 + int(index) * 3)
            frame = _screen(screen.replace("_", " ").title(), rows, (230, 90, 20))
            if shown is not None:
                before_screen, before_frame = shown
                target = (tap[0] - 400, tap[1] - 70, tap[0] + 400, tap[1] + 70)
                before_frame.save(screens / f"{index}-before.jpg")
                annotate(before_frame, tap=tap, box=target, label=f"step {index}").save(
                    screens / f"{index}-before-annotated.jpg")
                events.write("screenshot", step=index, kind="before", path=f"screens/{index}-before.jpg",
                             annotated_path=f"screens/{index}-before-annotated.jpg", tap=list(tap),
                             target=list(target), screen=before_screen)
            frame.save(screens / f"{index}-after.jpg")
            events.write("screenshot", step=index, kind="after", path=f"screens/{index}-after.jpg", screen=screen)
            events.write("step_done", step=index, duration_s=1.5 + int(index), screen=screen, note="")
            shown = (screen, frame)
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
    # thumbnails: step 1 after, steps 2 and 3 before and after, failed step 4; the failure panel; six views
    assert len(re.findall(r'<img src="data:image/jpeg;base64,', dom)) == 13
    for index, before, after in (("2", "settings_home", "account"), ("3", "account", "signout_confirm")):
        row = dom[dom.index(f'id="step-{index}"'):]
        row = row[: row.index("</tr>")]
        assert re.search(rf'<figure class="shot before">.*?before<code>{before}</code>.*?'
                         rf'<figure class="shot after">.*?after<code>{after}</code>', row, re.S), row[-800:]
    assert 'href="screens/004-failure.png"' in dom and 'href="hierarchy-004.xml"' in dom
    assert "62******09" in dom and "6281734509" not in dom


class _DevTools:
    """Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: commands in on
    fd 3, replies out on fd 4, each message JSON ended by a NUL), so the test needs no client library."""

    def __init__(self, chromium: str, profile: Path) -> None:
        to_child, self._to_chrome = os.pipe()
        self._from_chrome, from_child = os.pipe()

        def wire() -> None:  # in the child: its fd 3 reads our commands, its fd 4 carries its replies
            os.dup2(to_child, 3)
            os.dup2(from_child, 4)

        self.proc = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
             "--disable-background-networking", "--disable-component-update", "--remote-debugging-pipe",
             "--window-size=1280,900", f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            close_fds=False, preexec_fn=wire)
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""
        self._next = 0
        self.session: str | None = None

    def call(self, method: str, **params):
        self._next += 1
        message = {"id": self._next, "method": method, "params": params}
        if self.session is not None:
            message["sessionId"] = self.session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + CHROMIUM_TIMEOUT_S
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self._next:
                    assert "error" not in reply, reply["error"]
                    return reply["result"]
            ready, _, _ = select.select([self._from_chrome], [], [], max(0.0, deadline - time.monotonic()))
            assert ready, f"Chromium did not answer {method} within {CHROMIUM_TIMEOUT_S} s"
            chunk = os.read(self._from_chrome, 1 << 16)
            assert chunk, "Chromium closed the DevTools pipe"
            self._buffer += chunk

    def open(self, url: str) -> None:
        target = self.call("Target.createTarget", url=url)["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        # the new tab shows about:blank (complete at once) before it navigates to ``url``
        self.wait_for(f"location.href === {json.dumps(url)} && document.readyState === 'complete'")

    def eval(self, expression: str):
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def wait_for(self, expression: str, timeout_s: float = 10.0) -> None:
        """Poll the page (bounded) until ``expression`` is true: a key's effect lands after its event."""
        deadline = time.monotonic() + timeout_s
        while not self.eval(expression):
            assert time.monotonic() < deadline, f"never true: {expression}"
            time.sleep(0.05)

    def click(self, selector: str) -> None:
        x, y = self.eval(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); "
                         "e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect(); "
                         "return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def key(self, key: str, code: int) -> None:
        for kind in ("keyDown", "keyUp"):
            self.call("Input.dispatchKeyEvent", type=kind, key=key, code=key, windowsVirtualKeyCode=code)

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=CHROMIUM_TIMEOUT_S)
        os.close(self._to_chrome)
        os.close(self._from_chrome)


def test_a_click_opens_a_screenshot_in_the_page_and_arrow_keys_step_through(tmp_path: Path) -> None:
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no Chromium installed (/usr/bin/chromium, chromium or chromium-browser on PATH)")
    run_dir = tmp_path / "run"
    _record_run(run_dir)
    url = render_all(run_dir)["html"].resolve().as_uri()
    browser = _DevTools(chromium, tmp_path / "profile-cdp")
    try:
        browser.open(url)
        shown = "(id => { const e = document.getElementById(id); return e && getComputedStyle(e).display; })"
        assert browser.eval(f"{shown}('view-2-1')") == "none"
        browser.click('#step-2 figure.before a')
        browser.wait_for("location.hash === '#view-2-1'")
        assert browser.eval(f"{shown}('view-2-1')") == "flex"
        view = browser.eval("(() => { const i = document.querySelector('#view-2-1 img'); "
                            "return [i.naturalWidth, i.getBoundingClientRect().height]; })()")
        assert view[0] >= 540 and view[1] > 600, view  # far larger than the 84 px thumbnail
        assert "settings_home" in browser.eval("document.querySelector('#view-2-1 p').textContent")
        browser.key("ArrowRight", 39)  # the next screenshot: step 2's after-frame
        browser.wait_for("location.hash === '#view-2-2'")
        assert browser.eval(f"{shown}('view-2-1')") == "none" and browser.eval(f"{shown}('view-2-2')") == "flex"
        browser.key("Escape", 27)  # back to the step
        browser.wait_for("location.hash === '#step-2'")
        browser.key("ArrowDown", 40)
        browser.wait_for("location.hash === '#step-3'")
        browser.key("ArrowDown", 40)
        browser.key("ArrowUp", 38)
        browser.key("ArrowUp", 38)
        browser.wait_for("location.hash === '#step-2'")
    finally:
        browser.close()
