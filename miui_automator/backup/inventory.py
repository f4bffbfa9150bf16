"""What the user's files on the phone are, and how much there is, before anything is pulled.

The folders are the ones a person means by "my photos, music and documents" on a Xiaomi
phone, recordings included (MIUI keeps them under ``MIUI/sound_recorder``). ``Android/data``
is left out (app-private, unreadable over ADB since Android 11) and so is ``MIUI/backup``,
which the MIUI-backup step pulls on its own. Gallery thumbnail caches are skipped: the phone
rebuilds them.

Entries the walk cannot reach (a name no path can hold, a path longer than adb's file
transfer can address, a folder listed inside itself) are listed in ``skipped`` with the
reason, and shown as warnings; they never stop the inventory.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterable, Mapping, Sequence

from .local_names import HostRules, LocalNamer
from .sync import SyncStream, printable

SHARED_STORAGE = "/sdcard"
USER_FOLDERS = ("DCIM", "Pictures", "Movies", "Music", "Documents", "Download", "Recordings", "MIUI/sound_recorder",
                "Podcasts", "Audiobooks", "Ringtones", "Alarms", "Notifications")
SKIP_DIRS = frozenset({".thumbnails"})
FILES_DIR = "files"


@dataclass(frozen=True)
class RemoteFile:
    path: str  # absolute on the phone, e.g. /sdcard/DCIM/Camera/IMG_1.jpg (surrogateescape when not UTF-8)
    size: int
    mtime: int
    local: str = ""  # where it goes in the backup folder, once :func:`assign_local_names` ran

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "size": self.size, "mtime": self.mtime, "local": self.local}

    @classmethod
    def from_dict(cls, data: dict) -> "RemoteFile":
        return cls(str(data["path"]), int(data["size"]), int(data["mtime"]), str(data.get("local") or ""))


@dataclass
class Inventory:
    files: list[RemoteFile] = field(default_factory=list)
    folders: dict[str, tuple[int, int]] = field(default_factory=dict)  # folder -> (files, bytes)
    skipped: list[str] = field(default_factory=list)  # entries that are neither file nor folder, or unreadable
    ls_v2: bool | None = None  # whether the phone's adbd lists with 64-bit sizes; the pull needs not ask again

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
                "folders": {k: list(v) for k, v in self.folders.items()}, "skipped": self.skipped, "ls_v2": self.ls_v2}

    @classmethod
    def from_dict(cls, data: dict) -> "Inventory":
        return cls([RemoteFile.from_dict(f) for f in data.get("files", [])],
                   {k: (int(v[0]), int(v[1])) for k, v in data.get("folders", {}).items()}, list(data.get("skipped", [])),
                   data["ls_v2"] if isinstance(data.get("ls_v2"), bool) else None)


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
    inv = Inventory(ls_v2=stream.ls_v2)
    for folder in dict.fromkeys(f.strip("/") for f in folders if f.strip("/")):
        top = f"{root}/{folder}"
        count = size = 0
        for path, entry in stream.walk(top, SKIP_DIRS, inv.skipped.append):
            if entry.error:
                inv.skipped.append(f"{printable(path)}: unreadable (error {entry.error})")
            elif entry.is_file:
                inv.files.append(RemoteFile(path, entry.size, entry.mtime))
                count += 1
                size += entry.size
            elif not entry.is_dir:
                inv.skipped.append(f"{printable(path)}: not a regular file")
        inv.folders[folder] = (count, size)
    inv.files = _unique(inv.files)
    return inv


def _unique(files: Iterable[RemoteFile]) -> list[RemoteFile]:
    """A folder given twice (or nested: MIUI and MIUI/sound_recorder) must not pull a file twice."""
    return list({f.path: f for f in files}.values())


def local_parts(remote: str, root: str = SHARED_STORAGE, prefix: str = FILES_DIR) -> list[str]:
    """``[prefix, *the path below root]``: ``files``, ``DCIM``, ``Camera``, ``x.jpg`` for ``/sdcard/DCIM/Camera/x.jpg``."""
    rel = remote[len(root.rstrip("/")) + 1:] if remote.startswith(root.rstrip("/") + "/") else remote.lstrip("/")
    return [prefix, *(p for p in rel.split("/") if p not in ("", ".", ".."))]


def local_name(remote: str, root: str = SHARED_STORAGE, prefix: str = FILES_DIR, *,
               rules: HostRules | None = None) -> str:
    """Path of one pulled file inside the backup folder, relative and with ``/``: ``files/DCIM/Camera/x.jpg``
    for ``/sdcard/DCIM/Camera/x.jpg``, escaped as the host needs (see :mod:`.local_names`)."""
    return LocalNamer(rules or HostRules.of_this_host()).name(remote, local_parts(remote, root, prefix))


def assign_local_names(files: Sequence[RemoteFile], root: str = SHARED_STORAGE, prefix: str = FILES_DIR, *,
                       rules: HostRules | None = None, keep: Mapping[str, str] | None = None) -> list[RemoteFile]:
    """``files`` with their local paths: unique on this host, in path order so the result is deterministic;
    ``keep`` holds the local paths files pulled by an earlier run already have."""
    namer = LocalNamer(rules or HostRules.of_this_host(), keep)
    named = {f.path: replace(f, local=namer.name(f.path, local_parts(f.path, root, prefix)))
             for f in sorted(files, key=lambda f: f.path)}
    return [named[f.path] for f in files]
