"""The simulated apps as installed packages: each a real APK file at its real path, carrying its
string resources in every locale the phone's tables hold, and the phone's language settings.

A real tool reads a phone's words from these files (``pm path``, then ``unzip -p APK
resources.arsc`` or ``adb pull``), so they must hold exactly what the screens show. APKs are
built once per (app, variant, string tables) and shared by every phone of the process; the
version code carries a digest of the table, so two phones with different ``--strings`` folders
never share a version code (a tool caching per version code stays right). The phones' file
systems share the bytes (``VirtualFS.add_shared``): fifty phones hold one copy.
"""

from __future__ import annotations

import hashlib
import json
import stat

from .apk_build import build_apk
from .labels import APPS
from .state import Package, PhoneState
from .strings import LIBRARY_APP, Locale, Resources, pseudolocalize
from .variants import Variant

SYSTEM_MTIME = 1_230_768_000  # 2009-01-01: the fixed timestamp of files on a system image
PSEUDO_QUALIFIER = "en-rXA"


def apply_locale(state: PhoneState, locale: Locale) -> None:
    """The phone's language, where Android keeps it: ``persist.sys.locale`` and the system
    setting ``system_locales`` (the first of the user's language list)."""
    state.props["persist.sys.locale"] = locale.tag
    state.settings.setdefault("system", {})["system_locales"] = locale.tag


def app_configs(resources: Resources, app: str) -> dict[str, dict[str, str]]:
    """Every configuration of ``app`` as it goes into resources.arsc; like aapt2 with
    pseudo-localisation on, the default strings are also compiled into ``en-rXA``."""
    configs = {q: resources.config(app, q) for q in resources.qualifiers(app)}
    configs = {q: c for q, c in configs.items() if c}
    default = configs.get("", {})
    pseudo = configs.setdefault(PSEUDO_QUALIFIER, {})
    for key, text in default.items():
        pseudo.setdefault(key, pseudolocalize(text))
    return configs


_CACHE_SIZE = 64
_built: dict[tuple, tuple[bytes, int, str]] = {}


def _apk(app: str, resources: Resources, variant: Variant) -> tuple[bytes, int, str]:
    """(bytes, versionCode, versionName) of ``app``, built on first use. ``resources`` objects
    are shared and immutable (``strings.resources`` caches them), so they key by identity (the
    key holds the object, so its identity is never reused while the entry lives)."""
    key = (app, resources, variant.name, variant.props.get("ro.build.version.incremental"))
    if key not in _built:
        if len(_built) >= _CACHE_SIZE:
            del _built[next(iter(_built))]
        _built[key] = _build(app, resources, variant)
    return _built[key]


def _build(app: str, resources: Resources, variant: Variant) -> tuple[bytes, int, str]:
    package, _ = APPS[app]
    configs = app_configs(resources, app)
    digest = hashlib.sha256(json.dumps(configs, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    sdk = int(variant.props.get("ro.build.version.sdk", "33"))
    version_code = sdk * 1_000_000 + int(digest[:8], 16) % 1_000_000
    version_name = f"{variant.props.get('ro.build.version.incremental', '1.0')}-{digest[:6]}"
    return build_apk(package, version_code, version_name, configs), version_code, version_name


def install_apps(state: PhoneState, resources: Resources, variant: Variant) -> None:
    """Put every simulated app's APK at its path and record its version in the package list."""
    for app, (package, path) in APPS.items():
        if app == LIBRARY_APP:
            continue
        data, code, name = _apk(app, resources, variant)
        state.fs.add_shared(path, data, mode=stat.S_IFREG | 0o644, mtime=SYSTEM_MTIME)
        state.packages = [p for p in state.packages if p.name != package]
        state.packages.insert(0, Package(package, path, name, code, system=True))
