"""A minimal resources.arsc writer for tests: one package, string resources only, per locale folder.

Just enough of the format (ResTable, UTF-8 string pools, one typeSpec and one type chunk per
locale) for a real parser to read, so the tool's reader is tested on real-format bytes without
the simulator's APK builder.
"""

from __future__ import annotations

import io
import struct
import zipfile

CONFIG_SIZE = 64


def _utf8_len(n: int) -> bytes:
    return bytes([n]) if n < 0x80 else bytes([0x80 | (n >> 8), n & 0xFF])


def _pool(strings: list[str]) -> bytes:
    data = b""
    offsets = []
    for s in strings:
        offsets.append(len(data))
        raw = s.encode("utf-8")
        data += _utf8_len(len(s)) + _utf8_len(len(raw)) + raw + b"\x00"
    data += b"\x00" * (-len(data) % 4)
    header_size = 28
    start = header_size + 4 * len(strings)
    body = b"".join(struct.pack("<I", o) for o in offsets) + data
    return struct.pack("<HHIIIIII", 0x0001, header_size, header_size + len(body), len(strings), 0, 1 << 8, start, 0) + body


def _config(qualifier: str) -> bytes:
    lang, region = b"\x00\x00", b"\x00\x00"
    if qualifier:
        parts = qualifier.split("-r")
        lang = parts[0].encode("ascii")
        if len(parts) > 1:
            region = parts[1].encode("ascii")
    return struct.pack("<II", CONFIG_SIZE, 0) + lang + region + b"\x00" * (CONFIG_SIZE - 12)


def build_arsc(package: str, locales: dict[str, dict[str, str]]) -> bytes:
    """``locales``: ``{qualifier: {key: text}}`` with ``""`` for the default folder."""
    keys = sorted({k for texts in locales.values() for k in texts})
    values = sorted({t for texts in locales.values() for t in texts.values()})
    value_index = {v: i for i, v in enumerate(values)}
    type_pool, key_pool = _pool(["string"]), _pool(keys)
    spec = struct.pack("<HHIBBHI", 0x0202, 16, 16 + 4 * len(keys), 1, 0, 0, len(keys)) + b"\x00" * 4 * len(keys)
    chunks = [spec]
    for qualifier, texts in locales.items():
        offsets, entries = [], b""
        for i, key in enumerate(keys):
            if key not in texts:
                offsets.append(0xFFFFFFFF)
                continue
            offsets.append(len(entries))
            entries += struct.pack("<HHI", 8, 0, i) + struct.pack("<HBBI", 8, 0, 0x03, value_index[texts[key]])
        header_size = 20 + CONFIG_SIZE
        start = header_size + 4 * len(keys)
        chunks.append(struct.pack("<HHIBBHII", 0x0201, header_size, start + len(entries), 1, 0, 0, len(keys), start)
                      + _config(qualifier) + b"".join(struct.pack("<I", o) for o in offsets) + entries)
    name = package.encode("utf-16-le")[:254].ljust(256, b"\x00")
    header_size = 288
    type_off = header_size
    key_off = type_off + len(type_pool)
    body = type_pool + key_pool + b"".join(chunks)
    pkg = struct.pack("<HHII", 0x0200, header_size, header_size + len(body), 0x7F) + name + \
        struct.pack("<IIIII", type_off, 1, key_off, len(keys), 0) + body
    pool = _pool(values)
    return struct.pack("<HHII", 0x0002, 12, 12 + len(pool) + len(pkg), 1) + pool + pkg


def build_apk(package: str, locales: dict[str, dict[str, str]]) -> bytes:
    """A zip holding a placeholder manifest and the table: enough for the pull fallback."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("AndroidManifest.xml", b"\x03\x00\x08\x00")
        z.writestr("resources.arsc", build_arsc(package, locales))
    return out.getvalue()
