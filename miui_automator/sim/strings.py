"""The simulated phone's string resources: loaded from ``strings.xml`` folders, decoded the way
Android's resource compiler decodes them, and resolved in the phone's locale with Android's
fallback (``values-pt-rBR`` → ``values-pt`` → ``values``).

A folder holds translation sets in the layout ROM translation projects use,
``<App>.apk/res/values[-<qualifier>]/strings.xml``. The project's own defaults (English and
Chinese, only the keys the simulator shows) live in ``sim/res/``; ``--strings DIR`` folders are
laid over them, later ones winning per (app, qualifier, key). miuix is a library every MIUI
app bundles, so its strings are part of every app's table (the app's own key wins).

Why decoding matters: a ``strings.xml`` value is not its text. ``\\'``, ``\\"``, ``\\n``,
``\\uXXXX``, ``"quoted  spans"``, collapsed whitespace, ``<xliff:g>`` and ``@string/`` references
are all resolved by aapt2 before the value lands in ``resources.arsc``; the simulator shows
(and packs into its APKs) what a real phone shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lxml import etree

from ..errors import ConfigError

BUILTIN_DIR = Path(__file__).with_name("res")
LIBRARY_APP = "miuix"  # bundled into every app's resource table
PSEUDO_ACCENT = ("en", "XA")  # Android's accented pseudo-locale
# BCP 47 language → the legacy code Android's resource folders (and resources.arsc) still use.
LEGACY_LANGUAGE = {"id": "in", "he": "iw", "yi": "ji"}
MODERN_LANGUAGE = {v: k for k, v in LEGACY_LANGUAGE.items()}
MAX_REFERENCE_DEPTH = 8
_QUALIFIER = re.compile(r"^values(?:-([a-z]{2,3})(?:-r([A-Z]{2}|[0-9]{3}))?)?$")
_LOCALE = re.compile(r"^([A-Za-z]{2,3})(?:[-_]r?([A-Za-z]{2}|[0-9]{3}))?$")


@dataclass(frozen=True)
class Locale:
    """A phone locale as the phone reports it (``id-ID``), with its resource spelling (``in-rID``)."""

    language: str  # modern ISO 639 code, lower case
    region: str = ""  # ISO 3166 code, upper case, or ""

    @classmethod
    def parse(cls, tag: str) -> "Locale":
        m = _LOCALE.match(tag.strip())
        if not m:
            raise ConfigError(f"locale {tag!r}: expected a language and optional region like de-DE, pt-BR or id-ID")
        lang = m.group(1).lower()
        return cls(MODERN_LANGUAGE.get(lang, lang), (m.group(2) or "").upper())

    @property
    def tag(self) -> str:
        """What ``persist.sys.locale`` holds: ``de-DE``, ``id-ID``."""
        return f"{self.language}-{self.region}" if self.region else self.language

    @property
    def resource_language(self) -> str:
        return LEGACY_LANGUAGE.get(self.language, self.language)

    @property
    def qualifiers(self) -> tuple[str, ...]:
        """Android's fallback chain of resource qualifiers: ``in-rID``, ``in``, ``""`` (default)."""
        lang = self.resource_language
        chain = [f"{lang}-r{self.region}"] if self.region else []
        return (*chain, lang, "")

    @property
    def pseudo(self) -> bool:
        return (self.language, self.region) == PSEUDO_ACCENT


def qualifier_of(folder: str) -> str | None:
    """``values-pt-rBR`` → ``pt-rBR``, ``values`` → ``""``, anything else (``values-night``) → None."""
    m = _QUALIFIER.match(folder)
    if not m:
        return None
    lang, region = m.group(1), m.group(2)
    if lang is None:
        return ""
    return f"{lang}-r{region}" if region else lang


# ---------------------------------------------------------------- decoding one <string>
def decode(raw: str) -> str:
    """A ``<string>``'s text as aapt2 compiles it: quotes and escapes resolved, whitespace
    outside quotes collapsed to one space and trimmed."""
    out: list[str] = []
    soft: list[bool] = []  # True for a collapsed (trimmable) space
    quoted = False
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == "\\" and i + 1 < len(raw):
            nxt = raw[i + 1]
            i += 2
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", raw[i:i + 4]):
                out.append(chr(int(raw[i:i + 4], 16)))
                i += 4
            else:
                out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
            soft.append(False)
            continue
        i += 1
        if c == '"':
            quoted = not quoted
        elif c.isspace() and not quoted:
            if not (soft and soft[-1]):
                out.append(" ")
                soft.append(True)
        else:
            out.append(c)
            soft.append(False)
    while soft and soft[-1]:
        out.pop(), soft.pop()
    start = 0
    while start < len(soft) and soft[start]:
        start += 1
    return "".join(out[start:])


def android_format(template: str, *args: object) -> str:
    """``String.format`` for the few specifiers string resources use: ``%s``, ``%d``, ``%1$s``, ``%%``."""
    counter = iter(range(len(args)))

    def sub(m: re.Match) -> str:
        if m.group(0) == "%%":
            return "%"
        index = int(m.group(1)) - 1 if m.group(1) else next(counter, len(args))
        return str(args[index]) if index < len(args) else m.group(0)

    return re.sub(r"%%|%(?:(\d+)\$)?[sd]", sub, template)


# ---------------------------------------------------------------- pseudo-localisation
_ACCENTS = dict(zip(
    "abcdefghijklmnopqrstuvwxyzABCDEGHIJKLMNOPQRSTUVWXYZ!?$",
    "åɓçðéƒĝĥîĵķļḿñöþQŕšţûVŵхýžÅβÇÐÉĜĤÎĴĶĻḾÑÖÞqŔŠŢÛνŴ×ÝŽ¡¿€"))
_EXPANSION = ("one two three four five six seven eight nine ten eleven twelve thirteen "
              "fourteen fiveteen sixteen seventeen nineteen twenty")
_PLACEHOLDER_END = set("sScCdoxXfeEgGaAbBhH%n")


def _expansion(length: int) -> str:
    result = _EXPANSION
    if len(result) < length:
        return result + " " + _expansion(length - len(result) - 1)
    ext = 0
    for i in range(length + 1, len(result)):
        ext += 1
        if result[i] == " ":
            break
    return result[:length + ext]


def pseudolocalize(text: str) -> str:
    """Android's accented pseudo-locale (en-XA), as aapt2 builds it: letters accented,
    placeholders kept (and marked »%s«), HTML left alone, padded with number words by about
    half the text's length, and bracketed: ``Sign out`` → ``[Šîĝñ öûţ one two]``."""
    out: list[str] = []
    length = words = 0
    lastspace = True
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "%":
            chunk = c
            while i + 1 < n:
                i += 1
                c = text[i]
                chunk += c
                if c in _PLACEHOLDER_END:
                    break
                if c == "t" and i + 1 < n:
                    i += 1
                    chunk += text[i]
                    break
            out.append(chunk if c == "%" else f"\u00bb{chunk}\u00ab")
        elif c == "<":
            end = text.find(">", i)
            end = n - 1 if end < 0 else end
            out.append(text[i:end + 1])
            i = end
        elif c in _ACCENTS:
            out.append(_ACCENTS[c])
            length += 1
        else:
            space = c in " \t\n"
            if lastspace and not space:
                words += 1
            lastspace = space
            out.append(c)
            length += 1
        i += 1
    tail = " " + _expansion(length if words > 3 else length // 2) if length else ""
    return "[" + "".join(out) + tail + "]"


# ---------------------------------------------------------------- loading folders
Table = dict[str, dict[str, dict[str, str]]]  # app → qualifier → key → raw decoded value


def _parse_file(path: Path) -> dict[str, str]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, huge_tree=False)
    try:
        root = etree.parse(str(path), parser).getroot()
    except (etree.XMLSyntaxError, OSError) as e:
        line = getattr(e, "lineno", None) or (e.position[0] if hasattr(e, "position") else 0)
        raise ConfigError(f"{path}:{line}: not a readable strings.xml ({str(e).splitlines()[0] if str(e) else e})") from None
    strings: dict[str, str] = {}
    for el in root.iter("string"):
        name = el.get("name")
        if name:
            strings[name] = decode("".join(el.itertext()))
    return strings


@lru_cache(maxsize=64)
def load_folder(folder: str) -> Table:
    """Every ``<App>.apk/res/values*/strings.xml`` under ``folder``; qualifiers that are no locale
    (``values-night``) are skipped, as they do not change texts."""
    root = Path(folder)
    if not root.is_dir():
        raise ConfigError(f"--strings {folder}: not a directory")
    table: Table = {}
    for apk in sorted(root.glob("*.apk")):
        app = apk.name[:-4]
        for values in sorted((apk / "res").glob("values*")):
            qualifier = qualifier_of(values.name)
            xml = values / "strings.xml"
            if qualifier is None or not xml.is_file():
                continue
            table.setdefault(app, {}).setdefault(qualifier, {}).update(_parse_file(xml))
    return table


class Resources:
    """String tables of every simulated app: built-in defaults, a variant's own wording, and
    ``--strings`` folders laid over them. Immutable once built; phones share them."""

    def __init__(self, layers: list[Table]) -> None:
        self.tables: Table = {}
        for layer in layers:
            for app, configs in layer.items():
                for qualifier, strings in configs.items():
                    self.tables.setdefault(app, {}).setdefault(qualifier, {}).update(strings)

    def apps(self) -> list[str]:
        return sorted(self.tables)

    def qualifiers(self, app: str) -> list[str]:
        """The locale configurations of ``app`` (its own and the bundled library's)."""
        mine = set(self.tables.get(app, {})) | set(self.tables.get(LIBRARY_APP, {}))
        return sorted(mine)

    def config(self, app: str, qualifier: str) -> dict[str, str]:
        """Every string of ``app`` in exactly one configuration, references resolved."""
        merged = dict(self.tables.get(LIBRARY_APP, {}).get(qualifier, {}))
        merged.update(self.tables.get(app, {}).get(qualifier, {}))
        lang = qualifier.partition("-r")[0]
        chain = tuple(dict.fromkeys((qualifier, lang, "")))  # where an @string/ reference looks, as at run time
        return {k: self._deref(app, v, chain, 0) for k, v in merged.items()}

    def _lookup(self, app: str, key: str, chain: tuple[str, ...]) -> str | None:
        for qualifier in chain:
            for source in (app, LIBRARY_APP):
                value = self.tables.get(source, {}).get(qualifier, {}).get(key)
                if value is not None:
                    return value
        return None

    def _deref(self, app: str, value: str, chain: tuple[str, ...], depth: int) -> str:
        if value.startswith("@string/") and depth < MAX_REFERENCE_DEPTH:
            target = self._lookup(app, value[len("@string/"):], chain)
            if target is not None:
                return self._deref(app, target, chain, depth + 1)
        return value

    def resolve(self, app: str, key: str, locale: Locale) -> str | None:
        """The text ``app`` shows for ``key`` on a phone in ``locale``, or None when no
        configuration (not even the default) has it."""
        value = self._lookup(app, key, locale.qualifiers)
        if value is None:
            return None
        text = self._deref(app, value, locale.qualifiers, 0)
        if locale.pseudo and self._lookup(app, key, locale.qualifiers[:1]) is None:
            return pseudolocalize(text)
        return text


def load_strings(folders: "tuple[str, ...] | list[str]") -> None:
    """Read every folder now, so a bad file fails (``ConfigError`` naming file:line) before phones start."""
    for folder in folders:
        load_folder(str(Path(folder).resolve()))


@lru_cache(maxsize=32)
def resources(overrides: tuple[tuple[str, str, str], ...] = (), folders: tuple[str, ...] = ()) -> Resources:
    """The built-in tables, a variant's default-language ``overrides`` ((app, key, text)), then
    ``folders`` in order. Cached: every phone of a simulator shares one."""
    variant_layer: Table = {}
    for app, key, text in overrides:
        variant_layer.setdefault(app, {}).setdefault("", {})[key] = text
    return Resources([load_folder(str(BUILTIN_DIR)), variant_layer, *(load_folder(str(Path(f).resolve())) for f in folders)])
