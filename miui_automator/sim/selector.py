"""uiautomator ``Selector`` matching over the simulated phone's view tree (no I/O).

uiautomator2 sends a Selector as JSON: a ``mask`` saying which fields apply, the fields, and
a ``childOrSibling`` chain (``d(...).child(...)``, ``.sibling(...)``). The real u2.jar turns it
into a ``UiSelector`` and asks the accessibility tree; here :class:`Tree` flattens the window
roots into document order — the order ``hierarchy_xml`` writes — so ``instance=N`` picks the
same node a test would count in the dump, and every attribute is read the way the dump shows
it (effective package inherited from the window root, password text masked).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from .ui import SCREEN_H, SCREEN_W, Node

MASKS: dict[str, int] = {
    "text": 0x01, "textContains": 0x02, "textMatches": 0x04, "textStartsWith": 0x08,
    "className": 0x10, "classNameMatches": 0x20,
    "description": 0x40, "descriptionContains": 0x80, "descriptionMatches": 0x0100, "descriptionStartsWith": 0x0200,
    "checkable": 0x0400, "checked": 0x0800, "clickable": 0x1000, "longClickable": 0x2000, "scrollable": 0x4000,
    "enabled": 0x8000, "focusable": 0x010000, "focused": 0x020000, "selected": 0x040000,
    "packageName": 0x080000, "packageNameMatches": 0x100000,
    "resourceId": 0x200000, "resourceIdMatches": 0x400000,
    "index": 0x800000, "instance": 0x01000000,
}

# UiSelector.toString() names, so "not found" messages read like the real jar's.
_JAVA_NAMES = {
    "text": "TEXT", "textContains": "CONTAINS_TEXT", "textMatches": "PATTERN_TEXT", "textStartsWith": "START_TEXT",
    "className": "CLASS", "classNameMatches": "CLASS_REGEX", "description": "DESCRIPTION",
    "descriptionContains": "CONTAINS_DESCRIPTION", "descriptionMatches": "PATTERN_DESCRIPTION",
    "descriptionStartsWith": "START_DESCRIPTION", "checkable": "CHECKABLE", "checked": "CHECKED",
    "clickable": "CLICKABLE", "longClickable": "LONG_CLICKABLE", "scrollable": "SCROLLABLE", "enabled": "ENABLED",
    "focusable": "FOCUSABLE", "focused": "FOCUSED", "selected": "SELECTED", "packageName": "PACKAGE_NAME",
    "packageNameMatches": "PACKAGE_NAME_REGEX", "resourceId": "RESOURCE_ID", "resourceIdMatches": "RESOURCE_ID_REGEX",
    "index": "INDEX", "instance": "INSTANCE",
}

_STRING_FIELDS = {
    "text": ("text", "eq"), "textContains": ("text", "contains"), "textMatches": ("text", "matches"),
    "textStartsWith": ("text", "startswith"), "className": ("cls", "eq"), "classNameMatches": ("cls", "matches"),
    "description": ("desc", "eq"), "descriptionContains": ("desc", "contains"),
    "descriptionMatches": ("desc", "matches"), "descriptionStartsWith": ("desc", "startswith"),
    "packageName": ("package", "eq"), "packageNameMatches": ("package", "matches"),
    "resourceId": ("rid", "eq"), "resourceIdMatches": ("rid", "matches"),
}

_BOOL_FIELDS = {
    "checkable": "checkable", "checked": "checked", "clickable": "clickable", "longClickable": "long_clickable",
    "scrollable": "scrollable", "enabled": "enabled", "focusable": "focusable", "focused": "focused",
    "selected": "selected",
}


class SelectorError(ValueError):
    """A selector the real server would reject; ``java_class`` is the exception it would throw."""

    def __init__(self, java_class: str, message: str) -> None:
        super().__init__(message)
        self.java_class = java_class


def shown_text(node: Node) -> str:
    """The text accessibility reports: password fields are masked, exactly as in the dump."""
    if node.password and node.text:
        return "\u2022" * len(node.text)
    return node.text


@dataclass(frozen=True)
class Criterion:
    """One ``UiSelector`` level: attribute tests plus optional ``index``/``instance``."""

    tests: tuple[Callable[["Tree", int], bool], ...]
    index: int | None
    instance: int | None
    description: str

    def matches(self, tree: "Tree", i: int) -> bool:
        if self.index is not None and tree.index[i] != self.index:
            return False
        return all(test(tree, i) for test in self.tests)


@dataclass(frozen=True)
class Selector:
    """A parsed selector: the first level, then ("child"|"sibling", level) steps."""

    first: Criterion
    chain: tuple[tuple[str, Criterion], ...]

    def __str__(self) -> str:
        text = self.first.description
        for kind, crit in self.chain:
            sep = "" if text.endswith("[]") else ", "
            text = f"{text[:-1]}{sep}{'CHILD' if kind == 'child' else 'PARENT'}={crit.description}]"
        return text

    @property
    def deep_has_instance(self) -> bool:
        last = self.chain[-1][1] if self.chain else self.first
        return last.instance is not None


def _java_regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise SelectorError("java.util.regex.PatternSyntaxException", f"{exc} near index {exc.pos}\n{pattern}") from None


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SelectorError("java.lang.IllegalArgumentException", f"{name} must be a number, got {value!r}")
    return int(value)


def _string_test(attr: str, op: str, value: str) -> Callable[["Tree", int], bool]:
    if op == "matches":
        rx = _java_regex(value)
        return lambda tree, i: rx.fullmatch(tree.attr(i, attr)) is not None
    if op == "contains":
        return lambda tree, i: value in tree.attr(i, attr)
    if op == "startswith":
        return lambda tree, i: tree.attr(i, attr).startswith(value)
    return lambda tree, i: tree.attr(i, attr) == value


def _bool_test(attr: str, value: bool) -> Callable[["Tree", int], bool]:
    return lambda tree, i: bool(getattr(tree.nodes[i], attr)) == value


def _criterion(obj: dict[str, Any]) -> Criterion:
    mask = _int(obj.get("mask", 0), "mask")
    tests: list[Callable[[Tree, int], bool]] = []
    index = instance = None
    described: list[str] = []
    for field, bit in MASKS.items():
        if not mask & bit:
            continue
        value = obj.get(field)
        if field in _STRING_FIELDS:
            if not isinstance(value, str):
                raise SelectorError("java.lang.IllegalArgumentException", f"{field} cannot be null")
            tests.append(_string_test(*_STRING_FIELDS[field], value))
        elif field in _BOOL_FIELDS:
            value = bool(value)
            tests.append(_bool_test(_BOOL_FIELDS[field], value))
        elif field == "index":
            value = index = _int(value, field)
        else:
            value = instance = _int(value, field)
        described.append(f"{_JAVA_NAMES[field]}={'true' if value is True else 'false' if value is False else value}")
    return Criterion(tuple(tests), index, instance, "UiSelector[" + ", ".join(described) + "]")


def parse_selector(obj: Any) -> Selector:
    """Turn uiautomator2's Selector JSON into a :class:`Selector`; ``SelectorError`` if malformed."""
    if not isinstance(obj, dict):
        raise SelectorError("java.lang.IllegalArgumentException", f"not a selector: {obj!r}")
    kinds = obj.get("childOrSibling") or []
    subs = obj.get("childOrSiblingSelector") or []
    chain = []
    for kind, sub in zip(kinds, subs):
        kind = str(kind).lower()
        if kind not in ("child", "sibling"):
            continue
        nested = parse_selector(sub)
        chain.append((kind, nested.first))
        chain.extend(nested.chain)
    return Selector(_criterion(obj), tuple(chain))


def child_selector(parent: dict[str, Any], child: dict[str, Any], instance: int | None = None) -> dict[str, Any]:
    """Selector JSON for ``parent.childSelector(child[.instance(n)])`` (UiCollection/UiScrollable results)."""
    child = dict(child)
    if instance is not None:
        child["instance"] = instance
        child["mask"] = int(child.get("mask", 0)) | MASKS["instance"]
    combined = dict(parent)
    combined["childOrSibling"] = list(parent.get("childOrSibling") or []) + ["child"]
    combined["childOrSiblingSelector"] = list(parent.get("childOrSiblingSelector") or []) + [child]
    return combined


class Tree:
    """The window roots flattened in document order, with parents, subtree ends and effective packages."""

    def __init__(self, windows: list[Node]) -> None:
        self.nodes: list[Node] = []
        self.package: list[str] = []
        self.index: list[int] = []
        self.parent: list[int] = []
        self.end: list[int] = []
        for position, window in enumerate(windows):
            self._add(window, position, -1, window.package)

    def _add(self, node: Node, index: int, parent: int, inherited: str) -> None:
        me = len(self.nodes)
        package = node.package or inherited
        self.nodes.append(node)
        self.package.append(package)
        self.index.append(index)
        self.parent.append(parent)
        self.end.append(me + 1)
        for i, child in enumerate(node.children):
            self._add(child, i, me, package)
        self.end[me] = len(self.nodes)

    def attr(self, i: int, name: str) -> str:
        if name == "text":
            return shown_text(self.nodes[i])
        if name == "package":
            return self.package[i]
        return getattr(self.nodes[i], name)

    def select(self, selector: Selector) -> list[int]:
        """Positions of the matching nodes in document order (``instance`` already applied)."""
        found = [i for i in range(len(self.nodes)) if selector.first.matches(self, i)]
        found = _pick(found, selector.first.instance)
        for kind, crit in selector.chain:
            scope: set[int] = set()
            for i in found:
                base = i if kind == "child" else self.parent[i]
                if base < 0:
                    continue
                scope.update(range(base + 1, self.end[base]))
            found = _pick([i for i in sorted(scope) if crit.matches(self, i)], crit.instance)
        return found

    def find(self, selector: Selector) -> int | None:
        found = self.select(selector)
        return found[0] if found else None

    def info(self, i: int) -> dict[str, Any]:
        """The ``ObjInfo`` JSON uiautomator2 reads for ``d(...).info`` and clicks."""
        node = self.nodes[i]
        left, top, right, bottom = node.bounds
        visible = (max(0, left), max(0, top), min(SCREEN_W, right), min(SCREEN_H, bottom))
        return {
            "bounds": _rect(node.bounds),
            "visibleBounds": _rect(visible),
            "childCount": len(node.children),
            "className": node.cls,
            "contentDescription": node.desc or None,
            "packageName": self.package[i],
            "resourceName": node.rid or None,
            "text": shown_text(node),
            "checkable": node.checkable,
            "checked": node.checked,
            "clickable": node.clickable,
            "enabled": node.enabled,
            "focusable": node.focusable,
            "focused": node.focused,
            "longClickable": node.long_clickable,
            "scrollable": node.scrollable,
            "selected": node.selected,
        }


def _pick(found: list[int], instance: int | None) -> list[int]:
    if instance is None:
        return found
    return [found[instance]] if 0 <= instance < len(found) else []


def _rect(bounds: tuple[int, int, int, int]) -> dict[str, int]:
    left, top, right, bottom = bounds
    return {"left": left, "top": top, "right": right, "bottom": bottom}
