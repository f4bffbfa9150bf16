"""What PackageManager reads from an APK when it installs it: package, version, input methods.

The manifest inside an APK is binary XML; apkutils (the parser adbutils itself uses for
``install``) turns it into text, and this module picks out what the phone model needs. An
input method is a ``<service>`` guarded by ``android.permission.BIND_INPUT_METHOD`` that
answers the ``android.view.InputMethod`` intent; installing such an APK is what makes the
IME show up in ``ime list -a``.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass

ANDROID = "{http://schemas.android.com/apk/res/android}"
IME_PERMISSION = "android.permission.BIND_INPUT_METHOD"
IME_ACTION = "android.view.InputMethod"


@dataclass(frozen=True)
class ApkInfo:
    package: str
    version_name: str
    version_code: int
    input_methods: tuple[str, ...]  # fully qualified service classes


_CACHE_SIZE = 32
_cache: dict[str, ApkInfo | None] = {}  # by content digest: `ime list` re-reads installed APKs


def parse_apk(data: bytes) -> ApkInfo | None:
    """The manifest facts of ``data``, or None when it is not an APK PackageManager can parse."""
    digest = hashlib.sha256(data).hexdigest()
    if digest not in _cache:
        if len(_cache) >= _CACHE_SIZE:
            del _cache[next(iter(_cache))]
        _cache[digest] = _parse(data)
    return _cache[digest]


def _parse(data: bytes) -> ApkInfo | None:
    import apkutils

    try:
        with apkutils.APK.from_bytes(data) as apk:
            manifest = apk.get_manifest()
        root = ET.fromstring(manifest)
    except Exception:  # a zip that is no APK, a broken manifest: PackageManager's parse failure
        return None
    package = root.get("package")
    if not package:
        return None
    imes = []
    for service in root.iter("service"):
        actions = {a.get(ANDROID + "name") for f in service.iter("intent-filter") for a in f.iter("action")}
        if service.get(ANDROID + "permission") == IME_PERMISSION and IME_ACTION in actions:
            name = service.get(ANDROID + "name", "")
            imes.append(package + name if name.startswith(".") else name)
    code = root.get(ANDROID + "versionCode", "1")
    return ApkInfo(package, root.get(ANDROID + "versionName", "1.0"), int(code) if code.isdigit() else 1, tuple(imes))
