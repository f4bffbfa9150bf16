"""Reading the string resources out of an APK's ``resources.arsc``.

The table is parsed by apkutils' ``ARSCParser`` (apkutils is already the tool's APK reader; its
parser is androguard's, maintained in apkutils): see docs/flows.md, "Naming a text by its string
resource", for why this library and not androguard, pyaxmlparser or apkInspector. This module is
the one place that knows the library, behind :func:`strings_from_arsc`.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from .locale import DEFAULT

ARSC_MAGIC = b"\x02\x00\x0c\x00"
"""A resource table starts with chunk type RES_TABLE_TYPE (2) and a 12-byte header."""

MAX_TEXT_CHARS = 2000
"""A label longer than this is no label: dropped, so a hostile table cannot bloat the cache."""


PARSED_KEPT = 16
"""Tables kept parsed in this process (by their SHA-256), most recently used first."""
_parsed: OrderedDict[bytes, dict[str, dict[str, str]]] = OrderedDict()
_lock = threading.Lock()


class ArscError(ValueError):
    """The bytes are not a resource table apkutils can read."""


def looks_like_arsc(data: bytes) -> bool:
    return data[:4] == ARSC_MAGIC


def strings_from_arsc(data: bytes) -> dict[str, dict[str, str]]:
    """``{qualifier: {key: text}}`` of every string resource of every package in the table (shared: do not change it).

    The qualifier is the folder's language and region as Android writes it (``""`` for ``values``,
    ``de``, ``pt-rBR``, ``in``); within one language the first entry of a key wins (folders that differ
    in other qualifiers, such as ``values-de-land``, are rare for strings). The same table read again in
    this process (another phone of a fleet whose cache file is not written yet, a locale not cached yet)
    is not parsed again.
    """
    if not looks_like_arsc(data):
        raise ArscError("not a resources.arsc (bad header)")
    digest = hashlib.sha256(data).digest()
    with _lock:
        if digest in _parsed:
            _parsed.move_to_end(digest)
            return _parsed[digest]
    table = _parse(data)
    with _lock:
        _parsed[digest] = table
        while len(_parsed) > PARSED_KEPT:
            _parsed.popitem(last=False)
    return table


def _parse(data: bytes) -> dict[str, dict[str, str]]:
    from apkutils.axml import ARSCParser  # imported here: only a run that resolves strings pays for it

    try:
        parser = ARSCParser(data)
        table: dict[str, dict[str, str]] = {}
        for package in parser.get_packages_names():
            for locale in parser.get_locales(package):
                qualifier = DEFAULT if locale == "\x00\x00" else str(locale)
                texts = table.setdefault(qualifier, {})
                for res in parser.get_resources(package, "string", locale):
                    value = res.value
                    if isinstance(value, str) and len(value) <= MAX_TEXT_CHARS:
                        texts.setdefault(str(res.name), value)
    except Exception as err:  # noqa: BLE001 - the table came from the phone: any parser failure is "unreadable"
        raise ArscError(f"resources.arsc does not parse: {type(err).__name__}: {' '.join(str(err).split())[:200]}") from None
    return table
