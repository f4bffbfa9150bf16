"""MIUI's own local backup (Settings > Back up and restore): find its newest folder and prove it whole.

MIUI writes ``MIUI/backup/AllBackup/<yyyyMMdd_HHmmss>/`` with a ``descript.xml`` that lists one
``<package>`` per item and a ``<label>(<package>).bak`` per item, each starting with the text
header ``MIUI BACKUP``. A real MIUI 12.5 item reads
``<packageName/><bakFile/><bakType/><pkgSize/><sdSize/><state/><error/>``: sizes of the app's
data (not of the ``.bak``, so they are recorded, not compared) and how the item ended — an
``<error>`` other than 0 is an item MIUI failed to back up. Older writers (and this project's
simulator before it learnt the real layout) put a ``<size>`` of the ``.bak`` instead, which is
compared when present. HyperOS spells the folder ``MIUI/Backup``; shared storage is
case-insensitive, so the names are matched that way.

Checking is pure: :func:`parse_descript` and :func:`check_folder` take bytes, names and sizes,
and return problems as sentences.

While MIUI backs up, its new folder fills with one ``.bak`` per finished item and gets its
``descript.xml`` last: :func:`backup_being_written` reads how far it has got from that folder,
so the wait for MIUI shows items and bytes like a pull does.
"""

from __future__ import annotations

import posixpath
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Mapping

from .inventory import SHARED_STORAGE
from .sync import DirEntry, SyncStream

DESCRIPT = "descript.xml"
BAK_MAGIC = b"MIUI BACKUP\n"
LOCAL_DIR = "miui-backup"


@dataclass(frozen=True)
class BakEntry:
    package: str
    bak_file: str
    size: int | None = None  # <size>: the .bak's own size, in older layouts only
    pkg_size: int | None = None  # <pkgSize>, <sdSize>: the app's data as MIUI counted it
    sd_size: int | None = None
    state: str = ""
    error: str = ""  # "0" (or absent) when MIUI backed the item up

    @property
    def failed(self) -> bool:
        return self.error not in ("", "0")

    def as_dict(self) -> dict[str, object]:
        return {"package": self.package, "bak_file": self.bak_file, "size": self.size, "pkg_size": self.pkg_size,
                "sd_size": self.sd_size, "state": self.state, "error": self.error}


@dataclass
class Descript:
    device: str = ""
    miui_version: str = ""
    date_ms: int | None = None
    packages: list[BakEntry] = field(default_factory=list)

    @property
    def failed(self) -> list[BakEntry]:
        return [p for p in self.packages if p.failed]

    def as_dict(self) -> dict[str, object]:
        return {"device": self.device, "miui_version": self.miui_version, "date_ms": self.date_ms,
                "packages": [p.as_dict() for p in self.packages]}


def _number(pkg: ET.Element, tag: str) -> int | None:
    text = (pkg.findtext(tag) or "").strip()
    return int(text) if text.isdigit() else None


def parse_descript(data: bytes) -> Descript:
    """The parts of ``descript.xml`` a restore depends on; ValueError says what is wrong."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as err:
        raise ValueError(f"{DESCRIPT} is not well-formed XML ({err})") from None
    if root.tag != "MIUI-backup":
        raise ValueError(f"{DESCRIPT} has root <{root.tag}>, not <MIUI-backup>")
    if root.find("bakVersion") is None:
        raise ValueError(f"{DESCRIPT} has no <bakVersion>")
    date = (root.findtext("date") or "").strip()
    info = Descript(device=(root.findtext("device") or "").strip(), miui_version=(root.findtext("miuiVersion") or "").strip(),
                    date_ms=int(date) if date.isdigit() else None)
    for pkg in root.iterfind("packages/package"):
        name = (pkg.findtext("packageName") or "").strip()
        bak = (pkg.findtext("bakFile") or "").strip()
        if not bak:
            raise ValueError(f"{DESCRIPT}: package {name or '?'} has no <bakFile>")
        info.packages.append(BakEntry(name, bak, _number(pkg, "size"), _number(pkg, "pkgSize"), _number(pkg, "sdSize"),
                                      (pkg.findtext("state") or "").strip(), (pkg.findtext("error") or "").strip()))
    if not info.packages:
        raise ValueError(f"{DESCRIPT} lists no packages")
    return info


def check_folder(descript: Descript, sizes: Mapping[str, int], heads: Mapping[str, bytes]) -> list[str]:
    """Problems with a backup folder: ``sizes`` of every file in it by name, ``heads`` the first bytes of each ``.bak``."""
    problems = []
    for entry in descript.packages:
        have = sizes.get(entry.bak_file)
        if entry.failed:
            problems.append(f"MIUI reports {entry.package or entry.bak_file} as not backed up (error {entry.error})")
        elif have is None:
            problems.append(f"{entry.bak_file} (listed for {entry.package}) is missing")
        elif entry.size is not None and have != entry.size:
            problems.append(f"{entry.bak_file} is {have} bytes, {DESCRIPT} lists {entry.size}")
    for name, head in sorted(heads.items()):
        if not head.startswith(BAK_MAGIC):
            problems.append(f"{name} does not start with 'MIUI BACKUP' (not a MIUI backup file, or damaged)")
    return problems


def _child(stream: SyncStream, folder: str, name: str) -> str | None:
    for entry in stream.listdir(folder):
        if entry.is_dir and entry.name.casefold() == name.casefold():
            return f"{folder}/{entry.name}"
    return None


def allbackup_dir(stream: SyncStream, root: str = SHARED_STORAGE) -> str | None:
    """``/sdcard/MIUI/backup/AllBackup`` as spelt on this phone, or None when MIUI never made a local backup."""
    folder: str | None = root
    for name in ("MIUI", "backup", "AllBackup"):
        folder = _child(stream, folder, name) if folder else None
    return folder


def newest_backup(stream: SyncStream, root: str = SHARED_STORAGE) -> tuple[str, dict[str, DirEntry]] | None:
    """(folder, its files by path below it) of the newest backup with a ``descript.xml``; folder names are timestamps."""
    base = allbackup_dir(stream, root)
    if base is None:
        return None
    for entry in sorted((e for e in stream.listdir(base) if e.is_dir), key=lambda e: e.name, reverse=True):
        folder = f"{base}/{entry.name}"
        files = {path[len(folder) + 1:]: e for path, e in stream.walk(folder) if e.is_file}
        if DESCRIPT in files:
            return folder, files
    return None


def local_folder(remote_folder: str) -> str:
    return f"{LOCAL_DIR}/{posixpath.basename(remote_folder)}"


@dataclass(frozen=True)
class Written:
    """How far MIUI has got writing a new backup: ``.bak`` items and bytes so far, ``finished`` once ``descript.xml`` is in."""

    folder: str
    items: int
    bytes: int
    finished: bool


def existing_backups(stream: SyncStream, root: str = SHARED_STORAGE) -> list[str]:
    """Names of the AllBackup folders on the phone now: the one MIUI makes later is the newest not among them."""
    base = allbackup_dir(stream, root)
    return sorted(e.name for e in stream.listdir(base) if e.is_dir) if base else []


def backup_being_written(stream: SyncStream, before: set[str], root: str = SHARED_STORAGE) -> Written | None:
    """The newest AllBackup folder not in ``before`` and what is in it so far, or None while MIUI has made none."""
    base = allbackup_dir(stream, root)
    if base is None:
        return None
    new = sorted((e.name for e in stream.listdir(base) if e.is_dir and e.name not in before), reverse=True)
    if not new:
        return None
    folder = f"{base}/{new[0]}"
    files = [e for e in stream.listdir(folder) if e.is_file]
    return Written(folder, sum(1 for e in files if e.name.endswith(".bak")), sum(e.size for e in files),
                   any(e.name == DESCRIPT for e in files))
