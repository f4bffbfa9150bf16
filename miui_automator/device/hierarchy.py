"""UI hierarchy dumps parsed into a frozen node tree with the look-ups flows need.

Accepts both sources a run meets: uiautomator2's ``dump_hierarchy()`` (``<node>`` elements, one
top-level node per window) and ``uiautomator dump`` output, which on MIUI arrives with a Java
stack trace (``FileNotFoundException ... theme_compatibility.xml``, full of ``<init>``) printed
*before* the XML and ``UI hierchary dumped to: /dev/tty`` after it. Appium-style dumps that name
elements after their class are read too. Zero-width characters (U+200B-U+200F, U+FEFF) are
removed first, as uiautomator2 itself does, so texts compare equal to what a person reads.

Look-ups go through indexes (by resource-id, by text) built lazily once per dump, because the
screen catalogue probes the same dump with a hundred matchers after every action.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from re import Pattern

from lxml import etree

from ..errors import DeviceError
from ..privacy import mask_text

SYSTEMUI = "com.android.systemui"

_ZERO_WIDTH = dict.fromkeys((0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0xFEFF))
_BOUNDS = re.compile(r"\[(-?\d{1,9}),(-?\d{1,9})\]\[(-?\d{1,9}),(-?\d{1,9})\]", re.ASCII)
_INDEX = re.compile(r"[0-9]{1,9}", re.ASCII)
MAX_DEPTH = 1000  # far beyond any real screen (uiautomator2 dumps 50 levels); bounds the work a junk dump causes
_END_TAG = "</hierarchy>"
_SUMMARY_TEXT_CHARS = 40


class HierarchyError(DeviceError, ValueError):
    """A hierarchy dump that holds no parseable ``<hierarchy>`` (the device answered junk)."""


Bounds = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class HNode:
    """One accessibility node as dumped; ``window`` is the index of the top-level window it is in.

    Nodes compare by identity (two identical rows are still two rows), so they can key dicts.
    """

    index: int
    text: str
    rid: str
    cls: str
    package: str
    desc: str
    bounds: Bounds
    checkable: bool
    checked: bool
    clickable: bool
    enabled: bool
    focusable: bool
    focused: bool
    scrollable: bool
    long_clickable: bool
    password: bool
    selected: bool
    hint: str
    children: tuple["HNode", ...]
    depth: int
    window: int = 0

    @property
    def center(self) -> tuple[int, int]:
        left, top, right, bottom = self.bounds
        return (left + right) // 2, (top + bottom) // 2

    @property
    def area(self) -> int:
        left, top, right, bottom = self.bounds
        return max(0, right - left) * max(0, bottom - top)

    def contains(self, x: float, y: float) -> bool:
        left, top, right, bottom = self.bounds
        return left <= x < right and top <= y < bottom

    def __repr__(self) -> str:
        named = [f"{label}={value!r}" for label, value in (("text", self.text), ("id", self.rid), ("desc", self.desc))
                 if value]
        parts = [self.cls.rsplit(".", 1)[-1], *named, "bounds=[{},{}][{},{}]".format(*self.bounds)]
        return f"HNode({', '.join(parts)})"


def _alternatives(value: str | Iterable[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


class Hierarchy:
    """A parsed dump: window roots, every node in document order, and look-ups over them."""

    def __init__(self, roots: tuple[HNode, ...], nodes: tuple[HNode, ...], rotation: int = 0, source: str = "") -> None:
        self.source = source  # the XML as dumped, kept so a failed step can save what was seen
        self.roots = roots
        self.nodes = nodes
        self.rotation = rotation
        self.packages: frozenset[str] = frozenset(n.package for n in nodes if n.package)
        self.main_package = self._main_package()

    def _main_package(self) -> str:
        """The app the user is in: the package of the largest window that is not SystemUI."""
        apps = [r for r in self.roots if r.package and r.package != SYSTEMUI]
        pool = apps or [r for r in self.roots if r.package]
        return max(pool, key=lambda r: r.area).package if pool else ""

    # ------------------------------------------------------------------ indexes (lazy, once)
    @cached_property
    def _pos(self) -> dict[HNode, int]:
        return {node: i for i, node in enumerate(self.nodes)}

    def _index_by(self, attribute: str) -> dict[str, list[HNode]]:
        """Nodes with a non-empty ``attribute``, by its value, each list in document order."""
        index: dict[str, list[HNode]] = {}
        for node in self.nodes:
            key = getattr(node, attribute)
            if key:
                index.setdefault(key, []).append(node)
        return index

    @cached_property
    def _by_rid(self) -> dict[str, list[HNode]]:
        return self._index_by("rid")

    @cached_property
    def _by_text(self) -> dict[str, list[HNode]]:
        return self._index_by("text")

    def _indexed(self, index: dict[str, list[HNode]], keys: tuple[str, ...]) -> list[HNode]:
        if len(keys) == 1:
            return index.get(keys[0], [])
        found = [node for key in dict.fromkeys(keys) for node in index.get(key, ())]
        if len(found) > 1:
            pos = self._pos
            found.sort(key=pos.__getitem__)
        return found

    # ------------------------------------------------------------------ queries
    def find(
        self,
        *,
        id: str | Iterable[str] | None = None,  # noqa: A002 - the selector word users write
        text: str | Iterable[str] | None = None,
        text_matches: str | Pattern[str] | None = None,
        text_contains: str | None = None,
        cls: str | None = None,
        desc: str | None = None,
        package: str | None = None,
        clickable: bool | None = None,
    ) -> list[HNode]:
        """Nodes meeting every given criterion, in document order.

        ``id`` and ``text`` take one value or alternatives (exact match); ``text_matches`` is a
        regex that must match the whole text; ``text_contains`` a substring.
        """
        texts = _alternatives(text) if text is not None else None
        if id is not None:
            pool: Iterable[HNode] = self._indexed(self._by_rid, _alternatives(id))
        elif texts is not None:
            pool = self._indexed(self._by_text, texts)
            texts = None
        else:
            pool = self.nodes
        regex = re.compile(text_matches) if isinstance(text_matches, str) else text_matches
        found = []
        for node in pool:
            if texts is not None and node.text not in texts:
                continue
            if regex is not None and regex.fullmatch(node.text) is None:
                continue
            if text_contains is not None and text_contains not in node.text:
                continue
            if cls is not None and node.cls != cls:
                continue
            if desc is not None and node.desc != desc:
                continue
            if package is not None and node.package != package:
                continue
            if clickable is not None and node.clickable != clickable:
                continue
            found.append(node)
        return found

    def first(self, **criteria: object) -> HNode | None:
        """The first node :meth:`find` would return, or None."""
        found = self.find(**criteria)  # type: ignore[arg-type]
        return found[0] if found else None

    def fingerprint(self) -> str:
        """A stable hash of what the app shows, for "settled" = two equal reads in a row.

        SystemUI nodes are left out: the status-bar clock and battery change on their own.
        """
        return self._fingerprint

    @cached_property
    def _fingerprint(self) -> str:
        digest = hashlib.sha1()
        for n in self.nodes:
            if n.package != SYSTEMUI:
                digest.update(repr((n.rid, n.text, n.cls, n.bounds, n.checked, n.selected)).encode())
        return digest.hexdigest()

    def texts(self) -> list[str]:
        """Distinct non-empty texts in document order, SystemUI's left out unless it is all there is
        (the lock screen), so a summary names what the app shows rather than the clock."""
        return list(self._texts)

    @cached_property
    def _texts(self) -> tuple[str, ...]:
        app = [n.text for n in self.nodes if n.text and n.package != SYSTEMUI]
        pool = app or [n.text for n in self.nodes if n.text]
        return tuple(dict.fromkeys(pool))

    def summary(self, limit: int = 12) -> str:
        """One line saying what was on screen, for error messages and reports.

        Account ids, e-mail addresses and phone numbers shown on screen are masked here, at the
        source of every "screen seen" text (the Mi account page shows the account id).
        """
        head = f"package {self.main_package or '?'}"
        others = sorted(p for p in self.packages if p not in (self.main_package, SYSTEMUI))
        if others:
            head += f" (+ {', '.join(others)})"
        texts = self._texts
        shown = [_shorten(t) for t in texts[:limit]]
        tail = f", … (+{len(texts) - limit} more)" if len(texts) > limit else ""
        return mask_text(f"{head}; texts: {', '.join(shown) or '(none)'}{tail}")

    def clickable_at(self, x: float, y: float) -> HNode | None:
        """The innermost (smallest) clickable node under (x, y): what a tap there would hit."""
        hits = [n for n in self.nodes if n.clickable and n.contains(x, y)]
        return min(hits, key=lambda n: n.area) if hits else None

    def elements(self) -> list[dict[str, object]]:
        """Nodes worth listing to a person writing a flow: those with a text, description, id or
        that are clickable; as plain dicts for JSON and tables."""
        return [
            {"text": n.text, "desc": n.desc, "id": n.rid, "class": n.cls, "package": n.package,
             "bounds": list(n.bounds), "clickable": n.clickable}
            for n in self.nodes
            if n.text or n.desc or n.rid or n.clickable
        ]

    def __len__(self) -> int:
        return len(self.nodes)

    def __repr__(self) -> str:
        return f"<Hierarchy {len(self.nodes)} nodes, {self.summary(limit=4)}>"


def _shorten(text: str) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= _SUMMARY_TEXT_CHARS else one_line[: _SUMMARY_TEXT_CHARS - 1] + "…"


def _preview(text: str) -> str:
    return repr(mask_text(" ".join(text.split())[:60]))


def _xml_slice(xml: str | bytes) -> bytes:
    """The ``<?xml ...>``/``<hierarchy>`` part of a dump, cleaned of zero-width characters."""
    if isinstance(xml, (bytes, bytearray, memoryview)):
        text = bytes(xml).decode("utf-8", errors="replace")
    elif isinstance(xml, str):
        text = xml
    else:
        raise HierarchyError(f"hierarchy dump must be text or bytes, not {type(xml).__name__}")
    text = text.translate(_ZERO_WIDTH)
    root = text.find("<hierarchy")
    if root < 0:
        what = "empty hierarchy dump" if not text.strip() else f"no <hierarchy> in dump: {_preview(text)}"
        raise HierarchyError(what, preview=mask_text(text[:200]))
    start = text.rfind("<?xml", 0, root)
    start = root if start < 0 else start
    end = text.rfind(_END_TAG)
    if end > root:
        stop = end + len(_END_TAG)
    else:  # a self-closed, empty <hierarchy ... />
        close = text.find("/>", root)
        stop = close + 2 if close >= 0 else len(text)
    return text[start:stop].encode("utf-8")


def _bounds(value: str | None) -> Bounds:
    match = _BOUNDS.fullmatch(value.strip()) if value else None
    if match is None:
        return (0, 0, 0, 0)
    return int(match[1]), int(match[2]), int(match[3]), int(match[4])


def parse_hierarchy(xml: str | bytes) -> Hierarchy:
    """Parse a uiautomator2 / ``uiautomator dump`` hierarchy into a :class:`Hierarchy`.

    Raises :class:`HierarchyError` (one line) when the dump holds no well-formed hierarchy.
    """
    data = _xml_slice(xml)
    parser = etree.XMLParser(huge_tree=True, resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise HierarchyError(f"malformed hierarchy XML: {mask_text(str(exc))}",
                             preview=mask_text(data[:200].decode("utf-8", "replace"))) from None
    if root.tag != "hierarchy":
        raise HierarchyError(f"hierarchy dump has root <{root.tag}>, expected <hierarchy>")

    windows = [el for el in root if isinstance(el.tag, str)]
    nodes = _build_nodes(windows)
    roots = tuple(node for node in nodes if node.depth == 0)
    try:
        rotation = int(root.get("rotation", "0"))
    except ValueError:
        rotation = 0
    return Hierarchy(roots, nodes, rotation, data.decode("utf-8", "replace"))


def _build_nodes(windows: list[etree._Element]) -> tuple[HNode, ...]:
    """Every node in document (pre-)order, built without recursion.

    A walk assigns each element its place in document order and its parent; nodes are then built
    from the last place to the first, so every child exists before the tuple of its parent's
    children is made. A dump nested deeper than :data:`MAX_DEPTH` is refused with one line.
    """
    order: list[tuple[etree._Element, int, int, str, int]] = []  # element, depth, window, package, parent place
    stack = [(el, 0, window, "", -1) for window, el in reversed(list(enumerate(windows)))]
    while stack:
        el, depth, window, parent_package, parent = stack.pop()
        if depth >= MAX_DEPTH:
            raise HierarchyError(f"hierarchy dump nested deeper than {MAX_DEPTH} levels")
        package = el.attrib.get("package") or parent_package
        place = len(order)
        order.append((el, depth, window, package, parent))
        stack.extend((c, depth + 1, window, package, place) for c in reversed(el) if isinstance(c.tag, str))
    children: list[list[HNode]] = [[] for _ in order]
    built: list[HNode | None] = [None] * len(order)
    for place in range(len(order) - 1, -1, -1):
        el, depth, window, package, parent = order[place]
        node = _node(el, depth, window, package, tuple(reversed(children[place])))
        built[place] = node
        if parent >= 0:
            children[parent].append(node)
    return tuple(built)  # type: ignore[arg-type]


def _node(el: etree._Element, depth: int, window: int, package: str, children: tuple[HNode, ...]) -> HNode:
    get = el.attrib.get
    return HNode(
        index=_index(get("index")),
        text=get("text", ""),
        rid=get("resource-id", ""),
        cls=get("class") or ("" if el.tag == "node" else el.tag),
        package=package,
        desc=get("content-desc", ""),
        bounds=_bounds(get("bounds")),
        checkable=get("checkable") == "true",
        checked=get("checked") == "true",
        clickable=get("clickable") == "true",
        enabled=get("enabled", "true") == "true",
        focusable=get("focusable") == "true",
        focused=get("focused") == "true",
        scrollable=get("scrollable") == "true",
        long_clickable=get("long-clickable") == "true",
        password=get("password") == "true",
        selected=get("selected") == "true",
        hint=get("hint", ""),
        children=children,
        depth=depth,
        window=window,
    )


def _index(value: str | None) -> int:
    """The node's index attribute; 0 when it is not ASCII digits (``isdigit()`` accepts "³", which int() refuses)."""
    return int(value) if value and _INDEX.fullmatch(value) else 0
