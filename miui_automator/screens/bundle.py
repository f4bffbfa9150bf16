"""Screen bundles: how a lab shares the screens it taught.

A bundle is a zip file holding the user catalogue files as they were written (comments and all)
and, for every screen they define, the redacted hierarchy and screenshot that justified it::

    manifest.json                     {"format": "miui-automator-screens", "version": 1, ...}
    catalogues/1-catalogue.yaml
    screens/<name>/hierarchy.xml      redacted again on export
    screens/<name>/screenshot.png     edit fields and masked texts blacked out again on export

Importing validates everything before installing anything: each catalogue through the catalogue
parser (errors name ``bundle.zip:catalogues/1-catalogue.yaml:LINE``), the merge with the
catalogues already in use, and each saved hierarchy against the merged catalogue — a bundle
whose own evidence is not identified as the screen it justifies is refused. Installed bundles
live in ``imported/<bundle name>/`` under the user folder, where every command finds them.
A zip is untrusted input: members outside the layout above, links, and sizes past the limits
are refused.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from ..errors import ConfigError, UsageError
from .catalogue import Catalogue, default_catalogue
from .overlay import EVIDENCE, IMPORTED, evidence_dir, merge, overlay_paths, user_home
from .page_source import parse_page_source
from .redact import redact_hierarchy, redact_screenshot

FORMAT = "miui-automator-screens"
VERSION = 1
MAX_MEMBER_BYTES = 32 * 1024 * 1024
MAX_MEMBERS = 2000
_CATALOGUE_MEMBER = re.compile(r"catalogues/[\w.-]+\.yaml")
_EVIDENCE_MEMBER = re.compile(r"screens/([a-z][a-z0-9_]*)/(hierarchy\.xml|screenshot\.png)")
_BUNDLE_NAME = re.compile(r"[\w.-]+")


@dataclass(frozen=True)
class BundleSummary:
    path: Path
    catalogues: tuple[str, ...]
    screens: tuple[str, ...]
    evidence: tuple[str, ...]


def export_bundle(out: Path, catalogue_files: list[Path] | None = None) -> BundleSummary:
    """Write a bundle of ``catalogue_files`` (default: every user catalogue in use) to ``out``."""
    files = overlay_paths() if catalogue_files is None else catalogue_files
    if not files:
        raise UsageError("no user catalogue to export: teach a screen first (miui-automator screens suggest)")
    names: list[str] = []
    evidence: list[str] = []
    members: list[tuple[str, bytes]] = []
    for i, path in enumerate(files, 1):
        loaded = Catalogue.load(path)  # never share a file that does not validate
        members.append((f"catalogues/{i}-{path.stem}.yaml", path.read_bytes()))
        for screen in loaded.screens:
            if screen.name in names:
                continue
            names.append(screen.name)
            folder = evidence_dir(path, screen.name)
            xml_file, png_file = folder / "hierarchy.xml", folder / "screenshot.png"
            if not xml_file.is_file():
                continue
            xml, boxes = redact_hierarchy(xml_file.read_bytes())
            members.append((f"{EVIDENCE}/{screen.name}/hierarchy.xml", xml.encode("utf-8")))
            evidence.append(screen.name)
            if png_file.is_file():
                with Image.open(png_file) as image:
                    buf = io.BytesIO()
                    redact_screenshot(image, boxes).save(buf, format="PNG")
                members.append((f"{EVIDENCE}/{screen.name}/screenshot.png", buf.getvalue()))
    manifest = {"format": FORMAT, "version": VERSION, "screens": names,
                "catalogues": [name for name, _ in members if name.startswith("catalogues/")]}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest, indent=1, ensure_ascii=False))
        for name, data in members:
            zf.writestr(name, data)
    tmp.replace(out)
    return BundleSummary(out, tuple(manifest["catalogues"]), tuple(names), tuple(evidence))


def _read_members(bundle: Path) -> dict[str, bytes]:
    try:
        zf = zipfile.ZipFile(bundle)
    except (OSError, zipfile.BadZipFile) as err:
        raise UsageError(f"{bundle}: not a screen bundle (zip): {err}") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise UsageError(f"{bundle}: {len(infos)} files is more than a screen bundle holds")
        members: dict[str, bytes] = {}
        for info in infos:
            if info.is_dir():
                continue
            name = info.filename
            if name != "manifest.json" and not _CATALOGUE_MEMBER.fullmatch(name) and not _EVIDENCE_MEMBER.fullmatch(name):
                raise UsageError(f"{bundle}: unexpected file {name!r} in a screen bundle")
            if info.file_size > MAX_MEMBER_BYTES:
                raise UsageError(f"{bundle}: {name} is too large ({info.file_size} bytes)")
            members[name] = zf.read(info)
    return members


def import_bundle(bundle: Path, name: str | None = None, base: Catalogue | None = None) -> BundleSummary:
    """Validate ``bundle`` completely, then install it as ``imported/<name>`` (replacing an older copy)."""
    members = _read_members(bundle)
    try:
        manifest = json.loads(members.get("manifest.json", b"").decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise UsageError(f"{bundle}: no manifest.json of a screen bundle (made by `miui-automator screens export`)")
    if manifest.get("version") != VERSION:
        raise UsageError(f"{bundle}: screen bundle version {manifest.get('version')!r} is not supported (expected {VERSION})")
    label = name or bundle.stem
    if not _BUNDLE_NAME.fullmatch(label) or label in (".", ".."):
        raise UsageError(f"bundle name {label!r}: use letters, digits, '.', '-' and '_'")
    catalogues = sorted(n for n in members if n.startswith("catalogues/"))
    if not catalogues:
        raise UsageError(f"{bundle}: the bundle holds no catalogue")
    with tempfile.TemporaryDirectory(prefix="miui-bundle-") as tmp:
        stage = Path(tmp) / label
        loaded = []
        for member in catalogues:
            target = stage / Path(member).name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(members[member])
            try:
                loaded.append(Catalogue.load(target))
            except ConfigError as err:
                raise ConfigError(str(err).replace(str(target), f"{bundle}:{member}"), path=str(bundle)) from None
        current = _current(base)
        merged = merge(current, loaded)
        taught = {s.name for c in loaded for s in c.screens}
        evidence = []
        for member, data in members.items():
            match = _EVIDENCE_MEMBER.fullmatch(member)
            if not match:
                continue
            screen, kind = match.groups()
            if screen not in taught:
                raise UsageError(f"{bundle}: {member} is evidence for {screen!r}, which no catalogue in the bundle defines")
            target = stage / EVIDENCE / screen / kind
            target.parent.mkdir(parents=True, exist_ok=True)
            if kind == "hierarchy.xml":
                try:
                    h = parse_page_source(data)
                except Exception as err:  # noqa: BLE001 - a damaged dump is refused, whatever the parser said
                    raise UsageError(f"{bundle}: {member} is not a UI hierarchy: {err}") from None
                ident = merged.identify(h)
                if screen not in (ident.name, ident.popup.name if ident.popup else None):
                    raise UsageError(f"{bundle}: {member} is identified as {ident.name!r}, not {screen!r}: the bundle's "
                                     f"catalogue does not recognise its own evidence")
                data = redact_hierarchy(data)[0].encode("utf-8")
                evidence.append(screen)
            else:
                try:
                    with Image.open(io.BytesIO(data)) as image:
                        image.verify()
                except (UnidentifiedImageError, OSError, SyntaxError) as err:
                    raise UsageError(f"{bundle}: {member} is not a PNG image: {err}") from None
            target.write_bytes(data)
        dest = user_home() / IMPORTED / label
        if dest.exists():
            shutil.rmtree(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(stage, dest)
    return BundleSummary(dest, tuple(Path(c).name for c in catalogues), tuple(sorted(taught)), tuple(sorted(evidence)))


def _current(base: Catalogue | None) -> Catalogue:
    """The catalogue in use now (built-in + user overlays), which the bundle must merge with."""
    from .overlay import load_catalogue

    return load_catalogue(base=base or default_catalogue())
