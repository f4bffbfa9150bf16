"""Placeholder renderer (replaced by the real Pillow renderer)."""
from __future__ import annotations

import io

from PIL import Image


def render(windows, width, height, *, black=False):
    return Image.new("RGB", (width, height), (0, 0, 0) if black else (255, 255, 255))


def encode(image, fmt="png", *, quality=80, scale=1.0):
    buf = io.BytesIO()
    image.save(buf, "JPEG" if fmt.lower() in ("jpg", "jpeg") else "PNG")
    return buf.getvalue()
