"""Files and folders only their owner can read: every backup, ledger, event log and screenshot.

Backups hold contacts, messages and photos; run folders hold screenshots of account pages.
Created with the default umask (022) they would be readable by every user of a shared lab
machine, so everything the tool writes goes through these functions: folders are made 0700
and files 0600 whatever the umask (the mode is passed to ``os.open``/``os.mkdir`` and then
set again with ``chmod``, which the umask does not touch). Folders that exist already are
not the tool's to change and are left as they are.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO, Any

DIR_MODE = 0o700
FILE_MODE = 0o600
_OPEN_FLAGS = {"w": os.O_WRONLY | os.O_CREAT | os.O_TRUNC, "a": os.O_WRONLY | os.O_CREAT | os.O_APPEND,
               "x": os.O_WRONLY | os.O_CREAT | os.O_EXCL}


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` and its missing parents, each 0700; returns it as a Path.

    Folders that exist already are left alone: the ledger's folder may be the user's working
    directory, which is not ours to lock.
    """
    path = Path(path)
    missing = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, DIR_MODE)
        except FileExistsError:
            continue  # made by someone else meanwhile: not ours to change
        os.chmod(folder, DIR_MODE)  # mkdir's mode passes through the umask; chmod's does not
    if not path.is_dir():
        raise NotADirectoryError(20, "Not a directory", str(path))
    return path



MAX_NAME_SUFFIX = 10_000


def fresh_private_dir(parent: str | os.PathLike[str], name: str) -> Path:
    """A new, empty, private folder ``parent/name`` — or ``name-2``, ``name-3`` … when that is taken.

    Made with an exclusive ``mkdir``, so two runs or backups started in the same second never share one.
    """
    parent = private_dir(parent)
    for n in range(1, MAX_NAME_SUFFIX + 1):
        path = parent / (name if n == 1 else f"{name}-{n}")
        try:
            os.mkdir(path, DIR_MODE)
        except FileExistsError:
            continue
        os.chmod(path, DIR_MODE)
        return path
    raise FileExistsError(17, f"{MAX_NAME_SUFFIX} folders named {name}-N exist already", str(parent / name))

def private_fd(path: str | os.PathLike[str], flags: int = _OPEN_FLAGS["w"]) -> int:
    """``os.open(path, flags)``, the file 0600 from the start (a wider file already there is tightened): for
    writers that hand bytes straight to ``os.write``, as a backup does with each of thousands of small files."""
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) != FILE_MODE and hasattr(os, "fchmod"):
            os.fchmod(fd, FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_private(path: str | os.PathLike[str], mode: str = "w", *, encoding: str | None = None,
                 newline: str | None = None) -> IO[Any]:
    """``open(path, mode)`` for writing (``w``, ``a``, ``x``, with ``b`` for bytes), the file 0600 from the start.

    A file that already exists with a wider mode (written by an older version) is tightened.
    """
    kind = mode.replace("b", "").replace("+", "")
    if kind not in _OPEN_FLAGS:
        raise ValueError(f"open_private is for writing, not mode {mode!r}")
    flags = _OPEN_FLAGS[kind] | getattr(os, "O_BINARY", 0)
    if "+" in mode:
        flags = (flags & ~os.O_WRONLY) | os.O_RDWR
    fd = private_fd(path, flags)
    try:
        if "b" in mode:
            return os.fdopen(fd, mode)
        return os.fdopen(fd, mode, encoding=encoding or "utf-8", newline=newline)
    except BaseException:
        os.close(fd)
        raise


def write_private_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    with open_private(path, "wb") as f:
        f.write(data)


def write_private_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> None:
    with open_private(path, "w", encoding=encoding) as f:
        f.write(text)


def wider_than_private(path: Path) -> list[str]:
    """Files and folders at or below ``path`` that group or others may read, write or enter (relative paths)."""
    found = []
    for folder, dirs, files in os.walk(path):
        for name in [".", *dirs, *files] if folder == str(path) else [*dirs, *files]:
            full = Path(folder) / name if name != "." else Path(folder)
            try:
                mode = full.lstat().st_mode
            except OSError:
                continue
            if stat.S_ISLNK(mode):
                continue
            if stat.S_IMODE(mode) & 0o077:
                found.append(f"{full.relative_to(path).as_posix() if full != path else '.'} "
                             f"({stat.S_IMODE(mode):04o})")
    return found
