"""report.html draws every script a phone shows — Latin, Cyrillic, Greek, CJK, Devanagari, Arabic, Thai —
in a real headless Chromium, on a machine that may have no fonts for them (the report carries subsets of
Noto for the scripts desktops often lack), and shows the phone's locale.

Missing glyphs are drawn as identical boxes, so two reports that differ only in which characters of one
script they show render identically when that script has no font: each script's pair must differ.
Skipped without Chromium (``apt-get install chromium``).
"""

from __future__ import annotations

import base64
import io
import re
import subprocess
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from PIL import Image, ImageChops

from miui_automator.report import EventWriter, render_all
from miui_automator.report.fonts import FACES

from test_report_browser import _chromium, _run_chromium

# two labels per script with the same number of characters (so that missing glyphs draw the same boxes)
SCRIPTS = {
    "latin": ("Abmelden", "Behalten"),
    "cyrillic": ("Выйти", "Сброс"),
    "greek": ("Έξοδο", "Ακύρο"),
    "cjk": ("退出登录", "保留数据"),
    "devanagari": ("नमक", "कलम"),
    "arabic": ("خروج", "إلغاء"),
    "thai": ("กขค", "งจฉ"),
}


def record(run_dir: Path, labels: dict[str, str]) -> Path:
    with EventWriter(run_dir) as events:
        events.write("run_start", flow="remove-mi-account", description=" · ".join(labels.values()), destructive=True,
                     params={}, out_dir=str(run_dir), device={"serial": "sim-1", "locale": "hi-IN"},
                     started="2026-12-01T09:12:03.123Z")
        for i, (script, label) in enumerate(labels.items(), 1):
            events.write("step_start", step=str(i), kind="tap", description=f"tap text “{label}”", line=i)
            events.write("step_done", step=str(i), duration_s=1.0, screen=script, note="")
        events.write("run_end", outcome="passed", exit_code=0, duration_s=7.0, summary="passed")
    return render_all(run_dir)["html"]


def test_the_report_embeds_a_face_covering_each_script_it_shows(tmp_path):
    html = record(tmp_path / "run", {s: pair[0] for s, pair in SCRIPTS.items()}).read_text(encoding="utf-8")
    faces = dict(re.findall(r'font-family: "([^"]+)"; src: url\(data:font/otf;base64,([A-Za-z0-9+/=]+)\)', html))
    assert set(faces) == {face.family for face in FACES}
    for face in FACES:
        font = TTFont(io.BytesIO(base64.b64decode(faces[face.family])))
        needed = {ord(ch) for label in (p[0] for p in SCRIPTS.values()) for ch in label if face.covers(ch)}
        assert needed and needed <= set(font.getBestCmap()), face.family
    assert 'id="locale">hi-IN<' in html
    stack = re.search(r"body \{[^}]*font: ([^;]+);", html).group(1)
    assert all(f'"{face.family}"' in stack for face in FACES) and "&#34;" not in stack


def test_an_english_report_carries_no_fonts(tmp_path):
    html = record(tmp_path / "run", {"latin": "Sign out"}).read_text(encoding="utf-8")
    assert "@font-face" not in html


def _boxed_scripts(tmp_path: Path, chromium: str) -> list[str]:
    """The scripts whose two labels render identically (as boxes) in report.html."""
    base = {s: pair[0] for s, pair in SCRIPTS.items()}

    def shot(name: str, labels: dict[str, str]) -> Image.Image:
        html = record(tmp_path / name, labels)
        png = tmp_path / f"{name}.png"
        result = _run_chromium(chromium, tmp_path / f"profile-{name}", f"--screenshot={png}", "--window-size=1280,1400",
                               html.resolve().as_uri())
        assert png.is_file(), f"chromium wrote no screenshot: {result.stderr[-2000:]}"
        with Image.open(png) as image:
            return image.convert("RGB")

    first = shot("base", base)
    return [script for script, pair in SCRIPTS.items()
            if ImageChops.difference(first, shot(script, {**base, script: pair[1]})).getbbox() is None]


@pytest.mark.integration
def test_every_script_renders_in_headless_chromium(tmp_path):
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no Chromium installed (/usr/bin/chromium, chromium or chromium-browser on PATH)")
    assert _boxed_scripts(tmp_path, chromium) == [], "these scripts render as boxes"


@pytest.mark.integration
def test_without_its_faces_the_report_shows_boxes_on_a_machine_lacking_fonts(tmp_path, monkeypatch):
    """The check above can fail: Chromium draws the same box for any two characters it has no font for."""
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no Chromium installed")
    lacking = [lang for lang in ("zh", "hi", "th")
               if not subprocess.run(["fc-list", f":lang={lang}"], capture_output=True, text=True, check=False).stdout.strip()]
    if not lacking:
        pytest.skip("this machine has system fonts for CJK, Devanagari and Thai")
    monkeypatch.setattr("miui_automator.report.fonts.FACES", ())
    boxed = _boxed_scripts(tmp_path, chromium)
    assert {"zh": "cjk", "hi": "devanagari", "th": "thai"}[lacking[0]] in boxed
