"""Every script a phone can show is drawn with a face that has it: no .notdef boxes (tofu) for
Devanagari, Thai, Arabic, Cyrillic, Greek, CJK or the pseudo-locale's accented letters."""

from __future__ import annotations

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFont

from miui_automator.sim import fonts
from miui_automator.sim.render import render
from miui_automator.sim.ui import Node

SAMPLES = {
    "devanagari": "साइन आउट करें",
    "thai": "ออกจากระบบ",
    "arabic": "تسجيل الخروج",
    "cyrillic": "Выйти",
    "greek": "Αποσύνδεση",
    "cjk": "退出登录",
    "pseudo": "[Šîĝñ öûţ ɓ ḿ one two]",
}
NOTDEF = "\U0010fffd"


def mask(face: ImageFont.FreeTypeFont, text: str) -> bytes:
    canvas = Image.new("L", (400, 120))
    ImageDraw.Draw(canvas).text((10, 10), text, font=face, fill=255)
    return canvas.tobytes()


def line(text: str) -> Image.Image:
    root = Node(cls="android.widget.FrameLayout", bounds=(0, 0, 1080, 200), style="window")
    root.add(Node(cls="android.widget.TextView", text=text, bounds=(40, 40, 1040, 160), style="title"))
    return render([root], 1080, 200)


@pytest.fixture(autouse=True)
def _fonts_installed():
    if len(fonts.fallback_paths()) < len(fonts.FALLBACK_FAMILIES) or fonts.cjk_font_path() is None:
        pytest.skip("the font packages (fontpkg-noto-*, manimgx-fonts-cjk) are not installed")


@pytest.mark.parametrize("script", list(SAMPLES))
def test_every_character_gets_a_face_that_has_it(script):
    stack = fonts.stack(48)
    for face, run in stack.runs(SAMPLES[script]):
        for ch in run:
            if ch.isspace() or not ch.isprintable():
                continue
            assert mask(face, ch) != mask(face, NOTDEF), f"{script}: {ch!r} (U+{ord(ch):04X}) drawn as .notdef"


@pytest.mark.parametrize("script", ["devanagari", "thai", "arabic"])
def test_the_ui_face_alone_would_draw_tofu(script):
    """The control: the CJK UI face lacks these scripts, so without fallback they would be boxes."""
    ui = fonts.font(48)
    letters = [ch for ch in SAMPLES[script] if not ch.isspace()]
    assert all(mask(ui, ch) == mask(ui, NOTDEF) for ch in letters[:3])
    assert fonts.stack(48).runs(SAMPLES[script])[0][0] is not ui


@pytest.mark.parametrize("script", ["devanagari", "thai", "arabic"])
def test_rendered_line_differs_from_a_line_of_boxes(script):
    text = SAMPLES[script]
    drawn, boxes = line(text), line(NOTDEF * len(text))
    assert ImageChops.difference(drawn, boxes).getbbox() is not None
    assert ImageChops.difference(drawn, line("")).getbbox() is not None  # there is ink


def test_a_devanagari_run_is_one_run_with_its_marks():
    runs = fonts.stack(40).runs("करें OK")
    assert runs[0][1].startswith("करें") and len({id(f) for f, _ in runs}) == 2


def test_an_arabic_phrase_is_shaped_as_one_run():
    (face, run), = fonts.stack(40).runs(SAMPLES["arabic"])
    assert run == SAMPLES["arabic"]
