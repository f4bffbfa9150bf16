"""Where every verified backup is, per user, so the gate finds a backup wherever it was written.

A backup can go anywhere (``--param backup_dir=/media/usb/backups``, an external disk), and the
gate in front of sign-out and factory reset must find it there, not only under ``./backups``. So
each backup, the moment it is verified (``backup-finish``, ``backup verify``), is recorded here:
the phone's hardware serial, the folder, when, and how much it holds. The gate then accepts any
recorded backup of that phone that still exists and still passes the quick check (manifest and
verified marker agree, every file there with its listed size; ``backup verify`` is the full check).

The records are one JSON object per line in ``backups.jsonl`` under the per-user data folder
(``$MIUI_AUTOMATOR_HOME``, else ``$XDG_DATA_HOME/miui-automator``, else ``~/.local/share/miui-automator``;
``%LOCALAPPDATA%\\miui-automator`` on Windows). A line is appended and fsynced per backup; a torn
line (a crash mid-write) is skipped on reading. A record is only a pointer: it never vouches for a
backup by itself, the folder is checked again every time.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..errors import ConfigError
from .inventory import human_size
from .manifest import load_manifest, verify_backup
from .state import VERIFIED_FILE, backup_folders, now_iso

HOME_ENV = "MIUI_AUTOMATOR_HOME"
RECORDS_FILE = "backups.jsonl"
APP_DIR = "miui-automator"


def data_home() -> Path:
    """The per-user folder of the tool's own records (``$MIUI_AUTOMATOR_HOME`` wins: tests point it at a tmp dir)."""
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV])
    if os.name == "nt":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    else:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / APP_DIR


def records_path() -> Path:
    return data_home() / RECORDS_FILE


@dataclass(frozen=True)
class BackupRecord:
    """One verified backup: whose (hardware serial), where, when it was recorded, and how much it holds."""

    hardware_serial: str
    path: Path
    recorded_at: str
    files: int
    bytes: int

    def describe(self) -> str:
        return f"{self.path} (recorded {self.recorded_at}, {self.files} files, {human_size(self.bytes)})"

    def as_dict(self) -> dict[str, object]:
        return {"hardware_serial": self.hardware_serial, "path": str(self.path), "recorded_at": self.recorded_at,
                "files": self.files, "bytes": self.bytes}

    @classmethod
    def from_dict(cls, data: dict) -> "BackupRecord":
        return cls(str(data["hardware_serial"]), Path(str(data["path"])), str(data["recorded_at"]), int(data["files"]),
                   int(data["bytes"]))


def remember(folder: Path, where: Path | None = None) -> BackupRecord:
    """Record the finished backup in ``folder`` (its manifest says whose it is and how much it holds)."""
    manifest, _ = load_manifest(folder)
    totals = manifest.get("totals") or {}
    record = BackupRecord(str((manifest.get("device") or {}).get("hardware_serial") or ""), Path(folder).resolve(),
                          now_iso(), int(totals.get("files") or 0), int(totals.get("bytes") or 0))
    path = where or records_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record.as_dict(), ensure_ascii=False) + "\n"
    with open(path, "a", encoding="utf-8") as f:  # one short line per write: appends from parallel phones stay whole
        f.write(line)
        f.flush()
        os.fsync(f.fileno())
    return record


def recorded(hardware_serial: str, where: Path | None = None) -> list[BackupRecord]:
    """This phone's recorded backups, newest first, one per folder."""
    try:
        lines = (where or records_path()).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    except OSError as err:
        raise ConfigError(f"{where or records_path()}: cannot read the backup records: {err.strerror or err}") from None
    found: dict[Path, BackupRecord] = {}
    for line in lines:
        try:
            record = BackupRecord.from_dict(json.loads(line))
        except (ValueError, KeyError, TypeError):
            continue  # a torn or foreign line
        if record.hardware_serial == hardware_serial:
            found.pop(record.path, None)
            found[record.path] = record
    return list(reversed(found.values()))


def problem(folder: Path, hardware_serial: str) -> str | None:
    """Why ``folder`` does not count as a verified backup of this phone right now; None when it does.

    The quick check: the manifest is there and is the one that was verified (``verified.json``), it is
    this phone's, and every listed file is present with its listed size. No file is hashed.
    """
    if not folder.is_dir():
        return "the folder is gone"
    try:
        manifest, raw = load_manifest(folder)
    except ConfigError as err:
        return str(err)
    try:
        marker = json.loads((folder / VERIFIED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        marker = None
    if not isinstance(marker, dict) or marker.get("manifest_sha256") != hashlib.sha256(raw).hexdigest():
        return f"not verified (no {VERIFIED_FILE} matching its manifest): run `miui-automator backup verify {folder}`"
    owner = (manifest.get("device") or {}).get("hardware_serial")
    if owner != hardware_serial:
        return f"a backup of another phone ({owner})"
    result = verify_backup(folder, contents=False)
    if not result.ok:
        more = f" and {len(result.problems) - 1} more" if len(result.problems) > 1 else ""
        return f"no longer matches its manifest: {result.problems[0]}{more}"
    return None


@dataclass(frozen=True)
class Search:
    """What the gate's search found: the backup that counts (None: none does), and every candidate turned down."""

    found: Path | None
    record: BackupRecord | None
    rejected: tuple[tuple[Path, str], ...]

    def describe(self) -> str:
        if self.found is None:
            return "none"
        return self.record.describe() if self.record else f"{self.found} (found in {self.found.parent.parent})"


def find_verified(hardware_serial: str, roots: Iterable[Path] = (), where: Path | None = None) -> Search:
    """The newest backup of this phone that passes the quick check: recorded ones first, then any in ``roots``
    (backups written before they were recorded, or recorded under another home)."""
    candidates: list[tuple[Path, BackupRecord | None]] = [(r.path, r) for r in recorded(hardware_serial, where)]
    candidates += [(folder, None) for root in roots for folder in backup_folders(Path(root), hardware_serial)]
    rejected: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    for folder, record in candidates:
        key = folder.resolve()
        if key in seen:
            continue
        seen.add(key)
        why = problem(folder, hardware_serial)
        if why is None:
            return Search(folder, record, tuple(rejected))
        rejected.append((folder, why))
    return Search(None, None, tuple(rejected))


def remember_quietly(folder: Path) -> str | None:
    """:func:`remember`, for the moment a backup is verified: a records file that cannot be written must not
    fail a backup that is complete on disk. Returns a warning to show instead (None when recorded)."""
    try:
        remember(folder)
    except (OSError, ConfigError) as err:
        return (f"{folder} is verified but could not be recorded in {records_path()} "
                f"({getattr(err, 'strerror', None) or err}): the backup gate finds it only under ./backups")
    return None

