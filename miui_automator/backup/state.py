"""Progress of a backup that is not finished yet, kept on disk so an interrupted backup resumes.

A backup folder holds, until it is complete:

- ``backup-state.json`` — who (device identity), when it started, which stages ran and how
  they ended, exports done, the MIUI-backup folder pulled, warnings, the last error;
- ``backup-inventory.json`` — the files listed on the phone by the last ``backup-begin``;
- ``backup-pulled.jsonl`` — one line per file pulled *and verified* against the phone's md5,
  appended as it happens (a torn last line after a crash is ignored, so at worst one file is
  pulled again).

``backup-manifest.json`` appears only when everything is complete and verified; then these
three files are removed. A folder with a state file and no manifest is an incomplete backup.

A file being pulled is written into ``.partial/`` under a name made from a hash of where it
goes, never beside its final place: a phone file or folder can be called anything (even
``x.part``, or 255 bytes long), and the sweep of an interrupted run's leftovers then touches
only what the tool itself wrote. Phone names that are not UTF-8 are kept as surrogateescape
strings; the JSON files write those surrogates as ``\\udcXX`` escapes, which read back to the
same string, so every name survives the round trip. Everything is written owner-only
(:mod:`miui_automator.private_files`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterable

from ..errors import StepFailed
from ..private_files import fresh_private_dir, open_private
from .inventory import Inventory, RemoteFile

STATE_FILE = "backup-state.json"
INVENTORY_FILE = "backup-inventory.json"
JOURNAL_FILE = "backup-pulled.jsonl"
MANIFEST_FILE = "backup-manifest.json"
VERIFIED_FILE = "verified.json"
STAGING_DIR = ".partial"
PART_SUFFIX = ".part"
FORMAT = "miui-automator-backup"
FORMAT_VERSION = 1
STAMP_FORMAT = "%Y%m%d-%H%M%S"
_STAMP = re.compile(r"^\d{8}-\d{6}(-\d+)?$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def device_folder(hardware_serial: str) -> str:
    """The per-phone folder name: the hardware serial, with anything unsafe in a file name replaced."""
    return _UNSAFE.sub("_", hardware_serial).strip(".") or "unknown"


def json_bytes(data: object, indent: int | None = 1) -> bytes:
    """UTF-8 JSON in which a surrogateescape name (a phone name that is not UTF-8) becomes a ``\\udcXX``
    escape: ``json.loads`` gives back the very same string, so the name's bytes survive."""
    return json.dumps(data, indent=indent, ensure_ascii=False).encode("utf-8", "backslashreplace")


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write (owner-only), fsync, then rename: a crash leaves the old file or the new one, never half of one."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open_private(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, data: object, indent: int | None = 1) -> None:
    write_bytes_atomic(path, json_bytes(data, indent) + b"\n")


def staging_path(folder: Path, local: str) -> Path:
    """Where the file bound for ``local`` is written while it is pulled: a fixed-length name no phone name can
    collide with or lengthen past the host's limit."""
    digest = hashlib.sha256(local.encode("utf-8", "surrogateescape")).hexdigest()[:40]
    return folder / STAGING_DIR / (digest + PART_SUFFIX)


@dataclass(frozen=True)
class PulledFile:
    """A file copied from the phone and checked: ``md5`` is the phone's, ``sha256`` the local copy's."""

    remote: str
    local: str  # relative to the backup folder, with /
    size: int
    mtime: int
    md5: str
    sha256: str
    kind: str = "file"  # "file" (the user's) or "miui-backup"
    listed_size: int = -1  # size as listed when it was pulled: identifies the version on the phone

    def as_dict(self) -> dict[str, object]:
        return {"remote": self.remote, "local": self.local, "size": self.size, "mtime": self.mtime, "md5": self.md5,
                "sha256": self.sha256, "kind": self.kind, "listed_size": self.listed_size}

    def manifest_entry(self) -> dict[str, object]:
        return {"remote": self.remote, "local": self.local, "size": self.size, "mtime": self.mtime, "md5": self.md5,
                "sha256": self.sha256, "kind": self.kind}

    @classmethod
    def from_dict(cls, data: dict) -> "PulledFile":
        return cls(str(data["remote"]), str(data["local"]), int(data["size"]), int(data["mtime"]), str(data["md5"]),
                   str(data["sha256"]), str(data.get("kind", "file")), int(data.get("listed_size", data["size"])))


def is_incomplete(folder: Path) -> bool:
    return (folder / STATE_FILE).is_file() and not (folder / MANIFEST_FILE).exists()


def backup_folders(root: Path, hardware_serial: str) -> list[Path]:
    """This phone's backup folders under ``root``, newest first (names are timestamps)."""
    base = root / device_folder(hardware_serial)
    if not base.is_dir():
        return []
    found = [p for p in base.iterdir() if p.is_dir() and _STAMP.match(p.name)]
    return sorted(found, key=lambda p: _stamp_key(p.name), reverse=True)


def _stamp_key(name: str) -> tuple[str, int]:
    """``20250101-120000-2`` (a second backup in the same second) sorts after ``20250101-120000``."""
    return name[:15], int(name[16:] or 1)


def resumable_folder(root: Path, hardware_serial: str) -> Path | None:
    """The newest incomplete backup of this phone, unless a complete one is newer (then that one was abandoned)."""
    for folder in backup_folders(root, hardware_serial):
        if (folder / MANIFEST_FILE).exists():
            return None
        if is_incomplete(folder):
            return folder
    return None


def new_folder(root: Path, hardware_serial: str, when: float | None = None) -> Path:
    return fresh_private_dir(root / device_folder(hardware_serial), time.strftime(STAMP_FORMAT, time.localtime(when)))


class BackupState:
    """The state file of one backup folder, plus its inventory and journal."""

    def __init__(self, folder: Path, data: dict) -> None:
        self.folder = folder
        self.data = data

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def create(cls, folder: Path, device: dict[str, object]) -> "BackupState":
        state = cls(folder, {"format": FORMAT, "version": FORMAT_VERSION, "status": "incomplete", "device": device,
                             "started": now_iso(), "started_epoch": time.time(), "stages": {}, "exports": {},
                             "miui_backup": None, "warnings": [], "error": None})
        state.save()
        return state

    @classmethod
    def load(cls, folder: Path) -> "BackupState":
        path = folder / STATE_FILE
        if (folder / MANIFEST_FILE).exists():
            raise StepFailed(f"{folder} is a finished backup (it has {MANIFEST_FILE}); start a new one with backup-begin")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise StepFailed(f"no backup in progress in {folder} (no {STATE_FILE}): run backup-begin first") from None
        except (OSError, ValueError) as err:
            raise StepFailed(f"{path}: unreadable backup state: {err}") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise StepFailed(f"{path} is not a miui-automator backup state")
        shapes = {"device": dict, "stages": dict, "exports": dict, "warnings": list}
        wrong = [key for key, kind in shapes.items() if not isinstance(data.get(key), kind)]
        if wrong:
            raise StepFailed(f"{path}: damaged backup state ({', '.join(wrong)} missing or malformed): "
                             f"start a new backup")
        return cls(folder, data)

    def save(self) -> None:
        write_json_atomic(self.folder / STATE_FILE, self.data)

    def remove_files(self) -> None:
        """After the manifest is written: the state, inventory and journal have nothing left to say."""
        for name in (STATE_FILE, INVENTORY_FILE, JOURNAL_FILE):
            (self.folder / name).unlink(missing_ok=True)

    def remove_partials(self) -> int:
        """Half-pulled files of an interrupted run: the staging folder's contents, nothing else."""
        staging = self.folder / STAGING_DIR
        if not staging.is_dir() or staging.is_symlink():
            return 0
        count = sum(1 for _ in staging.iterdir())
        shutil.rmtree(staging)
        return count

    # ------------------------------------------------------------------ stages, warnings, errors
    @property
    def device(self) -> dict:
        return self.data["device"]

    def stage(self, name: str) -> str | None:
        return self.data["stages"].get(name)

    def set_stage(self, name: str, status: str) -> None:
        self.data["stages"][name] = status
        if status == "running":
            self.data["error"] = None
        self.save()

    def warn(self, message: str) -> None:
        if message not in self.data["warnings"]:
            self.data["warnings"].append(message)

    def fail(self, stage: str, message: str, trace: str | None = None) -> None:
        """Record why a stage stopped (``trace``: where in the code, for a fault nobody foresaw); the backup
        stays incomplete and resumable."""
        self.data["stages"][stage] = "failed"
        self.data["status"] = "incomplete"
        self.data["error"] = {"stage": stage, "message": message, "at": now_iso()}
        if trace:
            self.data["error"]["trace"] = trace
        self.save()

    # ------------------------------------------------------------------ inventory and journal
    def save_inventory(self, inventory: Inventory) -> None:
        # one line: json's fast (C) encoder writes only unindented JSON, and this file is for the tool alone
        write_json_atomic(self.folder / INVENTORY_FILE, inventory.as_dict(), indent=None)

    def inventory(self) -> Inventory:
        path = self.folder / INVENTORY_FILE
        try:
            return Inventory.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise StepFailed(f"{self.folder}: no inventory yet: run backup-begin first") from None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            raise StepFailed(f"{path}: unreadable inventory: {type(err).__name__}: {err}") from None

    def records(self) -> dict[str, PulledFile]:
        """Files pulled and verified so far, by remote path (a later line wins; a torn line is skipped)."""
        done: dict[str, PulledFile] = {}
        try:
            with open(self.folder / JOURNAL_FILE, encoding="utf-8", errors="replace") as f:
                for line in f:
                    try:
                        record = PulledFile.from_dict(json.loads(line))
                    except (ValueError, KeyError, TypeError):
                        continue
                    done[record.remote] = record
        except FileNotFoundError:
            pass
        return done

    def journal(self) -> "Journal":
        return Journal(self.folder / JOURNAL_FILE)

    def pending(self, files: Iterable[RemoteFile]) -> list[RemoteFile]:
        """Files not yet pulled in the version the phone has now (same listed size and mtime), or whose copy is gone."""
        done = self.records()
        todo = []
        for f in files:
            record = done.get(f.path)
            if record is None or (record.listed_size, record.mtime) != (f.size, f.mtime) or not self._intact(record):
                todo.append(f)
        return todo

    def _intact(self, record: PulledFile) -> bool:
        try:
            return (self.folder / record.local).stat().st_size == record.size
        except OSError:
            return False


class Journal:
    """Appends one JSON line per verified file; flushed per line, fsynced on :meth:`sync` and close."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._f: IO[bytes] | None = None

    def __enter__(self) -> "Journal":
        self._f = open_private(self.path, "ab")
        return self

    def add(self, record: PulledFile) -> None:
        assert self._f is not None
        self._f.write(json_bytes(record.as_dict(), indent=None) + b"\n")
        self._f.flush()

    def sync(self) -> None:
        if self._f is not None:
            os.fsync(self._f.fileno())

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if self._f is None:
            return
        try:
            self.sync()
        except OSError:
            if exc_type is None:
                raise  # otherwise the error already on its way (a full disk) is the one to report
        finally:
            try:
                self._f.close()
            except OSError:
                if exc_type is None:
                    raise
            self._f = None

