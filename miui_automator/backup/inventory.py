"""What the user's files on the phone are, and how much there is, before anything is pulled.

The folders are the ones a person means by "my photos, music and documents" on a Xiaomi
phone, recordings included (MIUI keeps them under ``MIUI/sound_recorder``). ``Android/data``
is left out (app-private, unreadable over ADB since Android 11) and so is ``MIUI/backup``,
which the MIUI-backup step pulls on its own. Gallery thumbnail caches are skipped: the phone
rebuilds them.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from .sync import SyncStream

SHARED_STORAGE = "/sdcard"
USER_FOLDERS = ("DCIM", "Pictures", "Movies", "Music", "Documents", "Download", "Recordings", "MIUI/sound_recorder",
                "Podcasts", "Audiobooks", "Ringtones", "Alarms", "Notifications")
SKIP_DIRS = frozenset({".thumbnails"})
FILES_DIR = "files"

_WINDOWS_BAD = re.compile(r'[<>:"\\|?*\x00-\x1f]')


@dataclass(frozen=True)
class RemoteFile:
    path: str  # absolute on the phone, e.g. /sdcard/DCIM/Camera/IMG_1.jpg
    size: int
    mtime: int

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "size": self.size, "mtime": self.mtime}

    @classmethod
    def from_dict(cls, data: dict) -> "RemoteFile":
        return cls(str(data["path"]), int(data["size"]), int(data["mtime"]))


@dataclass
class Inventory:
    files: list[RemoteFile] = field(default_factory=list)
    folders: dict[str, tuple[int, int]] = field(default_factory=dict)  # folder -> (files, bytes)
    skipped: list[str] = field(default_factory=list)  # entries that are neither file nor folder, or unreadable

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def summary(self) -> str:
        return f"{plural(len(self.files), 'file')}, {human_size(self.total_bytes)}"

    def lines(self) -> list[str]:
        """One line per folder, for the run log."""
        return [f"{folder}: {plural(count, 'file')}, {human_size(size)}"
                for folder, (count, size) in self.folders.items() if count]

    def as_dict(self) -> dict[str, object]:
        return {"files": [f.as_dict() for f in self.files],
                "folders": {k: list(v) for k, v in self.folders.items()}, "skipped": self.skipped}

    @classmethod
    def from_dict(cls, data: dict) -> "Inventory":
        return cls([RemoteFile.from_dict(f) for f in data.get("files", [])],
                   {k: (int(v[0]), int(v[1])) for k, v in data.get("folders", {}).items()}, list(data.get("skipped", [])))


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def human_size(n: float) -> str:
    """Decimal units, as phones and file managers show sizes: ``1.4 GB``."""
    if n < 1000:
        return f"{n:.0f} B"
    for unit in ("KB", "MB"):
        n /= 1000
        if n < 1000:
            return f"{n:.1f} {unit}"
    return f"{n / 1000:.1f} GB"


def take_inventory(stream: SyncStream, folders: Sequence[str] = USER_FOLDERS, root: str = SHARED_STORAGE) -> Inventory:
    """Walk ``folders`` under ``root`` on one sync stream; folders that do not exist count as empty."""
    inv = Inventory()
    for folder in dict.fromkeys(f.strip("/") for f in folders if f.strip("/")):
        top = f"{root}/{folder}"
        count = size = 0
        for path, entry in stream.walk(top, SKIP_DIRS):
            if entry.error:
                inv.skipped.append(f"{path}: unreadable (error {entry.error})")
            elif entry.is_file:
                inv.files.append(RemoteFile(path, entry.size, entry.mtime))
                count += 1
                size += entry.size
            elif not entry.is_dir:
                inv.skipped.append(f"{path}: not a regular file")
        inv.folders[folder] = (count, size)
    inv.files = _unique(inv.files)
    return inv


def _unique(files: Iterable[RemoteFile]) -> list[RemoteFile]:
    """A folder given twice (or nested: MIUI and MIUI/sound_recorder) must not pull a file twice."""
    return list({f.path: f for f in files}.values())


def local_name(remote: str, root: str = SHARED_STORAGE, prefix: str = FILES_DIR, *, windows: bool = os.name == "nt") -> str:
    """Path of a pulled file inside the backup folder, relative and with ``/``: ``files/DCIM/Camera/x.jpg``
    for ``/sdcard/DCIM/Camera/x.jpg`` (``prefix`` + the path below ``root``).

    On Windows the characters it forbids in names become ``_``; elsewhere names are kept byte for byte.
    """
    rel = posixpath.relpath(remote, root) if remote.startswith(root.rstrip("/") + "/") else remote.lstrip("/")
    parts = [p for p in rel.split("/") if p not in ("", ".", "..")]
    if windows:
        parts = [_WINDOWS_BAD.sub("_", p).rstrip(" .") or "_" for p in parts]
    return "/".join([prefix, *parts])
