"""User catalogues laid over the built-in one: screens a phone showed that the package did not know.

A carrier ROM adds a dialog, an update renames a button: the person holding the phone teaches the
tool in a catalogue file of their own instead of editing the installed package. Files are read in
this order, each adding to what came before:

1. the per-user catalogue, ``catalogue.yaml`` in the user folder (:func:`user_home`), and the
   catalogues imported from bundles (``imported/<bundle>/*.yaml`` there, see ``bundle.py``);
2. every file in ``MIUI_AUTOMATOR_CATALOGUE`` (a path list, separated like ``PATH``);
3. every ``--catalogue FILE`` given on the command line.

An entry whose name is already known adds its signatures (a new wording, a new ROM) to that screen;
signatures without a package of their own look in the screen's package. A new name defines a new
screen that flows can ``expect`` and ``drive`` rules can handle. Each file is validated completely
by the catalogue's own parser, so errors read ``FILE:LINE: message`` like flow errors.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from ..errors import ConfigError
from .catalogue import Catalogue, KnownScreen, Signature, default_catalogue

HOME_ENV = "MIUI_AUTOMATOR_HOME"
CATALOGUE_ENV = "MIUI_AUTOMATOR_CATALOGUE"
USER_CATALOGUE = "catalogue.yaml"
IMPORTED = "imported"
EVIDENCE = "screens"  # per screen name: the redacted hierarchy and screenshot that justified it


def user_home() -> Path:
    """The per-user folder: ``$MIUI_AUTOMATOR_HOME``, else ``$XDG_CONFIG_HOME/miui-automator``,
    else ``~/.config/miui-automator``."""
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV])
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(config) / "miui-automator"


def user_catalogue_path() -> Path:
    return user_home() / USER_CATALOGUE


def evidence_dir(catalogue_file: Path, name: str) -> Path:
    """Where the redacted hierarchy and screenshot of a taught screen live: beside its catalogue."""
    return catalogue_file.parent / EVIDENCE / name


def evidence_roots() -> list[Path]:
    """Every folder of saved evidence: the user's own and each imported bundle's."""
    home = user_home()
    return [home / EVIDENCE, *sorted(p / EVIDENCE for p in (home / IMPORTED).glob("*") if p.is_dir())]


def overlay_paths(extra: Iterable[str | Path] = ()) -> list[Path]:
    """The user catalogue files in the order they apply; named files that do not exist are errors,
    the per-user defaults are simply absent until something is taught."""
    home = user_home()
    found: list[Path] = []
    if (home / USER_CATALOGUE).is_file():
        found.append(home / USER_CATALOGUE)
    found.extend(sorted(p for p in (home / IMPORTED).glob("*/*.yaml") if p.is_file()))
    named = [Path(p) for p in os.environ.get(CATALOGUE_ENV, "").split(os.pathsep) if p.strip()]
    for path in named:
        if not path.is_file():
            raise ConfigError(f"{path}: no such screen catalogue (listed in ${CATALOGUE_ENV})", path=str(path))
    for path in map(Path, extra):
        if not path.is_file():
            raise ConfigError(f"{path}: no such screen catalogue (--catalogue)", path=str(path))
        named.append(path)
    seen: set[Path] = set()
    ordered = []
    for path in [*found, *named]:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            ordered.append(path)
    return ordered


class OverlaidCatalogue(Catalogue):
    """A catalogue merged from several files; :meth:`origin` names the file of each signature."""

    def __init__(self, screens: Iterable[KnownScreen], source: str, origins: dict[Signature, str],
                 files: Sequence[str] = ()) -> None:
        super().__init__(screens, source)
        self._origins = origins
        self.files = tuple(files)

    def origin(self, sig: Signature) -> str:
        return self._origins.get(sig, self.source)


def merge(base: Catalogue, overlays: Sequence[Catalogue]) -> OverlaidCatalogue:
    """``base`` with each overlay applied in turn (see the module docstring for the rules)."""
    origins: dict[Signature, str] = {}
    base_origin = getattr(base, "origin", None)
    for screen in base.screens:
        for sig in screen.signatures:
            origins[sig] = base_origin(sig) if base_origin else base.source
    screens: dict[str, KnownScreen] = {s.name: s for s in base.screens}
    for overlay in overlays:
        for entry in overlay.screens:
            known = screens.get(entry.name)
            if known is None:
                screens[entry.name] = entry
                origins.update((sig, overlay.source) for sig in entry.signatures)
                continue
            _check_compatible(known, entry, overlay.source)
            added = tuple(sig if sig.package is not None else replace(sig, package=known.package)
                          for sig in entry.signatures)
            origins.update((sig, overlay.source) for sig in added)
            screens[entry.name] = replace(
                known, signatures=known.signatures + added, dismiss=known.dismiss + entry.dismiss,
                activity=known.activity or entry.activity, action=known.action or entry.action,
                description=known.description or entry.description)
    files = [*getattr(base, "files", (base.source,)), *(o.source for o in overlays)]
    return OverlaidCatalogue(screens.values(), " + ".join(files), origins, files)


def _check_compatible(known: KnownScreen, entry: KnownScreen, source: str) -> None:
    """An entry adding to a known screen may not change what kind of screen it is."""
    where = f"{source}:{entry.line}"
    if entry.popup and not known.popup:
        raise ConfigError(f"{where}: screen {entry.name!r} is already known as a screen, not a popup; "
                          f"choose a new name for the popup", path=source, line=entry.line)
    if entry.overlay and not known.overlay:
        raise ConfigError(f"{where}: screen {entry.name!r} is already known as a full page; "
                          f"'overlay: true' would change how every flow ranks it — choose a new name",
                          path=source, line=entry.line)


_cache: dict[tuple, Catalogue] = {}


def load_catalogue(extra: Iterable[str | Path] = (), base: Catalogue | None = None) -> Catalogue:
    """The built-in catalogue with every user catalogue laid over it (re-read when a file changes)."""
    base = base or default_catalogue()
    paths = overlay_paths(extra)
    if not paths:
        return base
    key = (id(base), *((str(p.resolve()), p.stat().st_mtime_ns, p.stat().st_size) for p in paths))
    cached = _cache.get(key)
    if cached is None:
        cached = merge(base, [Catalogue.load(p) for p in paths])
        _cache.clear()
        _cache[key] = cached
    return cached
