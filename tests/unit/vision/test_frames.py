"""Frame checks, differences and annotations over images made with Pillow."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFont

from miui_automator.errors import VerificationFailed
from miui_automator.vision import annotate, check_frame, decode_frame, frame_difference, frames_differ, thumbnail

SIZE = (1080, 2400)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size)


def valid_frame(title: str = "Settings", *, dark: bool = False) -> Image.Image:
    """A settings-like screen: title, list rows with text, a button."""
    bg, card, ink = ((0, 0, 0), (28, 28, 30), (235, 235, 235)) if dark else ((247, 247, 247), (255, 255, 255), (20, 20, 20))
    img = Image.new("RGB", SIZE, bg)
    draw = ImageDraw.Draw(img)
    draw.text((48, 24), "12:04", fill=ink, font=_font(36))
    draw.text((48, 180), title, fill=ink, font=_font(72))
    for i, row in enumerate(["Mi Account", "SIM cards & mobile networks", "Wi-Fi", "Bluetooth", "About phone"]):
        top = 380 + i * 190
        draw.rounded_rectangle((32, top, SIZE[0] - 32, top + 160), radius=28, fill=card)
        draw.text((80, top + 50), row, fill=ink, font=_font(48))
    draw.rounded_rectangle((80, 2140, 1000, 2280), radius=70, fill=(230, 90, 20))
    return img


def png(img: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def test_decode_png_and_jpeg() -> None:
    frame = valid_frame()
    assert decode_frame(png(frame)).size == SIZE
    decoded = decode_frame(png(frame, "JPEG"))
    assert decoded.size == SIZE and decoded.mode == "RGB"
    assert decode_frame(png(frame.convert("RGBA"))).mode == "RGB"


@pytest.mark.parametrize("data", [b"", b"not an image", png(Image.new("RGB", (4, 4)))[:30]])
def test_decode_garbage_fails_verification(data: bytes) -> None:
    with pytest.raises(VerificationFailed, match="screenshot does not decode"):
        decode_frame(data)


def test_valid_frame_passes() -> None:
    check = check_frame(valid_frame(), SIZE)
    assert check.ok and check.reason == ""
    assert check.size == SIZE
    assert check.stddev > 10 and check.distinct_colours > 10


def test_dark_mode_frame_with_content_is_not_black() -> None:
    check = check_frame(valid_frame(dark=True), SIZE)
    assert check.ok, check.reason


def test_black_frame_fails() -> None:
    check = check_frame(Image.new("RGB", SIZE, (0, 0, 0)), SIZE)
    assert not check.ok and "black" in check.reason
    assert check.mean == 0 and check.distinct_colours == 1


def test_near_black_noise_is_black() -> None:
    img = Image.effect_noise(SIZE, 4).point(lambda v: v // 40).convert("RGB")  # grey levels 0..6
    check = check_frame(img, SIZE)
    assert not check.ok and "black" in check.reason


@pytest.mark.parametrize("colour", [(255, 255, 255), (247, 247, 247), (30, 90, 200)])
def test_flat_frame_is_blank(colour: tuple[int, int, int]) -> None:
    check = check_frame(Image.new("RGB", SIZE, colour), SIZE)
    assert not check.ok and "blank" in check.reason


def test_wrong_size_fails_even_with_content() -> None:
    check = check_frame(valid_frame().resize((720, 1600)), SIZE)
    assert not check.ok
    assert "720x1600" in check.reason and "1080x2400" in check.reason


def test_size_not_checked_without_expected_size() -> None:
    assert check_frame(valid_frame().resize((720, 1600)), None).ok


def test_identical_frames_do_not_differ() -> None:
    a, b = valid_frame(), valid_frame()
    assert frame_difference(a, b) == 0.0
    assert not frames_differ(a, b)


def test_jpeg_noise_is_not_a_change() -> None:
    a = valid_frame()
    b = decode_frame(png(a, "JPEG"))
    assert not frames_differ(a, b)


def test_changed_screen_differs() -> None:
    a, b = valid_frame("Settings"), valid_frame("Mi Account")
    ImageDraw.Draw(b).rectangle((32, 380, 1048, 1300), fill=(255, 255, 255))
    share = frame_difference(a, b)
    assert 0.01 < share < 1.0
    assert frames_differ(a, b)


def test_clock_tick_is_below_default_threshold() -> None:
    a = valid_frame()
    b = a.copy()
    draw = ImageDraw.Draw(b)
    draw.rectangle((40, 20, 200, 70), fill=(247, 247, 247))
    draw.text((48, 24), "12:05", fill=(20, 20, 20), font=_font(36))
    assert 0 < frame_difference(a, b) < 0.002
    assert not frames_differ(a, b)


def test_different_sizes_are_entirely_different() -> None:
    assert frame_difference(valid_frame(), valid_frame().resize((720, 1600))) == 1.0


def test_annotate_tap_changes_pixels_near_the_point_only() -> None:
    frame = valid_frame()
    out = annotate(frame, tap=(540, 1200))
    assert out is not frame and out.size == SIZE
    assert frame.getpixel((540, 1200)) != out.getpixel((540, 1200))  # the dot
    r, g, b = out.getpixel((540, 1200))
    assert r > 180 and g < 80 and b < 80
    bbox = ImageChops.difference(frame, out).getbbox()
    assert bbox is not None
    left, top, right, bottom = bbox
    assert 400 < left and right < 680 and 1060 < top and bottom < 1340
    assert frame.getpixel((540, 1200)) == valid_frame().getpixel((540, 1200)), "the input image was changed"


def test_annotate_swipe_draws_along_the_path() -> None:
    frame = valid_frame()
    out = annotate(frame, swipe=((540, 2000), (540, 600)))
    diff = ImageChops.difference(frame, out)
    for y in (700, 1300, 1900):
        assert diff.getpixel((540, y)) != (0, 0, 0), f"no arrow drawn at y={y}"
    assert diff.getpixel((100, 1300)) == (0, 0, 0)


def test_annotate_label_adds_a_caption_strip_below() -> None:
    frame = valid_frame()
    out = annotate(frame, tap=(100, 100), label="3. Tap “Sign out” — 退出登录 " + "long words " * 20)
    assert out.width == frame.width and out.height > frame.height + 100
    strip = out.crop((0, frame.height, out.width, out.height)).convert("L")
    assert strip.getextrema()[1] > 200, "no light text in the caption strip"
    assert ImageChops.difference(frame.crop((0, 1500, 1080, 2400)), out.crop((0, 1500, 1080, 2400))).getbbox() is None


def test_annotate_accepts_other_modes() -> None:
    out = annotate(valid_frame().convert("RGBA"), tap=(10, 10), label="x")
    assert out.mode == "RGB"


def test_thumbnail_is_small_jpeg() -> None:
    data = thumbnail(valid_frame())
    thumb = Image.open(io.BytesIO(data))
    assert thumb.format == "JPEG"
    assert thumb.size == (216, 480)
    assert len(data) < 40_000


def test_timing_is_printed() -> None:
    frame = valid_frame()
    runs = 20
    start = time.perf_counter()
    for _ in range(runs):
        check_frame(frame, SIZE)
    check_ms = (time.perf_counter() - start) / runs * 1000
    start = time.perf_counter()
    for _ in range(runs):
        frame_difference(frame, frame)
    diff_ms = (time.perf_counter() - start) / runs * 1000
    print(f"\ncheck_frame 1080x2400: {check_ms:.2f} ms; frame_difference: {diff_ms:.2f} ms")
    assert check_frame(frame, SIZE).ok


def test_a_decompression_bomb_is_refused_before_its_pixels_are_decoded() -> None:
    bomb = png(Image.new("1", (5000, 5000)))  # a few kB that claim 25 million pixels
    assert len(bomb) < 100_000
    with pytest.raises(VerificationFailed, match="larger than any screen"):
        decode_frame(bomb)


def test_a_png_cut_off_midway_fails_now_not_when_saved() -> None:
    data = png(valid_frame())
    with pytest.raises(VerificationFailed, match="screenshot does not decode"):
        decode_frame(data[: len(data) // 2])
