"""The previews report.html embeds for each saved screenshot: a thumbnail and a view large enough to read.

Making them is most of a report's CPU: a reduced decode and two JPEG encodes per frame. Two things keep
that off the end of a run, where a fleet's phones would all queue for it at once (bench/fleet_bench.py):

- Previews are keyed by the bytes of the file, so a frame a run saved twice (a step's after-frame is often
  the next step's before-frame) is made once per report.
- The writer of the run folder hands each displayed frame to :func:`prepare` as it saves it, while the run
  waits on the phone; rendering then takes the prepared previews (:func:`of_file`) instead of making them.
  A preview prepared n times (phones showing the very same frame) is made once and handed out n times, so
  the store holds only those of runs not rendered yet, and at most :data:`MAX_PREPARED` of them (a run
  killed before its report leaves its own behind).

Either way the previews are made from the bytes of the file, so a report is the same whoever made them.
"""

from __future__ import annotations

import base64
import hashlib
import io
import threading
from collections import OrderedDict
from pathlib import Path

from PIL import Image

from miui_automator.vision.frames import THUMB_WIDTH, thumbnail

VIEW_WIDTH = 540  # the in-page view of a screenshot: half a phone's width, a laptop screen's height
VIEW_QUALITY = 80
MAX_PREPARED = 256  # a 64-phone fleet's displayed frames between saving and rendering, ~100 kB each

Previews = tuple[str | None, str | None]
"""(thumbnail, view) as ``data:`` URIs; (None, None) for a file that does not decode."""

_prepared: OrderedDict[str, tuple[Previews, int]] = OrderedDict()  # by the bytes: previews, reports still to take them
_lock = threading.Lock()


def _key(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def make(data: bytes) -> Previews:
    """The previews of one saved screenshot (JPEG or PNG bytes), decoded once at reduced size."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.draft("RGB", (VIEW_WIDTH, 1))  # JPEG decodes at a fraction of full size: much faster
            view = img.convert("RGB")
            if view.width > VIEW_WIDTH:
                view = view.reduce(max(1, round(view.width / VIEW_WIDTH)))
            buf = io.BytesIO()
            view.save(buf, "JPEG", quality=VIEW_QUALITY)
            small = view.reduce(max(1, view.width // THUMB_WIDTH))  # box-filter most of the way: cheap
            return _data_uri(thumbnail(small)), _data_uri(buf.getvalue())
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None, None


def prepare(data: bytes) -> None:
    """Make the previews of a screenshot just saved with these bytes, for the report rendered later."""
    key = _key(data)
    with _lock:
        if key in _prepared:
            made, takers = _prepared[key]
            _prepared[key] = made, takers + 1
            return
    made = make(data)
    with _lock:
        _, takers = _prepared.get(key, (None, 0))  # another writer made it meanwhile
        _prepared[key] = made, takers + 1
        while len(_prepared) > MAX_PREPARED:
            _prepared.popitem(last=False)


def of_file(path: Path, seen: dict[str, Previews]) -> Previews:
    """The previews of the saved screenshot at ``path``: as already made for this report (``seen``, by the
    file's bytes), as prepared when it was saved, or made now."""
    try:
        data = path.read_bytes()
    except OSError:
        return None, None
    key = _key(data)
    if key not in seen:
        with _lock:
            made, takers = _prepared.pop(key, (None, 0))
            if takers > 1:
                _prepared[key] = made, takers - 1
        seen[key] = made if made is not None else make(data)
    return seen[key]


def _data_uri(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
