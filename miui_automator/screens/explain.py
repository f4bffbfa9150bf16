"""Why a hierarchy is (or is not) a catalogue screen: every signature's checks, held or failed.

``Catalogue.identify`` answers with a name; a person stuck on "unknown screen" needs to know
which screen came closest and what differed — the title id that showed another text, the button
whose wording changed in an update, the package that was not on screen at all. This module
re-runs each signature check by check (the same :meth:`Matcher.find` the catalogue uses, so the
explanation cannot disagree with identification) and, for each failed check, says what the phone
showed instead.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from ..device.hierarchy import SYSTEMUI, Hierarchy
from .catalogue import Catalogue, Identification, KnownScreen, Matcher, Signature
from .redact import redact_text

MAX_SHOWN = 4


@dataclass(frozen=True)
class Check:
    """One condition of a signature: ``kind`` is ``package``, ``all`` or ``any``."""

    kind: str
    what: str
    held: bool
    instead: str = ""
    near: bool = False  # failed, but the node is there with another text, or the text in another package

    def line(self) -> str:
        mark = "ok  " if self.held else "FAIL"
        tail = f" — phone shows {redact_text(self.instead)}" if self.instead and not self.held else ""
        return f"{mark} {self.kind}: {self.what}{tail}"


@dataclass(frozen=True)
class Candidate:
    """A screen's best signature against the hierarchy, with every check it made."""

    screen: KnownScreen
    signature: Signature
    checks: tuple[Check, ...]
    matched: bool
    source: str = ""  # the catalogue file that declares the signature

    @property
    def score(self) -> float:
        """Share of the node checks that held, a near miss counting half (the package is not evidence
        by itself: the status bar puts SystemUI on every screen, so a missing package halves the share
        instead); 1.0 for a package-only signature whose package is there."""
        nodes = [c for c in self.checks if c.kind != "package"]
        if not nodes:
            return 1.0 if self.package_held else 0.0
        share = sum(1.0 if c.held else 0.5 if c.near else 0.0 for c in nodes) / len(nodes)
        return share if self.package_held else share / 2  # the same nodes drawn by another app

    @property
    def package_held(self) -> bool:
        return all(c.held for c in self.checks if c.kind == "package")

    @property
    def close(self) -> bool:
        """Worth showing: it matched, or some node check held in the right package."""
        return self.matched or self.score > 0

    @property
    def where(self) -> str:
        return f"{self.source}:{self.signature.line}" if self.source else f"line {self.signature.line}"

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.held)

    def as_dict(self) -> dict[str, object]:
        return {"screen": self.screen.name, "popup": self.screen.popup, "signature": self.where,
                "matched": self.matched, "score": round(self.score, 3),
                "checks": [{"kind": c.kind, "what": c.what, "held": c.held, "instead": redact_text(c.instead)}
                           for c in self.checks]}


@dataclass(frozen=True)
class Explanation:
    """What ``identify`` said and the closest candidates (matching ones first)."""

    identification: Identification
    candidates: tuple[Candidate, ...]
    summary: str
    packages: tuple[str, ...] = field(default=())

    @property
    def closest(self) -> Candidate | None:
        """The best candidate that did not match: what a new wording most likely changed."""
        return next((c for c in self.candidates if not c.matched), None)

    def as_dict(self) -> dict[str, object]:
        ident = self.identification
        return {"screen": ident.name, "popup": ident.popup.name if ident.popup else None, "seen": redact_text(self.summary),
                "packages": list(self.packages), "candidates": [c.as_dict() for c in self.candidates]}


def explain(catalogue: Catalogue, h: Hierarchy, variant: str | None = None, limit: int = 5) -> Explanation:
    """Identify ``h`` and rank every screen's best signature by the share of checks that held."""
    ident = catalogue.identify(h, variant)
    ranked = []
    for order, screen in enumerate(catalogue.screens):
        best = _best(screen, h, variant, catalogue)
        if best is not None:
            # A screen of the app on screen is the likelier relative (a reworded title, a new ROM).
            same_app = 0.25 if screen.package and screen.package == h.main_package and best.score > 0 else 0.0
            ranked.append((not best.matched, -(best.score + same_app), -len(best.checks), order, best))
    ranked.sort(key=lambda item: item[:4])
    named = {ident.name, ident.popup.name if ident.popup else None}
    chosen = [c for *_, c in ranked if c.matched and c.screen.name in named]
    others = [c for *_, c in ranked if c not in chosen and c.close]
    return Explanation(ident, tuple(chosen + others[:limit]), h.summary(),
                       tuple(sorted(p for p in h.packages if p != SYSTEMUI)))


def _best(screen: KnownScreen, h: Hierarchy, variant: str | None, catalogue: Catalogue) -> Candidate | None:
    best: Candidate | None = None
    origin = getattr(catalogue, "origin", None)  # an overlaid catalogue knows each signature's file
    for sig in screen.signatures:
        if not sig.applies_to(variant):
            continue
        cand = explain_signature(screen, sig, h, origin(sig) if origin else catalogue.source)
        if best is None or (cand.matched, cand.score, len(cand.checks)) > (best.matched, best.score, len(best.checks)):
            best = cand
    return best


def explain_signature(screen: KnownScreen, sig: Signature, h: Hierarchy, source: str = "") -> Candidate:
    """Every check of ``sig`` against ``h``; ``matched`` agrees with :meth:`Signature.match`."""
    checks: list[Check] = []
    package = sig.package
    if package is not None:
        held = package in h.packages
        shown = ", ".join(sorted(p for p in h.packages if p != SYSTEMUI)[:MAX_SHOWN]) or "no app"
        checks.append(Check("package", package, held, "" if held else shown))
    for matcher in sig.all:
        checks.append(_check("all", matcher, h, package))
    if sig.any:
        alternatives = [_check("any", m, h, package) for m in sig.any]
        held = [c for c in alternatives if c.held]
        if held:
            checks.append(held[0])
        else:
            what = " | ".join(c.what for c in alternatives)
            instead = "; ".join(c.instead for c in alternatives if c.instead)
            checks.append(Check("any", what, False, instead))
    return Candidate(screen, sig, tuple(checks), sig.match(h) is not None, source)


def _check(kind: str, matcher: Matcher, h: Hierarchy, package: str | None) -> Check:
    what = matcher.describe()
    if matcher.find(h, package):
        return Check(kind, what, True)
    said, near = instead(matcher, h, package)
    return Check(kind, what, False, said, near)


def instead(matcher: Matcher, h: Hierarchy, package: str | None) -> tuple[str, bool]:
    """(what the phone showed where ``matcher`` looked, whether that was nearly it): the node with
    its id and another text, the same node in another package, or the closest texts on screen."""
    where = matcher.package or package
    if matcher.ids:
        with_id = h.find(id=matcher.ids)
        if not with_id:
            return f"no node with id {' | '.join(matcher.ids)}", False
        in_package = [n for n in with_id if where is None or n.package == where]
        if not in_package:
            return f"that id only in {', '.join(sorted({n.package for n in with_id}))}", True
        return "that id with " + ", ".join(_node_words(n) for n in in_package[:MAX_SHOWN]), True
    if matcher.texts or matcher.text_contains or matcher.text_matches is not None:
        wanted = list(matcher.texts or ()) or [matcher.text_contains or matcher.text_matches.pattern]  # type: ignore[union-attr]
        same = h.find(text=matcher.texts) if matcher.texts else []
        if same and where is not None and all(n.package != where for n in same):
            return f"that text only in {', '.join(sorted({n.package for n in same}))}", True
        texts = h.texts()
        close = []
        for want in wanted:
            close.extend(t for t in difflib.get_close_matches(want, texts, n=2, cutoff=0.5) if t not in close)
        if close:
            return "closest texts " + ", ".join(repr(_short(t)) for t in close[:MAX_SHOWN]), False
        return "no such text", False
    if matcher.cls:
        same = h.find(cls=matcher.cls)
        if same:
            return f"{matcher.cls} only in {', '.join(sorted({n.package for n in same}))}", True
        return f"no {matcher.cls.rsplit('.', 1)[-1]}", False
    if matcher.desc:
        descs = [n.desc for n in h.nodes if n.desc]
        close = difflib.get_close_matches(matcher.desc, descs, n=2, cutoff=0.5)
        return ("closest descriptions " + ", ".join(repr(d) for d in close) if close else "no such description"), False
    return "no such node", False


def _node_words(node) -> str:
    if node.text:
        return f"text {_short(node.text)!r}"
    if node.desc:
        return f"description {_short(node.desc)!r}"
    return f"no text ({node.cls.rsplit('.', 1)[-1]})"


def _short(text: str, limit: int = 50) -> str:
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


def render_text(exp: Explanation, failed_only: bool = False) -> list[str]:
    """Lines for a terminal: the verdict, then each candidate with its checks (account ids, phone
    numbers and e-mail addresses the phone showed are masked, as in reports)."""
    ident = exp.identification
    lines = []
    if ident.known:
        lines.append(f"screen   {ident.name}" + (f"  (popup over it: {ident.popup.name})" if ident.popup else ""))
    else:
        lines.append("screen   unknown — no catalogue signature matched"
                     + (f" (popup over it: {ident.popup.name})" if ident.popup else ""))
    lines.append(f"seen     {redact_text(exp.summary)}")
    if not exp.candidates:
        lines.append("no known screen shares a single check with this one: teach it with `screens suggest`")
        return lines
    lines.append("candidates (share of checks that held; a near miss counts half):")
    for cand in exp.candidates:
        verdict = "MATCH" if cand.matched else f"{cand.score:.0%}"
        kind = "popup" if cand.screen.popup else "screen"
        lines.append(f"  {cand.screen.name:<26} {verdict:>5}  {kind}, signature at {cand.where}")
        for check in cand.checks:
            if failed_only and check.held:
                continue
            lines.append(f"      {check.line()}")
    return lines

