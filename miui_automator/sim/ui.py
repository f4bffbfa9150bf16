"""The simulated phone's view tree: one data structure for hierarchy dumps, taps and pixels.

Screens are data: every screen the model shows is a tree of :class:`Node` with real bounds,
resource-ids, texts and flags. The uiautomator2 server serialises it in the exact
``dumpWindowHierarchy`` format, taps are hit-tested against it, and the renderer draws the
screenshot from the same tree — so what a test sees in the picture always matches the
hierarchy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

SCREEN_W = 1080
SCREEN_H = 2400

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;"})


def _esc(value: str) -> str:
    return value.translate(_ESCAPES)


@dataclass(eq=False)
class Node:
    """One accessibility node.

    ``style`` tells the renderer how to draw the node (it is not serialised); ``action`` is
    what a tap on the node asks the phone model to do (also not serialised).
    Known styles: window, statusbar, actionbar, title, back, row, row_title, row_summary,
    row_value, switch, list, button, button_primary, button_danger, dialog, dialog_title,
    dialog_message, edit, checkbox, progress, text, icon, header, banner, webview, urlbar.
    """

    cls: str = "android.widget.FrameLayout"
    text: str = ""
    rid: str = ""
    desc: str = ""
    package: str = ""
    bounds: tuple[int, int, int, int] = (0, 0, 0, 0)
    clickable: bool = False
    long_clickable: bool = False
    scrollable: bool = False
    checkable: bool = False
    checked: bool = False
    enabled: bool = True
    focusable: bool = False
    focused: bool = False
    password: bool = False
    selected: bool = False
    hint: str = ""
    children: list["Node"] = field(default_factory=list)
    style: str = ""
    action: str | None = None

    def add(self, *nodes: "Node") -> "Node":
        self.children.extend(nodes)
        return self

    def walk(self) -> Iterator["Node"]:
        yield self
        for child in self.children:
            yield from child.walk()

    @property
    def center(self) -> tuple[int, int]:
        left, top, right, bottom = self.bounds
        return (left + right) // 2, (top + bottom) // 2

    def contains(self, x: float, y: float) -> bool:
        left, top, right, bottom = self.bounds
        return left <= x < right and top <= y < bottom


def _node_xml(node: Node, index: int, package: str, display: bool, out: list[str], depth: int) -> None:
    pkg = node.package or package
    left, top, right, bottom = node.bounds
    b = lambda v: "true" if v else "false"  # noqa: E731 - tiny local formatter
    text = node.text
    if node.password and text:
        text = "\u2022" * len(text)
    attrs = (
        f'index="{index}" text="{_esc(text)}" resource-id="{_esc(node.rid)}" class="{_esc(node.cls)}" '
        f'package="{_esc(pkg)}" content-desc="{_esc(node.desc)}" checkable="{b(node.checkable)}" '
        f'checked="{b(node.checked)}" clickable="{b(node.clickable)}" enabled="{b(node.enabled)}" '
        f'focusable="{b(node.focusable)}" focused="{b(node.focused)}" scrollable="{b(node.scrollable)}" '
        f'long-clickable="{b(node.long_clickable)}" password="{b(node.password)}" '
        f'selected="{b(node.selected)}" visible-to-user="true" bounds="[{left},{top}][{right},{bottom}]" '
        f'drawing-order="{index}" hint="{_esc(node.hint)}" display-id="0"'
    )
    pad = "  " * depth
    if node.children:
        out.append(f"{pad}<node {attrs}>")
        for i, child in enumerate(node.children):
            _node_xml(child, i, pkg, display, out, depth + 1)
        out.append(f"{pad}</node>")
    else:
        out.append(f"{pad}<node {attrs} />")


def hierarchy_xml(windows: list[Node], rotation: int = 0) -> str:
    """Serialise window roots exactly as uiautomator2's ``dumpWindowHierarchy`` does."""
    out = ["<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\r\n<hierarchy rotation=\"%d\">" % rotation]
    for i, window in enumerate(windows):
        _node_xml(window, i, window.package, True, out, 1)
    out.append("</hierarchy>")
    return "\n".join(out)


def hit_test(windows: list[Node], x: float, y: float) -> Node | None:
    """The clickable node a touch at (x, y) lands on: topmost window, deepest node.

    A modal window (dialog) swallows touches outside its content, as Android's dim layer does;
    the caller sees ``None`` then.
    """
    for window in reversed(windows):
        if not window.contains(x, y):
            continue
        best: Node | None = None
        stack = [window]
        while stack:
            node = stack.pop()
            if not node.contains(x, y):
                continue
            if node.clickable or node.checkable or node.cls.endswith("EditText"):
                best = node
            stack.extend(node.children)
        return best
    return None


def find_all(windows: list[Node], **attrs: object) -> list[Node]:
    """Nodes whose attributes equal every given value (``text=``, ``rid=``, ...)."""
    found = []
    for window in windows:
        for node in window.walk():
            if all(getattr(node, k) == v for k, v in attrs.items()):
                found.append(node)
    return found
