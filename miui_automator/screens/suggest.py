"""Teaching a screen: a catalogue entry written from what the phone shows, checked before it is kept.

The entry names the app window on top (a dialog over a page, or the page itself) and picks the
most specific evidence that will still be there next time: resource-ids of the app's own
namespace on the nodes a person sees or touches first (they survive translations and rewordings;
layout containers are left out, they repeat on every page of an app), then generic Android ids paired with
their text (``android:id/alertTitle`` + the title), then literal texts. Texts that change between
phones or minutes never become matchers: anything with digits in it (account ids, phone numbers,
times, sizes), e-mail addresses, what was typed into an edit field, the status bar.

Before anything is written the entry is laid over the current catalogue and must identify this
very hierarchy as the new name, and must not match the saved evidence of any other taught
screen; otherwise the suggestion is refused with the screen that would win instead.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ..device.hierarchy import SYSTEMUI, Hierarchy, HNode
from ..errors import ConfigError, UsageError
from .catalogue import Catalogue
from .overlay import merge
from .page_source import read_hierarchy

MAX_MATCHERS = 3
_NAME = re.compile(r"[a-z][a-z0-9_]*")  # as the catalogue requires
MAX_IDS = 2
MAX_TEXT = 80
_VOLATILE = re.compile(r"\d|@|https?://|www\.")
# Android and AndroidX ids that appear on countless screens: specific only together with a text.
_GENERIC_ID_NAMES = {
    "content", "list", "title", "summary", "text1", "text2", "icon", "up", "message", "alertTitle", "input",
    "checkbox", "switch_widget", "button1", "button2", "button3", "statusBarBackground", "navigationBarBackground",
    "decor_content_parent", "parentPanel", "topPanel", "contentPanel", "buttonPanel", "scrollView", "custom",
    "action_bar", "action_bar_container", "action_bar_title", "action_bar_title_expand", "action_bar_overlay_layout",
    "action_bar_subtitle", "content_view", "recycler_view", "widget_frame", "image", "progress", "empty", "home",
}


@dataclass(frozen=True)
class Suggestion:
    """A proposed catalogue entry and how it fared against the catalogue."""

    name: str
    entry: dict
    yaml: str
    identified_as: str
    also_matched: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())


def _is_generic(rid: str) -> bool:
    namespace, _, name = rid.partition(":id/")
    return namespace in ("android", "androidx", "miui", "miuix") or name in _GENERIC_ID_NAMES or not name


def stable_text(node: HNode) -> str | None:
    """The node's text when it is fit to be a matcher (see the module docstring), else None."""
    text = node.text.strip()
    if not text or text != node.text or len(text) > MAX_TEXT or len(text) < 2 or "\n" in text:
        return None
    if node.password or node.cls.endswith("EditText") or (node.hint and text == node.hint):
        return None
    if _VOLATILE.search(text):
        return None
    return text


def top_window(h: Hierarchy) -> tuple[int, str, bool]:
    """(window index, package, is a dialog over a larger window) of the app window on top."""
    apps = [r for r in h.roots if r.package and r.package != SYSTEMUI and r.area > 0] \
        or [r for r in h.roots if r.package and r.package != SYSTEMUI]
    if not apps:
        raise UsageError("the hierarchy shows no app window (only the status bar or nothing): nothing to teach")
    top = apps[-1]  # windows are dumped bottom to top
    dialog = any(r.area > top.area for r in apps if r is not top)
    return top.window, top.package, dialog


def _matchers(h: Hierarchy, window: int, package: str) -> list[dict]:
    nodes = [n for n in h.nodes if n.window == window and n.package == package]
    ids: list[dict] = []
    paired: list[dict] = []
    texts: list[dict] = []
    seen_text: set[str] = set()
    for n in nodes:
        text = stable_text(n)
        # Layout containers (content_frame, main_content, ...) repeat on every page of an app;
        # only ids of the nodes a person sees or touches are specific.
        if n.rid and not _is_generic(n.rid) and (not n.children or n.text or n.desc or n.clickable):
            if len(h.find(id=n.rid)) == 1 and len(ids) < MAX_IDS and all(m["id"] != n.rid for m in ids):
                ids.append({"id": n.rid})
            continue
        if n.rid and not _is_generic(n.rid) and n.children:
            continue
        if text is None or text in seen_text:
            continue
        seen_text.add(text)
        (paired if n.rid else texts).append({"id": n.rid, "text": text} if n.rid else {"text": text})
    # Titles and buttons say most about a screen; long texts are the first to be reworded.
    paired.sort(key=lambda m: (not m["id"].endswith(("alertTitle", "title", "action_bar_title_expand")), len(m["text"])))
    texts.sort(key=lambda m: len(m["text"]))
    chosen = (ids + paired + texts)[:MAX_MATCHERS]
    if not chosen:
        raise UsageError(f"nothing stable to recognise this screen by in {package}: no resource-ids of the app and no "
                         f"text without digits — it cannot be taught from this hierarchy")
    return chosen


def suggest(name: str, h: Hierarchy, catalogue: Catalogue, *, activity: str | None = None,
            others: dict[str, Hierarchy] | None = None, description: str | None = None) -> Suggestion:
    """Propose an entry named ``name`` for ``h`` and check it; :class:`UsageError` when it cannot work.

    ``others`` are hierarchies of other screens (name -> hierarchy) the entry must not match.
    """
    if not _NAME.fullmatch(name):
        raise UsageError(f"screen name {name!r} must be lower_snake_case (letters, digits, _; starting with a letter)")
    window, package, dialog = top_window(h)
    matchers = _matchers(h, window, package)
    before = catalogue.identify(h)
    entry: dict = {"description": description or f"taught on {date.today().isoformat()} from what the phone showed",
                   "package": package}
    if activity:
        entry["activity"] = activity
    known = name in catalogue
    existing = catalogue.get(name) if known else None
    if existing is not None and existing.popup:
        raise UsageError(f"{name!r} is a known popup; teaching popups (with what to tap to close them) is not supported "
                         f"by suggest — write the entry by hand")
    # A dialog over a page, or a screen another known screen also matches, must outrank the page below.
    overlay = (dialog or (before.known and before.name != name)) and (existing is None or existing.overlay)
    if overlay and existing is None:
        entry["overlay"] = True
    entry["signatures"] = [{"all": matchers}]
    text = entry_yaml(name, entry)
    trial = merge(catalogue, [_parse_entry(name, text)])
    after = trial.identify(h)
    if after.name != name:
        raise UsageError(f"the suggested entry would not win: this screen would still be identified as {after.name!r} "
                         f"(an overlay screen ranks first); teach it with another name or add matchers by hand",
                         entry=text)
    clashes = []
    new_sigs = trial.get(name).signatures[-1:]
    for other, other_h in (others or {}).items():
        if other != name and any(sig.match(other_h) is not None for sig in new_sigs):
            clashes.append(other)
    if clashes:
        raise UsageError(f"the suggested entry also matches the saved screen(s) {', '.join(sorted(clashes))}: "
                         f"it cannot tell them apart; add a distinguishing matcher by hand", entry=text)
    notes = []
    if before.known and before.name != name:
        notes.append(f"the catalogue identified this screen as {before.name!r} before; {name!r} now ranks above it")
    return Suggestion(name, entry, text, after.name, tuple(c for c in after.candidates if c != name), tuple(notes))


def _parse_entry(name: str, text: str) -> Catalogue:
    """The entry through the catalogue's own validation (a bug here must not write a broken file)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="miui-suggest-") as tmp:
        path = Path(tmp) / f"{name}.yaml"
        path.write_text(_HEADER + text, encoding="utf-8")
        return Catalogue.load(path)


def _scalar(value: str) -> str:
    """A YAML double-quoted scalar (JSON string syntax is a subset of it)."""
    return json.dumps(value, ensure_ascii=False)


def entry_yaml(name: str, entry: dict) -> str:
    """The entry as the YAML lines to put under ``screens:`` (two-space indented)."""
    lines = [f"  {name}:"]
    for key in ("description", "package", "activity"):
        if key in entry:
            lines.append(f"    {key}: {_scalar(entry[key])}")
    if entry.get("overlay"):
        lines.append("    overlay: true")
    lines.append("    signatures:")
    for sig in entry["signatures"]:
        lines.append("      - all:")
        for matcher in sig["all"]:
            inner = ", ".join(f"{k}: {_scalar(v)}" for k, v in matcher.items())
            lines.append(f"          - {{{inner}}}")
    return "\n".join(lines) + "\n"


_HEADER = "version: 1\nscreens:\n"


def write_entry(path: Path, suggestion: Suggestion) -> None:
    """Append the entry to the catalogue file at ``path`` (created when absent), then re-read the file
    so a file whose ``screens:`` is not its last section is left untouched instead of broken."""
    old = path.read_text(encoding="utf-8") if path.exists() else None
    if old is not None:
        current = Catalogue.load(path)
        if suggestion.name in current:
            raise ConfigError(f"{path}:{current.get(suggestion.name).line}: screen {suggestion.name!r} is already in this "
                              f"file; edit it there, or teach the new screen under another name", path=str(path))
        new = old + ("" if old.endswith("\n") or not old else "\n") + suggestion.yaml
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        new = "# Screens taught with `miui-automator screens suggest` (see the README).\n" + _HEADER + suggestion.yaml
    path.write_text(new, encoding="utf-8")
    try:
        ok = suggestion.name in Catalogue.load(path)
    except ConfigError:
        ok = False
    if not ok:
        if old is None:
            path.unlink()
        else:
            path.write_text(old, encoding="utf-8")
        raise ConfigError(f"{path}: could not append the entry (is 'screens:' the last section?); the file is unchanged. "
                          f"Add it under 'screens:' yourself", path=str(path), entry=suggestion.yaml)


def evidence_hierarchies(root: Path) -> dict[str, Hierarchy]:
    """Saved evidence (``<root>/<name>/hierarchy.xml``) of taught screens, by screen name."""
    found = {}
    for xml in sorted(root.glob("*/hierarchy.xml")):
        try:
            found[xml.parent.name] = read_hierarchy(xml)
        except UsageError:
            continue  # a damaged evidence file must not block teaching another screen
    return found
