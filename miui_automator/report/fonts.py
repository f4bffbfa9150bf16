"""Fonts inside report.html for the scripts a viewer's machine may lack.

A report is opened later, elsewhere, often offline: a lab PC without CJK fonts showed Chinese labels
as empty boxes. Latin, Greek and Cyrillic are drawn by the system faces every desktop has (the CSS
stack names them); for CJK, Devanagari, Arabic and Thai the report carries its own Noto face,
subset with fontTools to the characters the report uses (a few kB each) and embedded as a
``data:`` URI like the screenshots, so the one file stays self-contained. The faces come from Python
packages that redistribute Noto unmodified: ``fontpkg-noto-sans-*`` (google/fonts, OFL) per script, and
Noto Sans CJK from ``manimgx-fonts-cjk``, the only packaged Noto CJK the project can install (the
simulator draws with it too). A script whose package is missing is left to the viewer's fonts. Subsets are kept on disk under the
tool's data folder (``fonts/``), so only the first report with a given set of characters parses the font.

The template names these faces *first* in its font stacks: each applies only to its own script
(``unicode-range``), and a web face listed after a system face that lacks a character is skipped
while it loads, so a headless browser's screenshot caught the fallback's empty boxes.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import os
import re
import threading
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..backup.records import data_home
from ..private_files import open_private, private_dir

MARKER = "/* report fonts */"
"""Where the template's stylesheet receives the ``@font-face`` rules."""
CJK_FILE = "NotoSansCJK-VF.otf.ttc"
CJK_SC_INDEX = 2  # the collection's Simplified Chinese face, which covers kana and hangul too
_ASCII_RUNS = re.compile(r"[\x00-\x7f]+")
CACHE_DIR = "fonts"
CACHE_FORMAT = 1
_OPENTYPE_MAGIC = (b"OTTO", b"\x00\x01\x00\x00", b"true")


@dataclass(frozen=True)
class ScriptFace:
    family: str  # the name the report template's font stacks use
    source: str  # fontpkg family name, or "cjk"
    ranges: tuple[tuple[int, int], ...]

    def covers(self, ch: str) -> bool:
        cp = ord(ch)
        return any(lo <= cp <= hi for lo, hi in self.ranges)

    def unicode_range(self) -> str:
        return ", ".join(f"U+{lo:04X}-{hi:04X}" for lo, hi in self.ranges)


FACES = (
    ScriptFace("Report CJK", "cjk", ((0x1100, 0x11FF), (0x2E80, 0x2FFF), (0x3000, 0x30FF), (0x3100, 0x9FFF),
                                     (0xAC00, 0xD7AF), (0xF900, 0xFAFF), (0xFF00, 0xFFEF))),
    ScriptFace("Report Devanagari", "Noto Sans Devanagari", ((0x0900, 0x097F), (0xA8E0, 0xA8FF))),
    ScriptFace("Report Arabic", "Noto Sans Arabic", ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF),
                                                     (0xFB50, 0xFDFF), (0xFE70, 0xFEFF))),
    ScriptFace("Report Thai", "Noto Sans Thai", ((0x0E00, 0x0E7F),)),
)


def _font_file(source: str) -> tuple[str, int] | None:
    """(path, index in a collection) of a script's font, or None when its package is not installed."""
    if source == "cjk":
        try:
            import manimgx_fonts_cjk
        except ImportError:
            return None
        path = os.path.join(os.path.dirname(manimgx_fonts_cjk.__file__), CJK_FILE)
        return (path, CJK_SC_INDEX) if os.path.exists(path) else None
    try:
        import fontpkg

        return str(fontpkg.path(source)), 0
    except Exception:  # noqa: BLE001 - fontpkg raises its own lookup errors when a family is not installed
        return None


_SUBSETTING = threading.Lock()


def _subset(source: str, chars: str) -> bytes | None:
    """The font of ``source`` cut down to ``chars`` (an OpenType file), or None when unavailable.

    One subset is built at a time. A fleet renders its phones' reports at about the same moment, all
    needing the same characters, and each build parses the whole font (the CJK one: about a second of
    CPU and tens of MB): without the lock every report built its own copy concurrently (bench/fleet_bench.py
    measured 16 phones' reports taking 15 s and 300 MB), with it the first builds and the rest reuse it."""
    with _SUBSETTING:
        return _build_subset(source, chars)


@lru_cache(maxsize=64)
def _build_subset(source: str, chars: str) -> bytes | None:
    """The subset from this process's memory, else from the disk cache, else built (and cached on disk).

    The disk cache spares every later run the font parse: a report of a Chinese phone paid about 0.8 s
    of CPU for its CJK subset in every process. A file is keyed by the font file (path, size, mtime) and
    the characters, so an updated font or another text is a miss; one that is not an OpenType file is
    built again."""
    found = _font_file(source)
    if found is None:
        return None
    cached = _cache_path(found, chars)
    if cached is not None:
        try:
            data = cached.read_bytes()
            if data[:4] in _OPENTYPE_MAGIC:
                return data
        except OSError:
            pass
    data = _make_subset(*found, chars)
    if data is not None and cached is not None:
        _write_cache(cached, data)
    return data


def _cache_path(found: tuple[str, int], chars: str) -> Path | None:
    path, index = found
    try:
        st = os.stat(path)
    except OSError:
        return None
    key = "\0".join((str(CACHE_FORMAT), path, str(index), str(st.st_size), str(st.st_mtime_ns), chars))
    return data_home() / CACHE_DIR / f"{hashlib.sha256(key.encode('utf-8')).hexdigest()}.otf"


def _write_cache(path: Path, data: bytes) -> None:
    """Written under a temporary name and renamed into place, so a concurrent reader never sees half a file;
    a home that cannot be written only costs the next run the build."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    try:
        private_dir(path.parent)
        with open_private(tmp, "xb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def _make_subset(path: str, index: int, chars: str) -> bytes | None:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.hinting = False  # screens scale it anyway; hints are most of a subset's bytes
    options.notdef_outline = True
    try:
        # the source's own timestamp, not the time of the build: the same characters give the same bytes
        font = TTFont(path, fontNumber=index, lazy=True, recalcTimestamp=False)
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=chars)
        subsetter.subset(font)
        out = io.BytesIO()
        font.save(out)
    except Exception:  # noqa: BLE001 - a broken font file must not stop the report: the viewer's fonts remain
        return None
    return out.getvalue()


def font_faces(text: str) -> str:
    """``@font-face`` rules embedding, for each script of :data:`FACES` present in ``text``, its face subset to
    the characters used."""
    rules = []
    used = set(_ASCII_RUNS.sub("", text))  # the distinct non-ASCII characters, at C speed: a report is megabytes
    for face in FACES:
        chars = "".join(sorted(ch for ch in used if face.covers(ch)))
        if not chars:
            continue
        data = _subset(face.source, chars)
        if data is None:
            continue
        rules.append(f'@font-face {{ font-family: "{face.family}"; src: url(data:font/otf;base64,'
                     f'{base64.b64encode(data).decode("ascii")}); unicode-range: {face.unicode_range()}; }}')
    return "\n".join(rules)


def embed_fonts(html: str) -> str:
    """``html`` with the faces its text needs put at the template's :data:`MARKER`."""
    return html.replace(MARKER, font_faces(html), 1)
