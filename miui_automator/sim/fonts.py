"""Fonts for the simulated phone's screenshots, and fitting text into a node's bounds.

A phone can speak any language MIUI ships, so screenshots draw each character with a face that
has it (otherwise OCR-style checks and humans looking at failures see tofu boxes):

* the UI face is Noto Sans CJK SC (``manimgx-fonts-cjk``): it covers Latin, Greek, Cyrillic and
  the CJK ideographs, kana and hangul. It is the one Noto CJK build on PyPI; we take only its
  font file, pinned to a named weight (the variable TTC's default instance is Thin);
* characters it lacks fall back, per character, to the Noto families packaged per script by
  ``fontpkg`` (generated from google/fonts, OFL, one small package per family, versions that
  follow upstream): Noto Sans (Latin extended, IPA letters, pseudo-locale accents), Noto Sans
  Devanagari, Noto Sans Arabic, Noto Sans Thai. A run of Devanagari is drawn with the
  Devanagari face and shaped by Raqm when Pillow has it; combining marks stay with their base.

When the packages are missing the renderer still works: DejaVu Sans, then Pillow's built-in
font (Latin only, other scripts show as boxes, but nothing crashes).
"""

from __future__ import annotations

import os
import unicodedata
from functools import lru_cache

from PIL import ImageFont, features

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


# Fallback families, in the order they are tried after the UI face (fontpkg names).
FALLBACK_FAMILIES = ("Noto Sans", "Noto Sans Devanagari", "Noto Sans Arabic", "Noto Sans Thai")
_PROBE_SIZE = 32
_NOTDEF_PROBE = "\U0010fffd"  # a private-use code point no font maps: its rendering is .notdef


@lru_cache(maxsize=None)
def fallback_paths() -> tuple[str, ...]:
    """Files of the installed fallback families (empty when fontpkg or a family is missing)."""
    try:
        import fontpkg
    except ImportError:
        return ()
    paths = []
    for family in FALLBACK_FAMILIES:
        try:
            paths.append(str(fontpkg.path(family)))
        except Exception:  # family not installed: that script falls back further
            continue
    return tuple(paths)


def _open(path: str, size: int, weight: str, index: int = 0) -> ImageFont.FreeTypeFont:
    complex_layout = features.check("raqm") and path != cjk_font_path()
    layout = ImageFont.Layout.RAQM if complex_layout else ImageFont.Layout.BASIC
    face = ImageFont.truetype(path, size, index=index, layout_engine=layout)
    try:
        face.set_variation_by_name(weight)
    except (OSError, ValueError):  # a static face, or one without that named instance
        pass
    return face


@lru_cache(maxsize=None)
def _probe(path: str) -> tuple[ImageFont.FreeTypeFont, tuple]:
    face = _open(path, _PROBE_SIZE, "Regular", _CJK_SC_INDEX if path == cjk_font_path() else 0)
    return face, _mask(face, _NOTDEF_PROBE)


def _mask(face: ImageFont.FreeTypeFont, ch: str) -> tuple:
    m = face.getmask(ch)
    return m.size, bytes(m)


@lru_cache(maxsize=65536)
def covers(path: str, ch: str) -> bool:
    """Whether the font at ``path`` has a glyph for ``ch`` (its rendering is not .notdef)."""
    face, notdef = _probe(path)
    return _mask(face, ch) != notdef


class FontStack:
    """The UI face plus per-script fallbacks, used like one font: ``getlength`` and drawing
    split the text into runs, each drawn with the first face that has its characters."""

    def __init__(self, primary: Font, primary_path: str | None, fallbacks: list[tuple[str, ImageFont.FreeTypeFont]]) -> None:
        self.primary = primary
        self.primary_path = primary_path
        self.fallbacks = fallbacks
        self.size = getattr(primary, "size", 10)

    def _face_for(self, ch: str) -> Font:
        if ch.isspace() or (self.primary_path is None and not self.fallbacks):
            return self.primary
        if self.primary_path is None or not covers(self.primary_path, ch):
            for path, face in self.fallbacks:
                if covers(path, ch):
                    return face
        return self.primary

    def runs(self, text: str) -> list[tuple[Font, str]]:
        """``text`` cut into (face, run); a combining mark stays in its base character's run, and
        so does a space (so that a phrase of Arabic is one run, shaped and ordered as a whole)."""
        out: list[tuple[Font, str]] = []
        for ch in text:
            keep = out and (ch.isspace() or unicodedata.category(ch).startswith("M"))
            face = out[-1][0] if keep else self._face_for(ch)
            if out and out[-1][0] is face:
                out[-1] = (face, out[-1][1] + ch)
            else:
                out.append((face, ch))
        return out

    def getlength(self, text: str) -> float:
        return sum(face.getlength(run) for face, run in self.runs(text))

    def getmetrics(self) -> tuple[int, int]:
        return self.primary.getmetrics() if isinstance(self.primary, ImageFont.FreeTypeFont) else (self.size, 4)


def stack(size: int, weight: str = "Regular") -> FontStack:
    """The UI face at ``size`` px with the per-script fallbacks (cached with the UI face)."""
    return _stack(font(size, weight), size, weight)


@lru_cache(maxsize=None)
def _stack(primary: Font, size: int, weight: str) -> FontStack:
    fallbacks = []
    for path in fallback_paths():
        try:
            fallbacks.append((path, _open(path, size, weight)))
        except OSError:
            continue
    return FontStack(primary, getattr(primary, "path", None), fallbacks)


def line_height(face: "Font | FontStack") -> int:
    if isinstance(face, FontStack):
        face = face.primary
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
