"""The simulated phone's screenshots agree with its hierarchy: texts are drawn inside their nodes'
bounds and nowhere else, switches show their checked state, dialogs dim what is below them, and
Chinese renders as real glyphs. Windows come from the real phone model, not hand-built trees."""

from __future__ import annotations

import copy
import io
import os

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFont, ImageStat

from miui_automator.sim import fonts
from miui_automator.sim.layout import SIDE
from miui_automator.sim.phone import Phone
from miui_automator.sim.render import BG, BLUE, CARD, encode, render
from miui_automator.sim.ui import SCREEN_H, SCREEN_W, Node, find_all

CONTAINERS = {"window", "launcher", "keyguard", "statusbar", "dialog", "list", "actionbar", "row", "profile"}


def settings(variant: str) -> Phone:
    phone = Phone(variant)
    ok, message = phone.start_activity(component="com.android.settings/.MainSettings")
    assert ok, message
    return phone


def shot(windows: list[Node]) -> Image.Image:
    return render(windows, SCREEN_W, SCREEN_H)


def ink(region: Image.Image, background: tuple[int, int, int] | None = None) -> int:
    """Pixels clearly unlike the region's background (its most common colour unless given)."""
    if background is None:
        background = max(region.getcolors(region.width * region.height))[1]
    diff = ImageChops.difference(region, Image.new("RGB", region.size, background)).convert("L")
    return sum(diff.histogram()[60:])


def open_signout_dialog(phone: Phone) -> None:
    """Account page → scroll → Sign out, through Xiaomi Cloud's Keep screen when the ROM shows it first."""
    ok, _ = phone.start_activity(action="android.settings.XIAOMI_ACCOUNT_SYNC_SETTINGS")
    assert ok
    phone.scroll_list("com.xiaomi.account:id/list", 3000)
    phone.tap(*find_all(phone.windows(), rid="com.xiaomi.account:id/logout_btn")[0].center)
    if phone.current_screen_name() == "wipe_confirm":
        phone.tap(*find_all(phone.windows(), rid="com.miui.cloudservice:id/btn_keep")[0].center)
    assert phone.windows()[-1].style == "dialog", phone.current_screen_name()


@pytest.fixture(scope="module")
def zh() -> tuple[list[Node], Image.Image]:
    wins = settings("hyperos2-zh").windows()
    return wins, shot(wins)


@pytest.fixture(scope="module")
def en() -> tuple[list[Node], Image.Image]:
    wins = settings("hyperos1-en").windows()
    return wins, shot(wins)


@pytest.fixture(scope="module")
def with_dialog() -> tuple[list[Node], Image.Image]:
    phone = Phone("hyperos1-en")
    open_signout_dialog(phone)
    wins = phone.windows()
    return wins, shot(wins)


@pytest.fixture(scope="module")
def launcher() -> tuple[list[Node], Image.Image]:
    phone = Phone("hyperos2-zh")
    phone.press_key("home")
    wins = phone.windows()
    assert wins[-1].style == "launcher"
    return wins, shot(wins)


@pytest.fixture(scope="module")
def keyguard() -> tuple[list[Node], Image.Image]:
    phone = Phone("hyperos1-en")
    phone.sleep()
    phone.wake()
    wins = phone.windows()
    assert wins[-1].style == "keyguard"
    return wins, shot(wins)


def test_frame_is_full_size_rgb_and_not_blank(zh):
    _, image = zh
    assert image.size == (SCREEN_W, SCREEN_H) and image.mode == "RGB"
    colors = image.getcolors(maxcolors=4096)
    assert colors is None or len(colors) > 100  # anti-aliased text, grey summaries, blue accents


@pytest.mark.parametrize("screen", ["zh", "en", "with_dialog", "launcher", "keyguard"])
def test_every_text_node_has_ink_inside_its_bounds(screen, request):
    wins, image = request.getfixturevalue(screen)
    checked = 0
    for node in (n for w in wins for n in w.walk()):
        left, top, right, bottom = node.bounds
        if not (node.text and right - left >= 40 and bottom - top >= 40):
            continue
        assert ink(image.crop(node.bounds)) >= 30, (node.style, node.text, node.bounds)
        checked += 1
    assert checked >= 3


@pytest.mark.parametrize("screen", ["zh", "en", "with_dialog"])
def test_nothing_is_drawn_outside_the_nodes_that_draw(screen, request):
    """Sample the page on a grid: wherever no drawing node (text, row, button...) is, it is bare page."""
    wins, image = request.getfixturevalue(screen)
    nodes = [n for w in wins if w.style != "statusbar" for n in w.walk()]
    boxes = [n.bounds for n in nodes if n.style not in CONTAINERS or n.style in ("row", "profile")]
    boxes += [w.bounds for w in wins if w.style in ("statusbar", "dialog")]
    dimmed = any(w.style == "dialog" for w in wins)
    page = tuple(int(v * 0.6) for v in BG) if dimmed else BG
    px = image.load()
    samples = 0
    for y in range(0, SCREEN_H, 16):
        for x in range(0, SCREEN_W, 16):
            if any(l <= x < r and t <= y < b for l, t, r, b in boxes):
                continue
            assert px[x, y] == page, (x, y, px[x, y])
            samples += 1
    assert samples > 100


def test_row_margins_stay_card_white(en):
    wins, image = en
    rows = find_all(wins, style="row")
    assert len(rows) >= 10
    for row in rows:
        left, top, right, bottom = row.bounds
        margin = image.crop((0, top, SIDE - 8, bottom))
        assert margin.getcolors() == [(margin.width * margin.height, CARD)], row.bounds


def test_chinese_title_is_real_glyphs_not_tofu(zh):
    wins, image = zh
    title = next(n for n in find_all(wins, style="title") if n.text == "设置")
    left, top, right, bottom = title.bounds
    advance = int(fonts.font(84, "Medium").getlength("设"))
    first = image.crop((left, top, left + advance, bottom))
    second = image.crop((left + advance, top, left + 2 * advance, bottom))
    assert ink(first, BG) > 500 and ink(second, BG) > 500
    # Two different ideographs drawn with a font lacking them would be two identical boxes.
    assert ink(ImageChops.difference(first, second).convert("RGB"), (0, 0, 0)) > 500


def glyph(face: ImageFont.FreeTypeFont, char: str) -> bytes:
    canvas = Image.new("L", (120, 120))
    ImageDraw.Draw(canvas).text((10, 10), char, font=face, fill=255)
    return canvas.tobytes()


def test_cjk_font_has_the_glyphs_dejavu_lacks():
    assert fonts.cjk_font_path() is not None  # manimgx-fonts-cjk is a declared dependency
    face = fonts.font(48)
    missing = glyph(face, "\u0378")  # unassigned code point: the font's .notdef box
    assert glyph(face, "设") != missing and glyph(face, "设") != glyph(face, "置")
    dejavu = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    if os.path.exists(dejavu):  # the control: a Latin-only face draws both as the same tofu
        latin = ImageFont.truetype(dejavu, 48)
        assert glyph(latin, "设") == glyph(latin, "置") == glyph(latin, "\u0378")


def test_dialog_dims_the_window_below_and_sits_on_a_white_card(with_dialog):
    wins, image = with_dialog
    below = shot(wins[:-1])
    card = wins[-1]
    above_card = (0, 0, SCREEN_W, card.bounds[1] - 10)
    before = ImageStat.Stat(below.crop(above_card).convert("L")).mean[0]
    after = ImageStat.Stat(image.crop(above_card).convert("L")).mean[0]
    assert 0.5 < after / before < 0.7  # a ~40 % black scrim
    assert image.getpixel((card.bounds[0] + 20, (card.bounds[1] + card.bounds[3]) // 2)) == CARD


def test_checked_switch_is_blue_and_unchecked_is_not():
    phone = Phone("hyperos1-en")
    phone.start_activity(action="android.settings.APPLICATION_DEVELOPMENT_SETTINGS")
    toggled = [s for s in find_all(phone.windows(), style="switch") if s.action == "toggle:input"][0]
    assert toggled.checked
    phone.tap(*toggled.center)  # the model flips persist.security.adbinput
    switches = find_all(phone.windows(), style="switch")
    on = [s for s in switches if s.checked]
    off = [s for s in switches if not s.checked]
    assert on and off
    image = shot(phone.windows())

    def blue(node: Node) -> int:
        region = image.crop(node.bounds)
        return ImageChops.difference(region, Image.new("RGB", region.size, BLUE)).convert("L").histogram()[0]

    assert all(blue(s) > 1000 for s in on)
    assert all(blue(s) == 0 for s in off)


def test_black_frame_is_all_zero_and_right_size(zh):
    wins, _ = zh
    image = render(wins, SCREEN_W, SCREEN_H, black=True)
    assert image.size == (SCREEN_W, SCREEN_H) and image.mode == "RGB"
    assert image.getextrema() == ((0, 0), (0, 0), (0, 0))


def test_encode_formats_and_scale(zh):
    _, image = zh
    png = encode(image, "png")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert Image.open(io.BytesIO(png)).tobytes() == image.tobytes()  # lossless round trip
    for fmt in ("jpeg", "jpg", "JPEG"):
        assert encode(image, fmt, quality=80).startswith(b"\xff\xd8\xff")
    assert Image.open(io.BytesIO(encode(image, "jpeg", scale=0.5))).size == (SCREEN_W // 2, SCREEN_H // 2)
    assert Image.open(io.BytesIO(encode(image, "png", scale=0.5))).size == (SCREEN_W // 2, SCREEN_H // 2)
    assert Image.open(io.BytesIO(encode(image, "png", scale=0.3))).size == (324, 720)
    assert len(encode(image, "jpeg", quality=20)) < len(encode(image, "jpeg", quality=95))
    with pytest.raises(ValueError):
        encode(image, "webp")


def test_different_screens_differ_and_same_screen_is_byte_identical(zh, en):
    assert ImageChops.difference(zh[1], en[1]).getbbox() is not None
    wins = zh[0]
    assert encode(shot(wins)) == encode(shot(copy.deepcopy(wins))) == encode(zh[1])


def synthetic(*nodes: Node) -> list[Node]:
    return [Node(style="window", bounds=(0, 0, SCREEN_W, SCREEN_H), children=list(nodes))]


LONG = "All data on your phone will be erased, including your accounts, system and app data, photos and videos. " * 3
LONG_ZH = "将清除手机中的所有数据，包括账号、系统及应用数据、照片、视频和其他文件。" * 3


@pytest.mark.parametrize("style", ["title", "big_title", "row_title", "row_summary", "row_value", "header", "dialog_title",
                                   "dialog_message", "error", "text", "search", "edit", "button", "button_primary",
                                   "button_danger", "no_such_style"])
@pytest.mark.parametrize("value", [LONG, LONG_ZH])
def test_long_text_is_clipped_to_its_node(style, value):
    node = Node(style=style, text=value, bounds=(200, 700, 620, 790))
    diff = ImageChops.difference(shot(synthetic(node)), shot(synthetic()))
    left, top, right, bottom = diff.getbbox()
    assert 200 <= left and top >= 700 and right <= 620 and bottom <= 790
    assert ink(shot(synthetic(node)).crop(node.bounds)) > 100


def test_row_cut_by_the_list_edge_keeps_its_text_inside_the_visible_part():
    phone = settings("hyperos1-en")
    phone.scroll_list("com.android.settings:id/recycler_view", 85)  # half of the first row scrolled away
    wins = phone.windows()
    lst = find_all(wins, rid="com.android.settings:id/recycler_view")[0]
    first = lst.children[0]
    assert first.bounds[1] == lst.bounds[1]
    image = shot(wins)
    above = image.crop((0, lst.bounds[1] - 15, SCREEN_W, lst.bounds[1]))
    assert above.getcolors() == [(above.width * above.height, BG)]  # nothing leaks above the list


def test_wrapping_message_breaks_into_lines_within_the_width():
    face = fonts.font(40)
    lines, fitted = fonts.wrap(LONG_ZH, face, 600, 3)
    assert len(lines) == 3 and not fitted and lines[-1].endswith(fonts.ELLIPSIS)
    assert all(face.getlength(line) <= 600 for line in lines)
    lines, fitted = fonts.wrap("Mi Pay bank cards will be deleted", face, 600, 3)
    assert fitted and " ".join(lines) == "Mi Pay bank cards will be deleted"
    cut = fonts.ellipsize("Digital Wellbeing & parental controls", face, 300)
    assert cut.endswith("...") and face.getlength(cut) <= 300


def test_password_shows_bullets_and_empty_field_shows_grey_hint():
    def field(**kw) -> Image.Image:
        return shot(synthetic(Node(style="edit", bounds=(100, 500, 980, 650), **kw))).crop((100, 500, 980, 650))

    secret = field(text="hunter2", password=True)
    assert secret.tobytes() == field(text="abcdefg", password=True).tobytes()  # only the length shows
    assert secret.tobytes() != field(text="hunter2").tobytes()
    hint = field(text="Enter password", hint="Enter password")
    darkest = min(low for low, _ in hint.getextrema())
    assert 100 < darkest < 200  # grey hint, never black ink


def test_keyguard_is_dark_and_launcher_draws_app_icons(keyguard, launcher):
    _, dark = keyguard
    assert ImageStat.Stat(dark.convert("L")).mean[0] < 80
    wins, image = launcher
    bare = copy.deepcopy(wins)
    for node in (n for w in bare for n in w.walk()):
        node.children = [c for c in node.children if c.style != "app_icon"]
    wallpaper = shot(bare)
    icons = find_all(wins, style="app_icon")
    assert len(icons) >= 3
    for icon in icons:
        changed = ImageChops.difference(image.crop(icon.bounds), wallpaper.crop(icon.bounds)).convert("L").histogram()
        assert sum(changed[30:]) > 20000  # the coloured square, not just a label


@pytest.fixture
def no_fonts(monkeypatch):
    fonts.font.cache_clear()
    monkeypatch.setattr(fonts, "cjk_font_path", lambda: None)
    yield monkeypatch
    fonts.font.cache_clear()


def test_renders_without_the_cjk_package(no_fonts, en):
    wins, image = en
    fallback = shot(wins)
    assert fallback.size == image.size and ImageChops.difference(fallback, image).getbbox() is not None
    no_fonts.setattr(fonts, "_DEJAVU_DIR", "/nonexistent")
    fonts.font.cache_clear()
    assert ink(shot(wins).crop(find_all(wins, style="title")[0].bounds)) > 100
