"""A flow and a catalogue with their string resources resolved for one phone.

The parsed flow and catalogue are frozen and shared by every phone of a run; resolution makes a
copy per phone in which each selector's and matcher's ``text`` alternatives also hold the texts the
phone's APKs give for the named resources (literal texts stay as fallbacks). The engine then matches
plain texts as always: resolution lives here, not in the engine. A resource the phone could not
resolve is noted on the selector (its "not found" message names it) and in the catalogue, whose
:meth:`ResolvedCatalogue.identify` names it when a screen of that app is not recognised.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

from ..device.hierarchy import Hierarchy
from ..flow.model import Flow, StepBase
from ..flow.selectors import UNRESOLVED, Selector
from ..screens.catalogue import UNKNOWN, Catalogue, Identification, KnownScreen, Matcher
from .refs import TextRef
from .resolver import Resolution

MAX_NOTES = 4
"""Unresolved resources named in one "unknown screen" message; more are counted."""


# ---------------------------------------------------------------------------------- what is named
def _selectors(value: Any) -> Iterator[Selector]:
    if isinstance(value, Selector):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _selectors(item)


def flow_refs(flow: Flow) -> set[TextRef]:
    """Every resource the flow's selectors name, its sub-flows' included."""
    refs: set[TextRef] = set()
    for item in flow.walk(subflows=True):
        for f in dataclasses.fields(item):
            for sel in _selectors(getattr(item, f.name)):
                refs.update(sel.text_refs)
    return refs


def _matchers(screen: KnownScreen) -> Iterator[tuple[str | None, Matcher]]:
    """(package it looks in, matcher) of every matcher of ``screen``."""
    for sig in screen.signatures:
        for m in sig.all + sig.any:
            yield m.package or sig.package, m
    for m in screen.dismiss:
        yield m.package or screen.package, m


def catalogue_refs(catalogue: Catalogue) -> set[TextRef]:
    return {ref for screen in catalogue.screens for _, m in _matchers(screen) for ref in m.text_refs}


# ---------------------------------------------------------------------------------- the flow
def _template_literal(text: str) -> str:
    """A phone's text inside a selector, where ``${`` starts a param reference: kept literal (``$${``)."""
    return text.replace("${", "$${")


def resolve_selector(sel: Selector, resolution: Resolution) -> Selector:
    if not sel.text_refs:
        return sel
    found = [_template_literal(resolution.texts[r]) for r in sel.text_refs if r in resolution.texts]
    literals = [t for t in sel.text if t != UNRESOLVED]
    texts = tuple(dict.fromkeys(found + literals)) or (UNRESOLVED,)
    missing = tuple(resolution.why_missing(r) for r in sel.text_refs if r not in resolution.texts)
    return replace(sel, text=texts, resolved=True, unresolved=missing)


def resolve_flow(flow: Flow, resolution: Resolution) -> Flow:
    """``flow`` with every selector resolved (sub-flows too); the flow itself is left unchanged."""
    memo: dict[int, Any] = {}

    def rebuild(value: Any) -> Any:
        if isinstance(value, Selector):
            return resolve_selector(value, resolution)
        if isinstance(value, tuple):
            items = tuple(rebuild(v) for v in value)
            return value if all(a is b for a, b in zip(items, value)) else items
        if isinstance(value, (Flow, StepBase)):
            key = id(value)
            if key not in memo:
                changes = {}
                for f in dataclasses.fields(value):
                    if not f.init:
                        continue
                    old = getattr(value, f.name)
                    new = rebuild(old)
                    if new is not old:
                        changes[f.name] = new
                memo[key] = replace(value, **changes) if changes else value
            return memo[key]
        return value

    return rebuild(flow)


# ---------------------------------------------------------------------------------- the catalogue
def resolve_matcher(m: Matcher, resolution: Resolution) -> Matcher:
    if not m.text_refs:
        return m
    found = tuple(resolution.texts[r] for r in m.text_refs if r in resolution.texts)
    missing = tuple(resolution.why_missing(r) for r in m.text_refs if r not in resolution.texts)
    return replace(m, texts=tuple(dict.fromkeys(found + (m.texts or ()))), unresolved=missing)


def resolve_catalogue(catalogue: Catalogue, resolution: Resolution) -> "ResolvedCatalogue":
    screens = []
    for screen in catalogue.screens:
        sigs = tuple(replace(sig, all=tuple(resolve_matcher(m, resolution) for m in sig.all),
                             any=tuple(resolve_matcher(m, resolution) for m in sig.any)) for sig in screen.signatures)
        dismiss = tuple(resolve_matcher(m, resolution) for m in screen.dismiss)
        screens.append(replace(screen, signatures=sigs, dismiss=dismiss))
    return ResolvedCatalogue(screens, catalogue.source, resolution)


class ResolvedCatalogue(Catalogue):
    """The catalogue in one phone's language; an unknown screen names the resources of its app that were not found."""

    def __init__(self, screens: Iterable[KnownScreen], source: str, resolution: Resolution) -> None:
        super().__init__(screens, source)
        self.resolution = resolution
        notes: dict[str, dict[str, None]] = {}
        for screen in self.screens:
            for package, m in _matchers(screen):
                for note in m.unresolved:
                    notes.setdefault(package or "", {})[note] = None
        self._notes = {package: tuple(found) for package, found in notes.items()}

    def unresolved_for(self, h: Hierarchy) -> tuple[str, ...]:
        """The unresolved resources of the apps on screen (those of screens without a package too)."""
        found: dict[str, None] = {}
        for package in sorted(h.packages) + [""]:
            found.update(dict.fromkeys(self._notes.get(package, ())))
        return tuple(found)

    def identify(self, h: Hierarchy, variant: str | None = None) -> Identification:
        ident = super().identify(h, variant)
        if ident.name != UNKNOWN:
            return ident
        notes = self.unresolved_for(h)
        if not notes:
            return ident
        shown = "; ".join(notes[:MAX_NOTES]) + (f"; and {len(notes) - MAX_NOTES} more" if len(notes) > MAX_NOTES else "")
        return replace(ident, seen=f"{shown}; the phone shows: {ident.seen}")
