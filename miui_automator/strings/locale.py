"""The phone's language and Android's order of resource folders for it.

Android looks a string up in ``values-<lang>-r<REGION>``, then ``values-<lang>``, then ``values``;
a few languages keep their pre-ISO-639 codes in resource folders (Indonesian ``in``, Hebrew ``iw``,
Yiddish ``ji``) while the phone reports the modern ones (``id-ID``), so both spellings are tried.
"""

from __future__ import annotations

import re

from ..device.driver import Driver

DEFAULT = ""
"""The qualifier of the default folder (``values``)."""

LEGACY = {"id": "in", "in": "id", "he": "iw", "iw": "he", "yi": "ji", "ji": "yi"}
"""Language codes Android's resource folders spell the old way, both directions."""

_TAG = re.compile(r"(?P<lang>[A-Za-z]{2,3})(?:[-_](?P<script>[A-Za-z]{4}))?(?:[-_]r?(?P<region>[A-Za-z]{2}|\d{3}))?\Z")
_SETTING_UNSET = {"", "null"}


def normalise(tag: str) -> str | None:
    """A locale as the phone may write it (``de-DE``, ``de_DE``, ``pt-rBR``, ``zh-Hans-CN``) as ``lang-REGION``
    (``de-DE``, ``zh-CN``), or ``lang`` alone; None for text that is no locale."""
    m = _TAG.match(tag.strip())
    if m is None:
        return None
    lang = m.group("lang").lower()
    region = m.group("region")
    return f"{lang}-{region.upper()}" if region else lang


def qualifier_chain(locale: str) -> tuple[str, ...]:
    """The resource folder qualifiers to try for ``locale``, best first, ending with the default.

    ``pt-BR`` -> ``pt-rBR``, ``pt``, default; ``id-ID`` -> ``id-rID``, ``in-rID``, ``id``, ``in``, default.
    """
    norm = normalise(locale)
    if norm is None:
        return (DEFAULT,)
    lang, _, region = norm.partition("-")
    langs = [lang] + ([LEGACY[lang]] if lang in LEGACY else [])
    chain = [f"{code}-r{region}" for code in langs] if region else []
    chain += langs
    return tuple(chain) + (DEFAULT,)


def phone_locale(driver: Driver) -> str:
    """The language the phone shows: ``persist.sys.locale``, else the first of ``settings get system
    system_locales``, else ``ro.product.locale``; ``""`` when none says (the default folder then applies)."""
    for command in ("getprop persist.sys.locale", "settings get system system_locales", "getprop ro.product.locale"):
        out = driver.shell(command)
        first = out.output.strip().split(",")[0].strip() if out.exit_code == 0 else ""
        if first in _SETTING_UNSET:
            continue
        norm = normalise(first)
        if norm is not None:
            return norm
    return ""
