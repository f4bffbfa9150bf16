"""The screen catalogue: MIUI screens declared as data (``catalogue.yaml``) and ``identify``.

Flows speak in screen names ("account", "wipe_confirm"); the catalogue is the one place that
knows what each of those looks like on MIUI 12.5, MIUI 14, HyperOS 1 and HyperOS 2, in English
and Chinese. Keeping signatures as data means a new ROM wording is a one-line YAML change and
every flow benefits. The YAML is validated completely at load time; errors name the line.

Identification works on an already parsed :class:`~miui_automator.device.hierarchy.Hierarchy`
through its indexes, so probing every signature after every action costs well under 2 ms.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from re import Pattern
from typing import Any

import yaml

from ..device.hierarchy import Hierarchy, HNode
from ..errors import ConfigError

UNKNOWN = "unknown"
DEFAULT_LABEL = "catalogue.yaml"

_NAME = re.compile(r"[a-z][a-z0-9_]*")
_PACKAGE = re.compile(r"[A-Za-z][\w]*(\.[A-Za-z_][\w]*)+")
_VARIANT = re.compile(r"[a-z]+(\d+(\.\d+)?)?(-[a-z]{2,3})?")
_TOP_KEYS = {"version", "aliases", "screens"}
_SCREEN_KEYS = {"description", "package", "activity", "action", "popup", "overlay", "dismiss", "signatures"}
_SIGNATURE_KEYS = {"package", "all", "any", "variants"}
_MATCHER_KEYS = {"id", "text", "text_matches", "text_contains", "cls", "desc", "package"}


# ---------------------------------------------------------------------------------- model
@dataclass(frozen=True)
class Matcher:
    """Criteria one node must meet together; ``package`` overrides the signature's package."""

    ids: tuple[str, ...] | None = None
    texts: tuple[str, ...] | None = None
    text_matches: Pattern[str] | None = None
    text_contains: str | None = None
    cls: str | None = None
    desc: str | None = None
    package: str | None = None

    def find(self, h: Hierarchy, package: str | None, excluded: frozenset[int] = frozenset()) -> list[HNode]:
        """Matching nodes in ``package`` (unless the matcher names its own), outside ``excluded`` windows."""
        nodes = h.find(id=self.ids, text=self.texts, text_matches=self.text_matches, text_contains=self.text_contains,
                       cls=self.cls, desc=self.desc, package=self.package or package)
        if excluded:
            nodes = [n for n in nodes if n.window not in excluded]
        return nodes

    def describe(self) -> str:
        parts = []
        for key, value in (("id", self.ids), ("text", self.texts), ("text_contains", self.text_contains),
                           ("cls", self.cls), ("desc", self.desc), ("package", self.package)):
            if value:
                parts.append(f"{key}={'|'.join(value) if isinstance(value, tuple) else value}")
        if self.text_matches is not None:
            parts.append(f"text_matches={self.text_matches.pattern}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Signature:
    """One way a screen can look (one OS variant / wording); ``line`` is where it is declared."""

    package: str | None
    all: tuple[Matcher, ...] = ()
    any: tuple[Matcher, ...] = ()
    variants: tuple[str, ...] = ()
    line: int = 0

    @property
    def specificity(self) -> int:
        return len(self.all) + (1 if self.any else 0)

    def applies_to(self, variant: str | None) -> bool:
        return variant is None or not self.variants or any(_variant_matches(v, variant) for v in self.variants)

    def match(self, h: Hierarchy, excluded: frozenset[int] = frozenset()) -> frozenset[int] | None:
        """The windows holding the evidence when the signature matches ``h``, else None."""
        package = self.package
        if package is not None and package not in h.packages:
            return None
        windows: set[int] = set()
        for matcher in self.all:
            nodes = matcher.find(h, package, excluded)
            if not nodes:
                return None
            windows.update(n.window for n in nodes)
        if self.any:
            hit = False
            for matcher in self.any:
                nodes = matcher.find(h, package, excluded)
                if nodes:
                    hit = True
                    windows.update(n.window for n in nodes)
            if not hit:
                return None
        if not self.all and not self.any:
            windows.update(r.window for r in h.roots if r.package == package and r.window not in excluded)
            if not windows:
                return None
        return frozenset(windows)


def _variant_matches(pattern: str, variant: str) -> bool:
    """"hyperos2-zh" matches itself, "hyperos2" and "hyperos"; "miui12.5" matches "miui12.5-en"."""
    if variant == pattern or variant.startswith(pattern + "-"):
        return True
    return pattern.isalpha() and re.match(re.escape(pattern) + r"\d", variant) is not None


@dataclass(frozen=True)
class Screen:
    """A catalogue entry: a named screen or popup and the signatures that identify it."""

    name: str
    signatures: tuple[Signature, ...]
    package: str | None = None
    activity: str | None = None
    action: str | None = None
    description: str = ""
    popup: bool = False
    overlay: bool = False
    dismiss: tuple[Matcher, ...] = ()
    line: int = 0

    def best_match(self, h: Hierarchy, variant: str | None = None,
                   excluded: frozenset[int] = frozenset()) -> tuple[int, frozenset[int]] | None:
        """(specificity, evidence windows) of the most specific matching signature, or None."""
        best: tuple[int, frozenset[int]] | None = None
        for sig in self.signatures:
            if not sig.applies_to(variant) or (best is not None and sig.specificity <= best[0]):
                continue
            windows = sig.match(h, excluded)
            if windows is not None:
                best = (sig.specificity, windows)
        return best

    def dismiss_node(self, h: Hierarchy) -> HNode | None:
        """The node to tap to close this popup: the first ``dismiss`` selector that finds one."""
        for matcher in self.dismiss:
            nodes = matcher.find(h, None if matcher.package else self.package)
            if nodes:
                clickable = [n for n in nodes if n.clickable]
                return (clickable or nodes)[-1]
        return None


@dataclass(frozen=True)
class Identification:
    """What is on screen: a catalogue name (or "unknown"), the popup over it, and what was seen.

    ``candidates`` lists every screen whose signature matched, best first; ``seen`` is the
    hierarchy summary that error messages and reports quote.
    """

    name: str
    popup: "Identification | None" = None
    candidates: tuple[str, ...] = ()
    seen: str = ""
    screen: Screen | None = field(default=None, repr=False)

    @property
    def known(self) -> bool:
        return self.name != UNKNOWN


# ---------------------------------------------------------------------------------- catalogue
class Catalogue:
    """The loaded, validated set of screens; ``identify`` maps a hierarchy to one of them."""

    def __init__(self, screens: Iterable[Screen], source: str = DEFAULT_LABEL) -> None:
        self.screens = tuple(screens)
        self.source = source
        self._by_name = {s.name: s for s in self.screens}
        self._popups = tuple(s for s in self.screens if s.popup)
        self._pages = tuple(s for s in self.screens if not s.popup)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    def get(self, name: str) -> Screen:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no screen {name!r} in {self.source} (known: {', '.join(self._by_name)})") from None

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def popups(self) -> tuple[Screen, ...]:
        return self._popups

    def identify(self, h: Hierarchy, variant: str | None = None) -> Identification:
        """Name the screen ``h`` shows (and the popup over it, if any).

        Popups float over any screen, so they are found first and their windows are left out
        when the screen underneath is identified. Among screens, an ``overlay`` (a dialog, the
        keyguard) beats the page below it; then the most specific signature wins; then the
        catalogue order.
        """
        seen = h.summary()
        popup = None
        excluded: frozenset[int] = frozenset()
        popup_hits = self._ranked(self._popups, h, variant, excluded)
        if popup_hits:
            top, excluded = popup_hits[0]
            popup = Identification(top.name, None, tuple(s.name for s, _ in popup_hits), seen, top)
        hits = self._ranked(self._pages, h, variant, excluded)
        if not hits:
            return Identification(UNKNOWN, popup, (), seen, None)
        best = hits[0][0]
        return Identification(best.name, popup, tuple(s.name for s, _ in hits), seen, best)

    @staticmethod
    def _ranked(screens: tuple[Screen, ...], h: Hierarchy, variant: str | None,
                excluded: frozenset[int]) -> list[tuple[Screen, frozenset[int]]]:
        """(screen, evidence windows) of every matching screen, best first."""
        hits = []
        for order, screen in enumerate(screens):
            match = screen.best_match(h, variant, excluded)
            if match is not None:
                specificity, windows = match
                hits.append(((-int(screen.overlay), -specificity, order), screen, windows))
        hits.sort(key=lambda hit: hit[0])
        return [(screen, windows) for _, screen, windows in hits]

    @classmethod
    def load(cls, path: str | Path | None = None) -> "Catalogue":
        """Load and validate a catalogue file (default: the packaged ``catalogue.yaml``).

        Every problem is a :class:`ConfigError` reading ``catalogue.yaml:LINE: message``.
        """
        if path is None:
            label = DEFAULT_LABEL
            text = resources.files(__package__).joinpath(DEFAULT_LABEL).read_text(encoding="utf-8")
        else:
            label = str(path)
            try:
                text = Path(path).read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(f"{label}: cannot read screen catalogue: {exc.strerror or exc}", path=label) from None
        return cls(_Parser(label).parse(text), label)


@lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    """The packaged catalogue, loaded once per process."""
    return Catalogue.load()


def identify(h: Hierarchy, variant: str | None = None) -> Identification:
    """Identify ``h`` with the packaged catalogue."""
    return default_catalogue().identify(h, variant)


# ---------------------------------------------------------------------------------- loading
class _Map(dict):
    """A YAML mapping that remembers the line of each of its keys (1-based)."""

    line = 0
    key_lines: dict[Any, int]


class _Seq(list):
    line = 0


class _SyntaxProblem(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps line numbers and refuses duplicate keys (a silently lost screen)."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    result = _Map()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, str):
            raise _SyntaxProblem(line, f"keys must be text, not {key!r}")
        if key in result:
            raise _SyntaxProblem(line, f"duplicate key {key!r} (first on line {result.key_lines[key]})")
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> _Seq:
    result = _Seq(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


class _Parser:
    """Turns the YAML document into frozen :class:`Screen` objects, or one ConfigError."""

    def __init__(self, label: str) -> None:
        self.label = label

    def fail(self, line: int, message: str) -> ConfigError:
        return ConfigError(f"{self.label}:{line}: {message}", path=self.label, line=line)

    def parse(self, text: str) -> list[Screen]:
        try:
            doc = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
        except _SyntaxProblem as exc:
            raise self.fail(exc.line, str(exc)) from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            problem = getattr(exc, "problem", None) or str(exc)
            raise self.fail(mark.line + 1 if mark else 1, f"invalid YAML: {problem}") from None
        if not isinstance(doc, _Map):
            raise self.fail(1, "the catalogue must be a mapping with a 'screens' key")
        self.keys(doc, _TOP_KEYS, "catalogue")
        if doc.get("version", 1) != 1:
            raise self.fail(doc.key_lines["version"], f"unsupported catalogue version {doc['version']!r} (expected 1)")
        screens = doc.get("screens")
        if not isinstance(screens, _Map) or not screens:
            raise self.fail(doc.key_lines.get("screens", doc.line), "'screens' must be a non-empty mapping of name: screen")
        return [self.screen(name, body, screens.key_lines[name]) for name, body in screens.items()]

    def keys(self, mapping: _Map, allowed: set[str], what: str) -> None:
        for key in mapping:
            if key not in allowed:
                raise self.fail(mapping.key_lines[key], f"unknown key {key!r} in {what} (allowed: {', '.join(sorted(allowed))})")

    def screen(self, name: str, body: object, line: int) -> Screen:
        if not _NAME.fullmatch(name):
            raise self.fail(line, f"screen name {name!r} must be lower_snake_case")
        if not isinstance(body, _Map):
            raise self.fail(line, f"screen {name!r} must be a mapping")
        self.keys(body, _SCREEN_KEYS, f"screen {name!r}")
        package = self.package(body, "package", name)
        popup = self.flag(body, "popup", name)
        overlay = self.flag(body, "overlay", name)
        if popup and overlay:
            raise self.fail(body.key_lines["overlay"], f"screen {name!r}: a popup is always on top; drop 'overlay'")
        dismiss: tuple[Matcher, ...] = ()
        if "dismiss" in body:
            if not popup:
                raise self.fail(body.key_lines["dismiss"], f"screen {name!r}: 'dismiss' is only for popups")
            dismiss = self.matchers(body["dismiss"], body.key_lines["dismiss"], f"{name}.dismiss", single_ok=True)
        elif popup:
            raise self.fail(body.key_lines["popup"], f"popup {name!r} needs 'dismiss' (what to tap to close it)")
        raw_sigs = body.get("signatures")
        sig_line = body.key_lines.get("signatures", line)
        if not isinstance(raw_sigs, _Seq) or not raw_sigs:
            raise self.fail(sig_line, f"screen {name!r} needs a non-empty list of 'signatures'")
        signatures = tuple(self.signature(raw, name, package, getattr(raw, "line", sig_line)) for raw in raw_sigs)
        return Screen(
            name=name, signatures=signatures, package=package, activity=self.text(body, "activity", name),
            action=self.text(body, "action", name), description=self.text(body, "description", name) or "",
            popup=popup, overlay=overlay, dismiss=dismiss, line=line,
        )

    def text(self, body: _Map, key: str, where: str) -> str | None:
        value = body.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(body.key_lines[key], f"{where}: '{key}' must be non-empty text")
        return value

    def flag(self, body: _Map, key: str, where: str) -> bool:
        value = body.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(body.key_lines[key], f"{where}: '{key}' must be true or false")
        return value

    def package(self, body: _Map, key: str, where: str) -> str | None:
        value = self.text(body, key, where)
        if value is not None and not _PACKAGE.fullmatch(value):
            raise self.fail(body.key_lines[key], f"{where}: {value!r} is not an Android package name")
        return value

    def signature(self, raw: object, name: str, screen_package: str | None, line: int) -> Signature:
        where = f"screen {name!r} signature"
        if not isinstance(raw, _Map):
            raise self.fail(line, f"{where} must be a mapping with 'all', 'any', 'package' or 'variants'")
        self.keys(raw, _SIGNATURE_KEYS, where)
        package = self.package(raw, "package", where) or screen_package
        all_ = self.matchers(raw["all"], raw.key_lines["all"], f"{name}.all") if "all" in raw else ()
        any_ = self.matchers(raw["any"], raw.key_lines["any"], f"{name}.any") if "any" in raw else ()
        if not all_ and not any_ and package is None:
            raise self.fail(raw.line, f"{where} matches nothing: give 'all', 'any' or a package")
        variants: tuple[str, ...] = ()
        if "variants" in raw:
            values = raw["variants"]
            if isinstance(values, str):
                values = [values]
            valid = isinstance(values, list) and bool(values) and all(isinstance(v, str) and _VARIANT.fullmatch(v) for v in values)
            if not valid:
                raise self.fail(raw.key_lines["variants"],
                                f"{where}: 'variants' must list OS variants like miui12.5-en, hyperos2, miui")
            variants = tuple(values)
        return Signature(package=package, all=all_, any=any_, variants=variants, line=raw.line)

    def matchers(self, raw: object, line: int, where: str, single_ok: bool = False) -> tuple[Matcher, ...]:
        if single_ok and isinstance(raw, _Map):
            raw = [raw]
        if not isinstance(raw, list) or not raw:
            raise self.fail(line, f"{where} must be a non-empty list of matchers")
        return tuple(self.matcher(item, getattr(item, "line", line), where) for item in raw)

    def matcher(self, raw: object, line: int, where: str) -> Matcher:
        if not isinstance(raw, _Map) or not raw:
            raise self.fail(line, f"{where}: a matcher is a mapping like {{id: ...}} or {{text: [...]}}")
        self.keys(raw, _MATCHER_KEYS, f"{where} matcher")
        if set(raw) == {"package"}:
            raise self.fail(line, f"{where}: a matcher needs a node criterion besides 'package'")
        regex = None
        if "text_matches" in raw:
            pattern = raw["text_matches"]
            if not isinstance(pattern, str) or not pattern:
                raise self.fail(raw.key_lines["text_matches"], f"{where}: 'text_matches' must be a regex")
            try:
                regex = re.compile(pattern)
            except re.error as exc:
                raise self.fail(raw.key_lines["text_matches"], f"{where}: bad regex {pattern!r}: {exc}") from None
        return Matcher(
            ids=self.alternatives(raw, "id", where),
            texts=self.alternatives(raw, "text", where),
            text_matches=regex,
            text_contains=self.text(raw, "text_contains", where),
            cls=self.text(raw, "cls", where),
            desc=self.text(raw, "desc", where),
            package=self.package(raw, "package", where),
        )

    def alternatives(self, raw: _Map, key: str, where: str) -> tuple[str, ...] | None:
        if key not in raw:
            return None
        value = raw[key]
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
            raise self.fail(raw.key_lines[key], f"{where}: '{key}' must be text or a non-empty list of texts")
        return tuple(dict.fromkeys(values))
