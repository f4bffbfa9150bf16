"""Checks that a screenshot is a real frame, how much two frames differ, and annotations for humans.

A step passes only when the hierarchy shows the expected screen AND the screenshot proves it
(docs/architecture.md, "The life of one step"). Screenshot paths fail quietly: adbutils hands back
a black image, a screen that is off or a secure window comes out as one flat colour, a capture of the
wrong display has the wrong size. These functions catch that, cheaply enough to run after every action:
every statistic is taken over a grey copy reduced to about 135x300 (Image.reduce is a box filter in C,
about 2 ms for a 1080x2400 frame), never over the full frame.

A JPEG frame from the phone is a :class:`PhoneFrame`: its statistics copy is decoded straight from the
JPEG at 1/8 scale and its full pixels only when something draws on or converts it, so what a run keeps
of a frame is the phone's bytes, not ~10 MB of pixels (bench/fleet_bench.py: memory per phone).

Everything here is a pure function over PIL images or bytes; saving files is the caller's business.
"""

from __future__ import annotations

import io
import math
import os
import threading
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageChops, ImageDraw, ImageFont, ImageStat, UnidentifiedImageError
from PIL.JpegImagePlugin import JpegImageFile

from miui_automator.errors import VerificationFailed

SAMPLE_SIZE = (135, 300)  # statistics are taken over a copy about this big
BLANK_STDDEV = 2.0  # grey standard deviation below this: one flat colour
BLACK_MEAN = 8.0  # grey mean below this, with next to nothing drawn on it: a black capture
BLACK_STDDEV = 8.0  # a dark-mode screen with text on it stays above this and is not "black"
DIFF_TOLERANCE = 12  # grey levels a sample pixel may move (JPEG noise, anti-aliasing) and still count as unchanged
DIFF_THRESHOLD = 0.002  # share of changed sample pixels that makes two frames "different"
_CHANGED = [0] * (DIFF_TOLERANCE + 1) + [255] * (255 - DIFF_TOLERANCE)  # grey difference -> changed (255) or not
MAX_FRAME_PIXELS = 4096 * 4096  # larger than any phone screen; a bigger "screenshot" is a decompression bomb
PHONE_JPEG = "miui_automator.phone_jpeg"  # key in Image.info: the JPEG bytes the phone sent for this frame
THUMB_WIDTH = 216
THUMB_QUALITY = 70

RED = (229, 28, 35)
WHITE = (255, 255, 255)
CAPTION_BG = (24, 24, 27)
_DEJAVU_DIR = "/usr/share/fonts/truetype/dejavu"
_CJK_FILE = "NotoSansCJK-VF.otf.ttc"
_CJK_SC_INDEX = 2  # Noto Sans CJK collection order: JP, KR, SC, TC, HK

Point = tuple[int, int]
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass(frozen=True)
class FrameCheck:
    """Verdict on one screenshot; ``reason`` says why it failed (empty when ``ok``)."""

    ok: bool
    reason: str
    size: tuple[int, int]
    mean: float
    stddev: float
    distinct_colours: int


class PhoneFrame(JpegImageFile):
    """A JPEG frame as the phone sent it: full pixels decoded only when first used, the statistics copy at once.

    The engine looks at a frame only through :func:`check_frame` and :func:`frame_difference`, which need
    the copy about SAMPLE_SIZE big: libjpeg decodes that straight from the JPEG at 1/8 scale (its DCT
    scaling averages each 8x8 block, like Image.reduce), in a third of a full decode's time. The run
    folder gets the phone's bytes as they came (``info[PHONE_JPEG]``), and drawing (:func:`annotate`,
    :func:`black_out`) decodes a fresh copy from them, so the frame the engine and the writer thread share
    stays the bytes and never becomes ~10 MB of pixels. Anything else that touches the pixels (saving as
    PNG, ``copy``) decodes it in full once, under a lock, as any Pillow image opened from a file would.
    """

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data))
        self.info[PHONE_JPEG] = data
        self._loading = threading.Lock()
        self.sample = _jpeg_sample(data, self.size)

    def load(self):
        with self._loading:
            return super().load()

    @property
    def decoded(self) -> bool:
        """True once the full pixels were decoded (into this object)."""
        return not self.tile


def _jpeg_sample(data: bytes, size: tuple[int, int]) -> Image.Image:
    """The statistics copy of a JPEG (as :func:`_sample` makes it), decoded at reduced scale; decoding reads
    every byte, so a truncated JPEG fails here, when it arrives."""
    factor = _sample_factor(size)
    small = Image.open(io.BytesIO(data))
    small.draft("RGB", (max(1, size[0] // factor), max(1, size[1] // factor)))  # 1/2, 1/4 or 1/8, never below
    small.load()
    rest = factor // max(1, round(size[0] / small.width))  # what the JPEG's own scaling left to do
    return small.reduce(rest) if rest > 1 else small


def decode_frame(data: bytes) -> Image.Image:
    """PNG or JPEG bytes as an RGB image; a capture that does not decode fails verification.

    An RGB JPEG (what uiautomator2 sends) comes back as a :class:`PhoneFrame`, its full pixels decoded on
    first use; anything else is decoded and loaded here. A JPEG frame carries its bytes in
    ``info[PHONE_JPEG]``: copies (``Image.copy``) carry them too, so a writer saves them only for the very
    image it was given, never for an edited copy.

    The bytes come from the phone: the size in the header is checked before any pixel is decoded
    (a decompression bomb), and every byte is decoded here (at reduced scale for a JPEG), so a truncated
    file fails now rather than when a caller later saves it.
    """
    if not data:
        raise VerificationFailed("screenshot does not decode: no bytes", size=0)
    try:
        img = Image.open(io.BytesIO(data))
        if img.width * img.height > MAX_FRAME_PIXELS:
            raise VerificationFailed(f"screenshot does not decode: {img.width}x{img.height} is larger than any "
                                     "screen (a decompression bomb)", size=len(data))
        if img.format == "JPEG" and img.mode == "RGB":
            return PhoneFrame(data)
        img.load()
        frame = img if img.mode == "RGB" else img.convert("RGB")
        if img.format == "JPEG":
            # kept with the frame, so a writer can save what the phone sent instead of encoding it again
            frame.info[PHONE_JPEG] = data
        return frame
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError,
            MemoryError) as exc:
        raise VerificationFailed(f"screenshot does not decode: {type(exc).__name__}: {exc}", size=len(data)) from None


def editable(img: Image.Image) -> Image.Image:
    """A new RGB image with the pixels of ``img``, to draw on; a :class:`PhoneFrame` not decoded yet is
    decoded afresh from its bytes, so the frame itself stays undecoded (and small)."""
    if isinstance(img, PhoneFrame) and not img.decoded:
        fresh = Image.open(io.BytesIO(img.info[PHONE_JPEG]))
        fresh.load()
        return fresh
    return img.convert("RGB") if img.mode != "RGB" else img.copy()


def _sample_factor(size: tuple[int, int]) -> int:
    return max(1, min(size[0] // SAMPLE_SIZE[0], size[1] // SAMPLE_SIZE[1]))


def _sample(img: Image.Image, *, reduced: bool = True) -> Image.Image:
    """A copy reduced by an integer factor to about SAMPLE_SIZE (box-averaged, so thin text still counts);
    a :class:`PhoneFrame`'s own, unless ``reduced`` is False."""
    if reduced and isinstance(img, PhoneFrame):
        return img.sample
    factor = _sample_factor(img.size)
    if img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    return img.reduce(factor) if factor > 1 else img.copy()


def check_frame(img: Image.Image, expected_size: tuple[int, int] | None) -> FrameCheck:
    """Is ``img`` a real frame: the window's size, not black, not one flat colour?"""
    small = _sample(img)
    colours = small.getcolors(small.width * small.height)
    distinct = len(colours) if colours is not None else small.width * small.height
    stat = ImageStat.Stat(small.convert("L"))
    mean, stddev = stat.mean[0], stat.stddev[0]
    reason = ""
    if expected_size is not None and tuple(img.size) != tuple(expected_size):
        reason = f"screenshot is {img.width}x{img.height}, the window is {expected_size[0]}x{expected_size[1]}"
    elif mean < BLACK_MEAN and stddev < BLACK_STDDEV:
        reason = f"screenshot is black (mean grey {mean:.1f})"
    elif stddev < BLANK_STDDEV:
        reason = f"screenshot is blank: one flat colour (grey stddev {stddev:.2f}, mean {mean:.0f})"
    return FrameCheck(not reason, reason, (img.width, img.height), round(mean, 2), round(stddev, 2), distinct)


def frame_difference(a: Image.Image, b: Image.Image) -> float:
    """Share (0..1) of sample pixels whose grey level moved by more than DIFF_TOLERANCE.

    Frames of different sizes are entirely different (1.0): a rotation or a different display is a change.
    """
    if a.size != b.size:
        return 1.0
    sa, sb = _sample(a), _sample(b)
    if sa.size != sb.size:  # a frame as the phone sent it beside one made otherwise: both the same way
        sa, sb = _sample(a, reduced=False), _sample(b, reduced=False)
    sa, sb = sa.convert("L"), sb.convert("L")
    changed = ImageChops.difference(sa, sb).point(_CHANGED)
    return changed.histogram()[255] / (sa.width * sa.height)


def frames_differ(a: Image.Image, b: Image.Image, threshold: float = DIFF_THRESHOLD) -> bool:
    """Did the screen visibly change? (A status-bar clock tick stays below the default threshold.)"""
    return frame_difference(a, b) > threshold


def _needs_cjk(text: str) -> bool:
    return any(ord(ch) >= 0x2E80 for ch in text)


@lru_cache(maxsize=8)
def _font(size: int, cjk: bool) -> Font:
    """A legible face: Noto Sans CJK for Chinese labels (from the manimgx-fonts-cjk package), else DejaVu Sans
    Bold, else Pillow's built-in scalable font — never a crash for lack of a font file."""
    if cjk:
        try:
            import manimgx_fonts_cjk

            path = os.path.join(os.path.dirname(manimgx_fonts_cjk.__file__), _CJK_FILE)
            face = ImageFont.truetype(path, size, index=_CJK_SC_INDEX)
            face.set_variation_by_name("Bold")  # the variable font's default instance is Thin
            return face
        except (ImportError, OSError, ValueError):
            pass
    try:
        return ImageFont.truetype(os.path.join(_DEJAVU_DIR, "DejaVuSans-Bold.ttf"), size)
    except OSError:
        return ImageFont.load_default(size)


def _wrap(text: str, face: Font, width: int) -> list[str]:
    """Greedy line breaking at spaces (and between CJK characters)."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for ch in paragraph:
            candidate = current + ch
            if face.getlength(candidate) <= width or not current:
                current = candidate
                continue
            cut = current.rfind(" ")
            if cut > 0 and not _needs_cjk(ch):
                lines.append(current[:cut])
                current = current[cut + 1:] + ch
            else:
                lines.append(current.rstrip())
                current = ch.lstrip()
        lines.append(current)
    return lines


def _ring(draw: ImageDraw.ImageDraw, centre: Point, radius: int, width: int) -> None:
    """A red ring with a white halo, so it shows on red, white and dark backgrounds alike."""
    x, y = centre
    halo = radius + width // 2 + 2
    draw.ellipse((x - halo, y - halo, x + halo, y + halo), outline=WHITE, width=width + 4)
    draw.ellipse((x - radius, y - radius, x + radius, y + radius), outline=RED, width=width)


def _dot(draw: ImageDraw.ImageDraw, centre: Point, radius: int) -> None:
    x, y = centre
    draw.ellipse((x - radius - 3, y - radius - 3, x + radius + 3, y + radius + 3), fill=WHITE)
    draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=RED)


def _arrow(draw: ImageDraw.ImageDraw, start: Point, end: Point, width: int) -> None:
    """A line from ``start`` to ``end`` with a filled head at ``end``, white-edged like the ring."""
    (x1, y1), (x2, y2) = start, end
    angle = math.atan2(y2 - y1, x2 - x1)
    head = width * 4.5
    spread = math.radians(28)
    left = (x2 - head * math.cos(angle - spread), y2 - head * math.sin(angle - spread))
    right = (x2 - head * math.cos(angle + spread), y2 - head * math.sin(angle + spread))
    neck = (x2 - head * 0.8 * math.cos(angle), y2 - head * 0.8 * math.sin(angle))
    for colour, extra in ((WHITE, 6), (RED, 0)):
        draw.line((start, neck), fill=colour, width=width + extra)
        draw.polygon((end, left, right), fill=colour, outline=colour, width=extra // 2 or 1)
    _dot(draw, start, width + 2)


BLACKOUT_MARGIN = 4  # pixels around a blacked-out box: anti-aliased glyph edges reach past a field's bounds


def black_out(img: Image.Image, boxes, margin: int = BLACKOUT_MARGIN) -> Image.Image:
    """A copy of ``img`` with every ``(left, top, right, bottom)`` box (screen pixels) filled black.

    Used to hide a typed secret a phone shows in plain text; boxes partly off the frame are clipped,
    and ``img`` itself is left as it is (the engine still compares the real frames).
    """
    out = editable(img)
    draw = ImageDraw.Draw(out)
    w, h = out.size
    for left, top, right, bottom in boxes:
        box = (max(0, left - margin), max(0, top - margin), min(w, right + margin) - 1, min(h, bottom + margin) - 1)
        if box[2] >= box[0] and box[3] >= box[1]:
            draw.rectangle(box, fill=(0, 0, 0))
    return out


def annotate(
    img: Image.Image,
    *,
    tap: Point | None = None,
    swipe: tuple[Point, Point] | None = None,
    label: str | None = None,
    box: tuple[int, int, int, int] | None = None,
) -> Image.Image:
    """A copy of ``img`` showing what the runner did: the target element's ``box`` outlined, a ring and dot
    at the tap, an arrow along the swipe, and the label in a caption strip added *below* the frame, so the
    evidence itself stays uncovered."""
    out = editable(img)
    scale = max(out.width, 1) / 1080
    line = max(3, round(10 * scale))
    draw = ImageDraw.Draw(out)
    if box is not None:
        left, top, right, bottom = (int(v) for v in box)
        if right > left and bottom > top:
            edge = max(2, line // 2)
            draw.rectangle((left - edge, top - edge, right + edge, bottom + edge), outline=WHITE, width=edge + 2)
            draw.rectangle((left, top, right, bottom), outline=RED, width=edge)
    if swipe is not None:
        (x1, y1), (x2, y2) = swipe
        _arrow(draw, (int(x1), int(y1)), (int(x2), int(y2)), line)
    if tap is not None:
        centre = (int(tap[0]), int(tap[1]))
        _ring(draw, centre, max(12, round(56 * scale)), line)
        _dot(draw, centre, max(4, round(14 * scale)))
    if not label:
        return out
    face = _font(max(12, round(40 * scale)), _needs_cjk(label))
    pad = max(6, round(24 * scale))
    lines = _wrap(label, face, out.width - 2 * pad)
    ascent, descent = face.getmetrics() if isinstance(face, ImageFont.FreeTypeFont) else (face.size, 4)
    line_h = ascent + descent + max(2, round(6 * scale))
    strip_h = 2 * pad + line_h * len(lines)
    framed = Image.new("RGB", (out.width, out.height + strip_h), CAPTION_BG)
    framed.paste(out, (0, 0))
    caption = ImageDraw.Draw(framed)
    caption.rectangle((0, out.height, out.width, out.height + max(2, line // 2)), fill=RED)
    for i, text in enumerate(lines):
        caption.text((pad, out.height + pad + i * line_h), text, fill=WHITE, font=face)
    return framed


def thumbnail(img: Image.Image, width: int = THUMB_WIDTH) -> bytes:
    """A small JPEG of ``img`` ``width`` px wide (aspect kept), for embedding in report timelines."""
    rgb = img.convert("RGB") if img.mode != "RGB" else img
    height = max(1, round(rgb.height * width / max(rgb.width, 1)))
    small = rgb.reduce(max(1, rgb.width // (width * 2))).resize((width, height), Image.LANCZOS)
    buf = io.BytesIO()
    small.save(buf, "JPEG", quality=THUMB_QUALITY, optimize=True)
    return buf.getvalue()
