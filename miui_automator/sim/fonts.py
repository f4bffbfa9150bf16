"""Fonts for the simulated phone's screenshots, and fitting text into a node's bounds.

The China variant shows Chinese, so screenshots need a real CJK face (Noto Sans CJK SC from the
``manimgx-fonts-cjk`` package) — otherwise OCR-style checks and humans looking at failures see
tofu boxes. The package ships a *variable* TTC whose default instance is Thin, so every face is
pinned to a named weight. When the package is missing the renderer still works: DejaVu Sans, then
Pillow's built-in font (Latin only, CJK shows as boxes, but nothing crashes).
"""

from __future__ import annotations

import os
from functools import lru_cache

from PIL import ImageFont

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
_CJK_FILE = "NotoSansCJK-VF.otf.ttc"
_CJK_SC_INDEX = 2  # JP, KR, SC, TC, HK: index 2 is "Noto Sans CJK SC"
_DEJAVU_DIR = "/usr/share/fonts/truetype/dejavu"
ELLIPSIS = "\u2026"  # the CJK face draws it centred, as Chinese text wants
LATIN_ELLIPSIS = "..."  # ... and Latin text wants dots on the baseline


@lru_cache(maxsize=1)
def cjk_font_path() -> str | None:
    """Path of the Noto Sans CJK variable collection, or None when the package is absent."""
    try:
        import manimgx_fonts_cjk
    except ImportError:
        return None
    path = os.path.join(os.path.dirname(manimgx_fonts_cjk.__file__), _CJK_FILE)
    return path if os.path.exists(path) else None


@lru_cache(maxsize=None)
def font(size: int, weight: str = "Regular") -> Font:
    """The UI face at ``size`` px and a named weight (Regular, Medium, Bold, Light), cached."""
    path = cjk_font_path()
    if path is not None:
        try:
            face = ImageFont.truetype(path, size, index=_CJK_SC_INDEX, layout_engine=ImageFont.Layout.BASIC)
            face.set_variation_by_name(weight)
            return face
        except (OSError, ValueError):
            pass
    name = "DejaVuSans-Bold.ttf" if weight in ("Medium", "Bold") else "DejaVuSans.ttf"
    try:
        return ImageFont.truetype(os.path.join(_DEJAVU_DIR, name), size, layout_engine=ImageFont.Layout.BASIC)
    except OSError:
        return ImageFont.load_default(size)


def line_height(face: Font) -> int:
    if isinstance(face, ImageFont.FreeTypeFont):
        ascent, descent = face.getmetrics()
        return ascent + descent
    left, top, right, bottom = face.getbbox("Hg")
    return int(bottom - top) + 2


def _is_wide(ch: str) -> bool:
    return ord(ch) >= 0x2E80


def ellipsis_for(text: str) -> str:
    return ELLIPSIS if any(_is_wide(ch) for ch in text) else LATIN_ELLIPSIS


def ellipsize(text: str, face: Font, width: int) -> str:
    """``text`` cut to fit ``width`` px, ending in an ellipsis when it had to be cut."""
    if face.getlength(text) <= width:
        return text
    mark = ellipsis_for(text)
    lo, hi = 0, len(text)
    while lo < hi:  # longest prefix that still fits with the ellipsis
        mid = (lo + hi + 1) // 2
        if face.getlength(text[:mid].rstrip() + mark) <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + mark if lo else (mark if face.getlength(mark) <= width else "")


def _tokens(text: str) -> list[str]:
    """Break opportunities: every wide (CJK) character on its own, Latin words with their trailing space."""
    out: list[str] = []
    word = ""
    for ch in text:
        if _is_wide(ch):
            if word:
                out.append(word)
                word = ""
            out.append(ch)
        else:
            word += ch
            if ch == " ":
                out.append(word)
                word = ""
    if word:
        out.append(word)
    return out


def wrap(text: str, face: Font, width: int, max_lines: int) -> tuple[list[str], bool]:
    """Greedy line breaking; returns the lines (at most ``max_lines``, the last one ellipsised when
    text was left over) and whether everything fitted."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for token in _tokens(paragraph):
            candidate = current + token
            if not current or face.getlength(candidate.rstrip()) <= width:
                current = candidate
                continue
            lines.append(current.rstrip())
            current = token.lstrip()
        lines.append(current.rstrip())
    fitted = len(lines) <= max_lines and all(face.getlength(line) <= width for line in lines)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1] + ellipsis_for(text)
    return [ellipsize(line, face, width) for line in lines], fitted
