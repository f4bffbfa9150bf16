"""How a flow names one UI element.

A selector is data, not a query: the device layer decides how to find it in a hierarchy. It lives
apart from the step model because taps, typing, scrolling and waits all share it, and because its
``describe()`` text is what users read in logs and reports when an element was not found.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from ..strings.refs import TextRef

MATCH_KEYS = ("id", "text", "text_matches", "text_contains", "desc", "cls", "package")
"""Keys that match elements; a selector needs at least one."""

MODIFIER_KEYS = ("index", "last", "scroll")
"""Keys that pick among matches or say how to search, never matching anything by themselves."""

UNRESOLVED = "\x00unresolved"
"""The ``text`` of a selector whose only texts are string resources, until they are resolved: no UI
text can equal it (a hierarchy is XML, which cannot hold NUL), so such a selector never matches
everything by mistake."""


def quote(text: str) -> str:
    """Quote a string for human-readable descriptions (JSON rules, non-ASCII kept readable)."""
    return json.dumps(text, ensure_ascii=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Selector:
    """Every given key must hold for an element to match.

    ``text`` lists alternatives (one per locale): an element matches if its text equals any of them.
    ``text_refs`` are the string resources the flow named among them (``@package:string/key``); a run
    resolves them on the phone and adds their texts to ``text`` (:mod:`miui_automator.strings.apply`),
    noting in ``unresolved`` the ones the phone could not resolve.
    ``index`` picks the n-th match (0-based, document order); ``last`` picks the last one.
    ``scroll`` asks the engine to scroll the page until the element appears before acting.
    String fields may hold ``${param}`` references; ``text_matches`` is a regex compiled at load.
    """

    line: int
    id: str | None = None
    text: tuple[str, ...] = ()
    text_refs: tuple[TextRef, ...] = ()
    resolved: bool = False
    unresolved: tuple[str, ...] = ()
    text_matches: re.Pattern[str] | None = None
    text_contains: str | None = None
    desc: str | None = None
    cls: str | None = None
    package: str | None = None
    index: int | None = None
    last: bool = False
    scroll: bool = False

    def describe(self) -> str:
        """One line, e.g. ``text "Sign out" | "退出登录"`` or ``id android:id/input, index 1``."""
        parts: list[str] = []
        if self.id is not None:
            parts.append(f"id {self.id}")
        texts = [quote(t) for t in self.text if t != UNRESOLVED]
        if self.text_refs and not self.resolved:
            texts = [r.written for r in self.text_refs] + texts
        if texts:
            parts.append("text " + " | ".join(texts))
        if self.text_matches is not None:
            parts.append(f"text matching /{self.text_matches.pattern}/")
        parts += [template.format(value) for template, value in (
            ("text containing {}", None if self.text_contains is None else quote(self.text_contains)),
            ("desc {}", None if self.desc is None else quote(self.desc)),
            ("cls {}", self.cls), ("package {}", self.package), ("index {}", self.index)) if value is not None]
        parts += [words for words, on in (("last match", self.last), ("scrolling until found", self.scroll)) if on]
        return ", ".join(parts) + (f" ({'; '.join(self.unresolved)})" if self.unresolved else "")

    def templates(self) -> tuple[str, ...]:
        """The strings that may carry ``${param}`` references (everything but the regex)."""
        fields = (self.id, self.text_contains, self.desc, self.cls, self.package)
        return tuple(t for t in self.text if t != UNRESOLVED) + tuple(f for f in fields if f is not None)
