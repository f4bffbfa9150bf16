"""The screen catalogue: MIUI screens declared as data (``catalogue.yaml``) and ``identify``.

Flows speak in screen names ("account", "wipe_confirm"); the catalogue is the one place that
knows what each of those looks like on MIUI 12.5, MIUI 14, HyperOS 1 and HyperOS 2, in English
and Chinese. Keeping signatures as data means a new ROM wording is a one-line YAML change and
every flow benefits. The YAML is validated completely at load time by the project's one YAML reader
(:mod:`miui_automator.yaml_reader`: bounds, merge keys, duplicate keys refused); errors name the line.

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

from yaml.nodes import MappingNode, Node, SequenceNode

from ..device.hierarchy import Hierarchy, HNode
from ..strings.refs import TextRef, split_texts
from ..yaml_reader import Fields, YamlReader, is_null, one_line, read_text

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
    """Criteria one node must meet together; ``package`` overrides the signature's package.

    ``text_refs`` are string resources (``@package:string/key``) among the text alternatives; a run
    adds their texts in the phone's language to ``texts`` (:mod:`miui_automator.strings.apply`) and
    notes in ``unresolved`` those the phone could not resolve. Until then only the literal texts match.
    """

    ids: tuple[str, ...] | None = None
    texts: tuple[str, ...] | None = None
    text_refs: tuple[TextRef, ...] = ()
    unresolved: tuple[str, ...] = ()
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
        texts = (tuple(r.written for r in self.text_refs) + self.texts) if self.texts is not None else None
        for key, value in (("id", self.ids), ("text", texts), ("text_contains", self.text_contains),
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
class KnownScreen:
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
    screen: KnownScreen | None = field(default=None, repr=False)

    @property
    def known(self) -> bool:
        return self.name != UNKNOWN


# ---------------------------------------------------------------------------------- catalogue
class Catalogue:
    """The loaded, validated set of screens; ``identify`` maps a hierarchy to one of them."""

    def __init__(self, screens: Iterable[KnownScreen], source: str = DEFAULT_LABEL) -> None:
        self.screens = tuple(screens)
        self.source = source
        self._by_name = {s.name: s for s in self.screens}
        self._popups = tuple(s for s in self.screens if s.popup)
        self._pages = tuple(s for s in self.screens if not s.popup)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    def get(self, name: str) -> KnownScreen:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no screen {name!r} in {self.source} (known: {', '.join(self._by_name)})") from None

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def popups(self) -> tuple[KnownScreen, ...]:
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
    def _ranked(screens: tuple[KnownScreen, ...], h: Hierarchy, variant: str | None,
                excluded: frozenset[int]) -> list[tuple[KnownScreen, frozenset[int]]]:
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
        """Load and validate a catalogue file (default: the packaged ``catalogue.yaml``); see :func:`load_catalogue`."""
        if path is None:
            text = resources.files(__package__).joinpath(DEFAULT_LABEL).read_text(encoding="utf-8")
            return parse_catalogue(text, DEFAULT_LABEL)
        return load_catalogue(path)


@lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    """The packaged catalogue, loaded once per process."""
    return Catalogue.load()


def identify(h: Hierarchy, variant: str | None = None) -> Identification:
    """Identify ``h`` with the packaged catalogue."""
    return default_catalogue().identify(h, variant)


# ---------------------------------------------------------------------------------- loading
def load_catalogue(path: str | Path) -> Catalogue:
    """Read and validate a catalogue file; every problem is one :class:`ConfigError` reading ``PATH:LINE: message``."""
    return parse_catalogue(read_text(path, "screen catalogue"), str(path))


def parse_catalogue(text: str, label: str = DEFAULT_LABEL) -> Catalogue:
    """Validate catalogue YAML ``text``; ``label`` names the file in messages and in :attr:`Catalogue.source`."""
    return Catalogue(_Parser(label).parse(text), label)


class _Parser(YamlReader):
    """The catalogue grammar -> frozen :class:`KnownScreen` objects; reading YAML is :class:`YamlReader`'s."""

    def parse(self, text: str) -> list[KnownScreen]:
        root = self.compose(text)
        if not isinstance(root, MappingNode):
            self.fail_at(1 if root is None else self.line(root), "the catalogue must be a mapping with a 'screens' key")
        f = self.fields(root, "catalogue", _TOP_KEYS)
        if "version" in f and self.integer(f.get("version"), "version", 1, 2**31) != 1:
            self.fail(f.get("version"), f"unsupported catalogue version {f.get('version').value} (expected 1)")
        screens = f.get("screens")
        if not isinstance(screens, MappingNode) or not screens.value:
            self.fail(f.key_node("screens") if "screens" in f else root, "'screens' must be a non-empty mapping of name: screen")
        return [self.screen(name, key_node, body) for name, key_node, body in self.pairs(screens, "screens")]

    def screen(self, name: str, key_node: Node, body: Node) -> KnownScreen:
        if not _NAME.fullmatch(name):
            self.fail(key_node, f"screen name {name!r} must be lower_snake_case")
        if not isinstance(body, MappingNode):
            self.fail(key_node, f"screen {name!r} must be a mapping, not {self.kind_of(body)}")
        f = self.fields(body, f"screen {name!r}", _SCREEN_KEYS)
        package = self.package(f, name)
        popup = self.flag(f, "popup", name)
        overlay = self.flag(f, "overlay", name)
        if popup and overlay:
            self.fail(f.key_node("overlay"), f"screen {name!r}: a popup is always on top; drop 'overlay'")
        dismiss: tuple[Matcher, ...] = ()
        if "dismiss" in f:
            if not popup:
                self.fail(f.key_node("dismiss"), f"screen {name!r}: 'dismiss' is only for popups")
            dismiss = self.matchers(f.get("dismiss"), f"{name}.dismiss", single_ok=True)
        elif popup:
            self.fail(f.key_node("popup"), f"popup {name!r} needs 'dismiss' (what to tap to close it)")
        signatures = f.get("signatures")
        if not isinstance(signatures, SequenceNode) or not signatures.value:
            self.fail(f.key_node("signatures") if "signatures" in f else key_node,
                      f"screen {name!r} needs a non-empty list of 'signatures'")
        return KnownScreen(
            name=name, signatures=tuple(self.signature(node, name, package) for node in signatures.value),
            package=package, activity=self.optional_text(f, "activity", name), action=self.optional_text(f, "action", name),
            description=self.optional_text(f, "description", name) or "", popup=popup, overlay=overlay, dismiss=dismiss,
            line=self.line(key_node),
        )

    def optional_text(self, f: Fields, key: str, where: str) -> str | None:
        """A text field; absent or empty (``key:``) reads as None."""
        node = f.get(key)
        return None if node is None or is_null(node) else self.text(node, f"{where}: '{key}'")

    def flag(self, f: Fields, key: str, where: str) -> bool:
        return self.boolean(f.get(key), f"{where}: '{key}'") if key in f else False

    def package(self, f: Fields, where: str) -> str | None:
        value = self.optional_text(f, "package", where)
        if value is not None and not _PACKAGE.fullmatch(value):
            self.fail(f.get("package"), f"{where}: {value!r} is not an Android package name")
        return value

    def signature(self, node: Node, name: str, screen_package: str | None) -> Signature:
        where = f"screen {name!r} signature"
        if not isinstance(node, MappingNode):
            self.fail(node, f"{where} must be a mapping with 'all', 'any', 'package' or 'variants'")
        f = self.fields(node, where, _SIGNATURE_KEYS)
        package = self.package(f, where) or screen_package
        all_ = self.matchers(f.get("all"), f"{name}.all") if "all" in f else ()
        any_ = self.matchers(f.get("any"), f"{name}.any") if "any" in f else ()
        if not all_ and not any_ and package is None:
            self.fail(node, f"{where} matches nothing: give 'all', 'any' or a package")
        variants: tuple[str, ...] = ()
        if "variants" in f:
            variants = self.texts(f.get("variants"), f"{where}: 'variants'")
            if not all(_VARIANT.fullmatch(v) for v in variants):
                self.fail(f.key_node("variants"), f"{where}: 'variants' must list OS variants like miui12.5-en, hyperos2, miui")
        return Signature(package=package, all=all_, any=any_, variants=variants, line=self.line(node))

    def matchers(self, node: Node, where: str, single_ok: bool = False) -> tuple[Matcher, ...]:
        items = [node] if single_ok and isinstance(node, MappingNode) else node.value if isinstance(node, SequenceNode) else []
        if not items:
            self.fail(node, f"{where} must be a non-empty list of matchers")
        return tuple(self.matcher(item, where) for item in items)

    def matcher(self, node: Node, where: str) -> Matcher:
        if not isinstance(node, MappingNode) or not node.value:
            self.fail(node, f"{where}: a matcher is a mapping like {{id: ...}} or {{text: [...]}}")
        f = self.fields(node, f"{where} matcher", _MATCHER_KEYS)
        if set(f.items) == {"package"}:
            self.fail(node, f"{where}: a matcher needs a node criterion besides 'package'")
        regex = None
        if "text_matches" in f:
            pattern_node = f.get("text_matches")
            pattern = self.text(pattern_node, f"{where}: 'text_matches'")
            try:
                regex = re.compile(pattern)
            except (re.error, OverflowError, RecursionError, ValueError) as exc:
                self.fail(pattern_node, f"{where}: bad regex {pattern!r}: {one_line(str(exc))}")
        texts, refs = self.alternatives(f, "text", where), ()
        if texts is not None:
            try:
                texts, refs = split_texts(texts)
            except ValueError as exc:
                self.fail(f.get("text"), f"{where}: {exc}")
        return Matcher(
            ids=self.alternatives(f, "id", where), texts=texts, text_refs=refs, text_matches=regex,
            text_contains=self.optional_text(f, "text_contains", where), cls=self.optional_text(f, "cls", where),
            desc=self.optional_text(f, "desc", where), package=self.package(f, where),
        )

    def alternatives(self, f: Fields, key: str, where: str) -> tuple[str, ...] | None:
        """Text or a non-empty list of texts (any one may match), without repeats."""
        return tuple(dict.fromkeys(self.texts(f.get(key), f"{where}: '{key}'"))) if key in f else None
