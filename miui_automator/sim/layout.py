"""Building blocks for simulated screens: MIUI-shaped status bar, title bar, list rows,
switches, buttons and bottom-sheet dialogs, each a :class:`Node` with real bounds.
"""

from __future__ import annotations

from typing import Callable, Sequence

from .ui import SCREEN_H, SCREEN_W, Node

STATUS_H = 110
TITLE_H = 300  # miuix large title area below the status bar
ROW_H = 170
ROW_SMALL_H = 140
SIDE = 64

TEXT_VIEW = "android.widget.TextView"
BUTTON = "android.widget.Button"
EDIT = "android.widget.EditText"
FRAME = "android.widget.FrameLayout"
LINEAR = "android.widget.LinearLayout"
RECYCLER = "androidx.recyclerview.widget.RecyclerView"
SWITCH = "android.widget.CheckBox"  # miuix sliding buttons report as CheckBox
IMAGE = "android.widget.ImageView"


def status_bar(clock_text: str = "10:24", battery: int = 87) -> Node:
    """The SystemUI status bar: a window of its own in every dump, as on a phone."""
    root = Node(cls=FRAME, package="com.android.systemui", rid="com.android.systemui:id/status_bar",
                bounds=(0, 0, SCREEN_W, STATUS_H), style="statusbar")
    root.add(
        Node(cls=TEXT_VIEW, text=clock_text, rid="com.android.systemui:id/clock", bounds=(SIDE, 30, 260, 90), style="text"),
        Node(cls=IMAGE, desc=f"Battery {battery} percent", rid="com.android.systemui:id/battery",
             bounds=(SCREEN_W - 200, 30, SCREEN_W - SIDE, 90), style="icon"),
    )
    return root


def window(package: str, style: str = "window") -> Node:
    return Node(cls=FRAME, package=package, bounds=(0, STATUS_H, SCREEN_W, SCREEN_H), style=style,
                rid="android:id/content")


def action_bar(title: str, title_id: str, back: bool = True, back_desc: str = "Back") -> Node:
    bar = Node(cls=FRAME, rid=title_id.split(":")[0] + ":id/action_bar_container",
               bounds=(0, STATUS_H, SCREEN_W, STATUS_H + TITLE_H), style="actionbar")
    if back:
        bar.add(Node(cls="android.widget.ImageButton", desc=back_desc, rid="android:id/up" if "miui:" in title_id else
                     title_id.split(":")[0] + ":id/up", bounds=(40, STATUS_H + 20, 175, STATUS_H + 135),
                     clickable=True, focusable=True, style="back", action="back"))
    bar.add(Node(cls=TEXT_VIEW, text=title, rid=title_id, bounds=(SIDE, STATUS_H + 150, SCREEN_W - SIDE, STATUS_H + 270), style="title"))
    return bar


class Row:
    """One list row, placed later by :func:`scroll_list`."""

    def __init__(self, title: str, *, summary: str = "", value: str = "", action: str | None = None,
                 switch: bool | None = None, rid: str = "", height: int = 0, style: str = "row",
                 enabled: bool = True, header: bool = False) -> None:
        self.title, self.summary, self.value, self.action = title, summary, value, action
        self.switch, self.rid, self.style, self.enabled, self.header = switch, rid, style, enabled, header
        self.height = height or (110 if header else ROW_H if summary else ROW_SMALL_H)

    def build(self, top: int, title_rid: str) -> Node:
        bottom = top + self.height
        if self.header:
            return Node(cls=TEXT_VIEW, text=self.title, rid="android:id/title", bounds=(SIDE, top + 30, SCREEN_W - SIDE, bottom), style="header")
        row = Node(cls=LINEAR, rid=self.rid, bounds=(0, top, SCREEN_W, bottom), clickable=self.action is not None,
                   focusable=True, enabled=self.enabled, style=self.style, action=self.action)
        text_bottom = top + (95 if self.summary else self.height - 30)
        row.add(Node(cls=TEXT_VIEW, text=self.title, rid=title_rid, bounds=(SIDE, top + 30, SCREEN_W - 300, text_bottom),
                     enabled=self.enabled, style="row_title"))
        if self.summary:
            row.add(Node(cls=TEXT_VIEW, text=self.summary, rid="android:id/summary", bounds=(SIDE, top + 95, SCREEN_W - 200, bottom - 25),
                         style="row_summary"))
        if self.value:
            row.add(Node(cls=TEXT_VIEW, text=self.value, rid="com.android.settings:id/text_right",
                         bounds=(SCREEN_W - 420, top + 45, SCREEN_W - 110, bottom - 45), style="row_value"))
        if self.switch is not None:
            row.add(Node(cls=SWITCH, rid="android:id/checkbox", bounds=(SCREEN_W - 220, top + 40, SCREEN_W - SIDE, bottom - 40),
                         checkable=True, checked=self.switch, clickable=True, enabled=self.enabled, style="switch", action=self.action))
        return row


def scroll_list(rows: Sequence[Row], top: int, bottom: int, offset: int, rid: str,
                title_rid: str = "android:id/title") -> tuple[Node, int]:
    """A scrollable list showing only the rows inside the viewport, shifted by ``offset``.

    Returns the list node and the largest useful offset (so callers can clamp scrolling).
    Rows cut by an edge keep their visible bounds, as uiautomator reports them.
    """
    total = sum(r.height for r in rows)
    max_offset = max(0, total - (bottom - top))
    offset = max(0, min(offset, max_offset))
    lst = Node(cls=RECYCLER, rid=rid, bounds=(0, top, SCREEN_W, bottom), scrollable=max_offset > 0, focusable=True, style="list")
    y = top - offset
    for row in rows:
        if y + row.height > top and y < bottom:
            node = row.build(y, title_rid)
            _clip(node, top, bottom)
            if node.bounds[3] - node.bounds[1] >= 20:
                lst.add(node)
        y += row.height
    return lst, max_offset


def _clip(node: Node, top: int, bottom: int) -> None:
    left, t, right, b = node.bounds
    node.bounds = (left, max(t, top), right, min(b, bottom))
    node.children = [c for c in node.children if c.bounds[3] > top and c.bounds[1] < bottom]
    for child in node.children:
        _clip(child, top, bottom)


def button(text: str, bounds: tuple[int, int, int, int], action: str, rid: str = "", style: str = "button",
           enabled: bool = True) -> Node:
    return Node(cls=BUTTON, text=text, rid=rid, bounds=bounds, clickable=enabled, focusable=True, enabled=enabled,
                style=style, action=action)


def bottom_button(text: str, action: str, rid: str = "", style: str = "button_primary", enabled: bool = True) -> Node:
    return button(text, (SIDE, SCREEN_H - 260, SCREEN_W - SIDE, SCREEN_H - 120), action, rid, style, enabled)


def text(value: str, bounds: tuple[int, int, int, int], rid: str = "", style: str = "text") -> Node:
    return Node(cls=TEXT_VIEW, text=value, rid=rid, bounds=bounds, style=style)


def dialog(package: str, title: str, *, message: str = "", buttons: Sequence[tuple[str, str, str]] = (),
           edit: tuple[str, str, str, bool] | None = None, error: str = "", progress: bool = False,
           extra: Callable[[int], list[Node]] | None = None, extra_height: int = 0) -> Node:
    """A MIUI bottom-sheet dialog window.

    ``buttons`` are (text, action, style) left to right; ``edit`` is (value, hint, action, password).
    """
    height = 160 + (_lines(message) * 62 if message else 0) + (190 if edit else 0) + (80 if error else 0) \
        + (150 if buttons else 0) + (130 if progress else 0) + extra_height + 60
    top = SCREEN_H - 40 - height
    root = Node(cls=FRAME, package=package, rid="android:id/content", bounds=(30, top, SCREEN_W - 30, SCREEN_H - 40), style="dialog")
    y = top + 60
    root.add(Node(cls=TEXT_VIEW, text=title, rid="android:id/alertTitle", bounds=(SIDE + 20, y, SCREEN_W - SIDE - 20, y + 80), style="dialog_title"))
    y += 110
    if message:
        h = _lines(message) * 62
        root.add(Node(cls=TEXT_VIEW, text=message, rid="android:id/message", bounds=(SIDE + 20, y, SCREEN_W - SIDE - 20, y + h), style="dialog_message"))
        y += h + 20
    if progress:
        root.add(Node(cls="android.widget.ProgressBar", rid="android:id/progress", bounds=(SCREEN_W // 2 - 50, y, SCREEN_W // 2 + 50, y + 100), style="progress"))
        y += 130
    if extra:
        for node in extra(y):
            root.add(node)
        y += extra_height
    if edit:
        value, hint, action, password = edit
        root.add(Node(cls=EDIT, text=value if value else hint, hint=hint, rid="android:id/input", bounds=(SIDE + 20, y, SCREEN_W - SIDE - 20, y + 150),
                      clickable=True, focusable=True, focused=True, password=password and bool(value), style="edit", action=action))
        y += 190
    if error:
        root.add(Node(cls=TEXT_VIEW, text=error, rid="android:id/text1", bounds=(SIDE + 20, y, SCREEN_W - SIDE - 20, y + 60), style="error"))
        y += 80
    if buttons:
        n = len(buttons)
        width = (SCREEN_W - 2 * SIDE - 40 - (n - 1) * 30) // n
        ids = ["android:id/button2", "android:id/button1"] if n == 2 else [f"android:id/button{i + 1}" for i in range(n)]
        for i, (label, action, style) in enumerate(buttons):
            left = SIDE + 20 + i * (width + 30)
            root.add(button(label, (left, y, left + width, y + 130), action, ids[i], style))
    return root


def _lines(message: str) -> int:
    # ~30 wide characters or ~48 latin characters fit on one line of a dialog
    wide = sum(1 for ch in message if ord(ch) > 0x2E80)
    return max(1, -(-(wide * 2 + (len(message) - wide)) // 52))
