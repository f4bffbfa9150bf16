"""The simulated phone's file system: an in-memory tree that sync, shell and apps share.

Large synthetic media files are described by a size and a seed and only materialised on
first read, so a phone with gigabytes of "photos" starts instantly; the bytes are
deterministic, so md5 and sha256 agree across runs.
"""

from __future__ import annotations

import hashlib
import posixpath
import random
import stat as statmod
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

# Android exposes primary shared storage under several names; all lead to one directory.
STORAGE = "/storage/emulated/0"
_ALIASES = ("/sdcard", "/storage/self/primary", "/mnt/sdcard", "/mnt/user/0/primary")

S_DIR = statmod.S_IFDIR | 0o771
S_FILE = statmod.S_IFREG | 0o660


@dataclass
class FileNode:
    mode: int
    mtime: int
    data: bytearray | None = None
    size_hint: int = 0
    seed: int | None = None
    # Immutable bytes several phones share (an app's APK): copied only if this phone changes them.
    shared: bytes | None = None
    children: dict[str, "FileNode"] = field(default_factory=dict)
    # Called just before every read: the "file changes while pulled" fault hooks in here.
    on_read: Callable[["FileNode"], None] | None = None
    # Digests computed before, by algorithm: (size, mtime, hex digest) of the content they were computed from.
    digests: dict[str, tuple[int, int, str]] = field(default_factory=dict)

    @property
    def is_dir(self) -> bool:
        return statmod.S_ISDIR(self.mode)

    @property
    def size(self) -> int:
        if self.data is not None:
            return len(self.data)
        return len(self.shared) if self.shared is not None else self.size_hint

    def content(self) -> bytearray:
        if self.data is None:
            self.data = bytearray(self.shared) if self.shared is not None else bytearray(synthetic_bytes(self.seed or 0, self.size_hint))
        return self.data


def synthetic_bytes(seed: int, size: int) -> bytes:
    """Deterministic pseudo-random content for a synthetic file."""
    return random.Random(seed).randbytes(size)


def normpath(path: str) -> str:
    """Absolute, normalised path with storage aliases resolved."""
    if not path.startswith("/"):
        path = "/" + path
    path = posixpath.normpath(path)
    if path.startswith("//"):
        path = path[1:]
    for alias in _ALIASES:
        if path == alias or path.startswith(alias + "/"):
            return STORAGE + path[len(alias):]
    return path


class VirtualFS:
    """A tree of directories and files; errors are the OSError subclasses a POSIX fs raises."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.root = FileNode(mode=S_DIR, mtime=int(clock()))
        for d in ("/data/local/tmp", "/system/bin", STORAGE, "/proc", "/dev"):
            self.mkdir(d, parents=True)

    def _now(self) -> int:
        return int(self._clock())

    def lookup(self, path: str) -> FileNode | None:
        node = self.root
        for part in normpath(path).split("/")[1:]:
            if not part:
                continue
            if not node.is_dir:
                return None
            nxt = node.children.get(part)
            if nxt is None:
                return None
            node = nxt
        return node

    def exists(self, path: str) -> bool:
        return self.lookup(path) is not None

    def _parent(self, path: str, create: bool = False) -> tuple[FileNode, str]:
        norm = normpath(path)
        parent_path, name = posixpath.split(norm)
        if create:
            self.mkdir(parent_path, parents=True)
        parent = self.lookup(parent_path)
        if parent is None:
            raise FileNotFoundError(2, "No such file or directory", parent_path)
        if not parent.is_dir:
            raise NotADirectoryError(20, "Not a directory", parent_path)
        return parent, name

    def mkdir(self, path: str, parents: bool = False) -> None:
        norm = normpath(path)
        node = self.root
        parts = [p for p in norm.split("/") if p]
        for i, part in enumerate(parts):
            nxt = node.children.get(part)
            if nxt is None:
                if not parents and i != len(parts) - 1:
                    raise FileNotFoundError(2, "No such file or directory", norm)
                nxt = FileNode(mode=S_DIR, mtime=self._now())
                node.children[part] = nxt
            elif not nxt.is_dir:
                raise FileExistsError(17, "File exists", norm)
            node = nxt

    def write(self, path: str, data: bytes, mode: int = S_FILE, mtime: int | None = None, parents: bool = True) -> None:
        parent, name = self._parent(path, create=parents)
        existing = parent.children.get(name)
        if existing is not None and existing.is_dir:
            raise IsADirectoryError(21, "Is a directory", normpath(path))
        if not statmod.S_ISREG(mode):
            mode = statmod.S_IFREG | statmod.S_IMODE(mode or 0o660)
        parent.children[name] = FileNode(mode=mode, mtime=self._now() if mtime is None else mtime, data=bytearray(data))
        parent.mtime = self._now()

    def add_synthetic(self, path: str, size: int, seed: int, mtime: int | None = None) -> None:
        """A file whose bytes are generated on first read."""
        parent, name = self._parent(path, create=True)
        parent.children[name] = FileNode(mode=S_FILE, mtime=self._now() if mtime is None else mtime, size_hint=size, seed=seed)

    def add_shared(self, path: str, data: bytes, mode: int = S_FILE, mtime: int | None = None) -> None:
        """A file whose ``data`` other phones share: read without a copy, copied on change."""
        parent, name = self._parent(path, create=True)
        parent.children[name] = FileNode(mode=mode, mtime=self._now() if mtime is None else mtime, shared=data)

    def _readable(self, path: str) -> FileNode:
        """The file at ``path`` as a reader meets it: its read hooks have run; errors as the kernel gives them."""
        entry = self.lookup(path)
        if entry is None:
            raise FileNotFoundError(2, "No such file or directory", normpath(path))
        if entry.is_dir:
            raise IsADirectoryError(21, "Is a directory", normpath(path))
        if entry.on_read is not None:
            entry.on_read(entry)
        return entry

    def read(self, path: str) -> bytes:
        entry = self._readable(path)
        if entry.data is None and entry.shared is not None:
            return entry.shared
        return bytes(entry.content())

    def hashed(self, path: str, algorithm: str) -> tuple[int, Callable[[], str]]:
        """(size, a function giving the hex digest) of the file as a reader sees it now (the read hooks run).

        The function may run on another thread (it hashes a snapshot). A file hashed before and unchanged
        since (same size and mtime: every change here moves one) gets the digest it had: the host's CPU
        stands in for the phone's, whose time the caller charges anyway, so hashing a tree twice costs the
        host once."""
        entry = self._readable(path)
        key = (entry.size, entry.mtime)
        known = entry.digests.get(algorithm)
        if known is not None and known[:2] == key:
            return key[0], lambda: known[2]
        data = entry.shared if entry.data is None and entry.shared is not None else bytes(entry.content())

        def compute() -> str:
            digest = hashlib.new(algorithm, data).hexdigest()
            entry.digests[algorithm] = (*key, digest)
            return digest

        return len(data), compute

    def listdir(self, path: str) -> list[tuple[str, FileNode]]:
        entry = self.lookup(path)
        if entry is None:
            raise FileNotFoundError(2, "No such file or directory", normpath(path))
        if not entry.is_dir:
            raise NotADirectoryError(20, "Not a directory", normpath(path))
        return sorted(entry.children.items())

    def remove(self, path: str, recursive: bool = False) -> None:
        parent, name = self._parent(path)
        entry = parent.children.get(name)
        if entry is None:
            raise FileNotFoundError(2, "No such file or directory", normpath(path))
        if entry.is_dir and entry.children and not recursive:
            raise IsADirectoryError(21, "Is a directory", normpath(path))
        del parent.children[name]
        parent.mtime = self._now()

    def walk_files(self, path: str) -> Iterator[tuple[str, FileNode]]:
        """Every regular file below path, depth first, with its absolute path."""
        base = self.lookup(path)
        if base is None:
            return
        stack = [(normpath(path), base)]
        while stack:
            p, e = stack.pop()
            if e.is_dir:
                for name, child in sorted(e.children.items(), reverse=True):
                    stack.append((p.rstrip("/") + "/" + name, child))
            else:
                yield p, e

    def usage(self, path: str) -> int:
        return sum(e.size for _, e in self.walk_files(path))
