"""The ``sync:`` file-transfer protocol over the phone's VirtualFS, with no I/O.

adbutils (STAT/LIST/SEND/RECV) and the adb CLI (STA2/LST2/LIS2/SND2/RCV2, QUIT) both speak it
on a stream that the host may split or coalesce arbitrarily, so requests are parsed from a
buffer. Responses are produced per request: every STAT or directory entry reply is one write
because adbutils reads them with a bare ``recv(n)``, and file contents go out as 64 KiB DATA
chunks batched into ~1 MiB writes, which is what makes ``adb pull`` fast.
Error texts are adbd's own (``open failed: No such file or directory`` …).
"""

from __future__ import annotations

import posixpath
import re
import struct
import zlib
from typing import Iterator

from .vfs import STORAGE, FileNode, VirtualFS, normpath
from .wire import MAX_PAYLOAD

SYNC_DATA_MAX = 64 * 1024
DIR_SIZE = 4096
MAX_PATH = 1024

REQUEST = struct.Struct("<4sI")
STAT_V1 = struct.Struct("<4sIII")
STAT_V2 = struct.Struct("<4sIQQIIIIQqqq")
DENT_V1 = struct.Struct("<4sIIII")
DENT_V2 = struct.Struct("<4sIQQIIIIQqqqI")
U32 = struct.Struct("<I")
SND2_SETUP = struct.Struct("<4sII")
RCV2_SETUP = struct.Struct("<4sI")

ENOENT = 2
NOT_FOUND = "No such file or directory"

_STRTOUL0 = re.compile(r"\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")


def strtoul0(text: str) -> int:
    """C ``strtoul(text, NULL, 0)``: hex with 0x, octal with a leading 0, else decimal; 0 if no number."""
    m = _STRTOUL0.match(text)
    if not m:
        return 0
    digits = m.group(2)
    if digits[:2] in ("0x", "0X"):
        value = int(digits, 16)
    elif digits.startswith("0"):
        value = int(digits, 8)
    else:
        value = int(digits)
    return (-value if m.group(1) == "-" else value) & 0xFFFFFFFF


def fail(message: str) -> bytes:
    data = message.encode()
    return b"FAIL" + U32.pack(len(data)) + data


def _owner(path: str) -> tuple[int, int]:
    """(uid, gid) as a phone shows them: shared storage is root:everybody, /data/local/tmp is shell."""
    if path == STORAGE or path.startswith(STORAGE + "/"):
        return 0, 9997
    if path.startswith("/data/local/tmp"):
        return 2000, 2000
    return 0, 0


def _size(entry: FileNode) -> int:
    """st_size as ext4/FUSE report it: a directory occupies one 4 KiB block."""
    return DIR_SIZE if entry.is_dir else entry.size


def _stat_v2_fields(path: str, entry: FileNode) -> tuple[int, ...]:
    """dev, ino, mode, nlink, uid, gid, size, atime, mtime, ctime for STA2/LST2/DNT2."""
    uid, gid = _owner(path)
    nlink = 2 + sum(1 for c in entry.children.values() if c.is_dir) if entry.is_dir else 1
    ino = zlib.crc32(path.encode("utf-8", "surrogateescape")) or 1
    return 0xFD00, ino, entry.mode, nlink, uid, gid, _size(entry), entry.mtime, entry.mtime, entry.mtime


class SyncSession:
    """One ``sync:`` stream. ``feed`` host bytes, iterate the returned writes, stop when ``finished``."""

    def __init__(self, fs: VirtualFS, max_write: int = MAX_PAYLOAD) -> None:
        self.fs = fs
        self.max_write = max_write
        self.finished = False
        self._buf = bytearray()
        self._pos = 0
        self._send: _Upload | None = None
        self._setup: tuple[bytes, str] | None = None  # (b"SND2" | b"RCV2", path) awaiting its setup record

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Buffer ``data`` and yield the responses it completes; iterate fully before feeding again.

        Each yielded item must go to the host as one write (it is at most ``max_write`` bytes).
        """
        self._buf += data
        return self._responses()

    # ------------------------------------------------------------------ buffer
    def _available(self) -> int:
        return len(self._buf) - self._pos

    def _take(self, n: int) -> bytes:
        start = self._pos
        self._pos = start + n
        return bytes(self._buf[start:start + n])

    def _compact(self) -> None:
        if self._pos:
            del self._buf[:self._pos]
            self._pos = 0

    def _responses(self) -> Iterator[bytes]:
        try:
            while not self.finished:
                if self._send is not None:
                    out = self._upload_step()
                elif self._setup is not None:
                    out = self._setup_step()
                else:
                    out = self._request_step()
                if out is None:
                    return
                yield from out
        finally:
            self._compact()

    def _finish_with(self, message: str) -> list[bytes]:
        self.finished = True
        return [fail(message)]

    # ------------------------------------------------------------------ requests
    def _request_step(self) -> list[bytes] | Iterator[bytes] | None:
        if self._available() < REQUEST.size:
            return None
        ident, length = REQUEST.unpack_from(self._buf, self._pos)
        if length > MAX_PATH:
            self._pos += REQUEST.size
            return self._finish_with("path too long")
        if self._available() < REQUEST.size + length:
            return None
        self._pos += REQUEST.size
        path = self._take(length).decode("utf-8", "surrogateescape")
        if ident in (b"STAT", b"STA2", b"LST2"):
            return [self._stat(ident, path)]
        if ident in (b"LIST", b"LIS2"):
            return self._list(path, v2=ident == b"LIS2")
        if ident == b"RECV":
            return self._recv(path)
        if ident == b"SEND":
            target, comma, mode = path.rpartition(",")
            if not comma:
                return self._finish_with("missing , in ID_SEND")
            self._send = _Upload(target, strtoul0(mode))
            return []
        if ident in (b"SND2", b"RCV2"):
            self._setup = (ident, path)
            return []
        if ident == b"QUIT":
            self.finished = True
            return []
        return self._finish_with(f"unknown command {U32.unpack(ident)[0]:08x}")

    def _setup_step(self) -> list[bytes] | Iterator[bytes] | None:
        assert self._setup is not None
        kind, path = self._setup
        record = SND2_SETUP if kind == b"SND2" else RCV2_SETUP
        if self._available() < record.size:
            return None
        fields = record.unpack_from(self._buf, self._pos)
        self._pos += record.size
        self._setup = None
        if fields[0] != kind:
            return self._finish_with(f"{kind.decode()} request missing setup")
        flags = fields[-1]
        if flags:
            # Compression and dry-run are never advertised, so a client asking for them is refused.
            return self._finish_with(f"unsupported {kind.decode()} flags {flags:#x}")
        if kind == b"RCV2":
            return self._recv(path)
        self._send = _Upload(path, fields[1])
        return []

    # ------------------------------------------------------------------ stat / list
    def _stat(self, ident: bytes, path: str) -> bytes:
        entry = self.fs.lookup(path)
        if ident == b"STAT":
            if entry is None:
                return STAT_V1.pack(b"STAT", 0, 0, 0)
            return STAT_V1.pack(b"STAT", entry.mode & 0xFFFFFFFF, _size(entry) & 0xFFFFFFFF, entry.mtime & 0xFFFFFFFF)
        if entry is None:
            return STAT_V2.pack(ident, ENOENT, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        return STAT_V2.pack(ident, 0, *_stat_v2_fields(normpath(path), entry))

    def _list(self, path: str, v2: bool) -> Iterator[bytes]:
        norm = normpath(path)
        entry = self.fs.lookup(norm)
        dents: list[bytes] = []
        if entry is not None and entry.is_dir:
            parent = self.fs.lookup(posixpath.dirname(norm)) or entry
            named = [(".", norm, entry), ("..", posixpath.dirname(norm), parent)]
            named += [(name, posixpath.join(norm, name), child) for name, child in self.fs.listdir(norm)]
            for name, full, child in named:
                raw = name.encode("utf-8", "surrogateescape")
                if v2:
                    dents.append(DENT_V2.pack(b"DNT2", 0, *_stat_v2_fields(full, child), len(raw)) + raw)
                else:
                    dents.append(DENT_V1.pack(b"DENT", child.mode, _size(child) & 0xFFFFFFFF, child.mtime, len(raw)) + raw)
        # adb ls hangs unless LIS2's DONE is a full 76-byte dent; LIST's is a full 20-byte one.
        dents.append(b"DONE" + bytes((DENT_V2 if v2 else DENT_V1).size - 4))
        return self._batched(dents)

    def _batched(self, records: list[bytes]) -> Iterator[bytes]:
        """Group whole records into writes of at most ``max_write`` bytes, never splitting one."""
        batch: list[bytes] = []
        size = 0
        for record in records:
            if batch and size + len(record) > self.max_write:
                yield b"".join(batch)
                batch, size = [], 0
            batch.append(record)
            size += len(record)
        if batch:
            yield b"".join(batch)

    # ------------------------------------------------------------------ transfer
    def _recv(self, path: str) -> Iterator[bytes]:
        entry = self.fs.lookup(path)
        if entry is None:
            return iter(self._finish_with(f"open failed: {NOT_FOUND}"))
        if entry.is_dir:
            return iter(self._finish_with("read failed: Is a directory"))
        return self._data_batches(self.fs.read(path))

    def _data_batches(self, data: bytes) -> Iterator[bytes]:
        view = memoryview(data)
        per_batch = max(1, self.max_write // (SYNC_DATA_MAX + 8)) * SYNC_DATA_MAX
        total = len(data)
        start = 0
        while True:
            end = min(total, start + per_batch)
            parts: list[bytes | memoryview] = []
            for chunk_start in range(start, end, SYNC_DATA_MAX):
                chunk = view[chunk_start:min(end, chunk_start + SYNC_DATA_MAX)]
                parts.append(b"DATA" + U32.pack(len(chunk)))
                parts.append(chunk)
            if end == total:
                parts.append(b"DONE" + U32.pack(0))
                yield b"".join(parts)
                return
            yield b"".join(parts)
            start = end

    def _upload_step(self) -> list[bytes] | None:
        upload = self._send
        assert upload is not None
        if self._available() < 8:
            return None
        ident, value = REQUEST.unpack_from(self._buf, self._pos)
        if ident == b"DONE":
            self._pos += 8
            self._send = None
            return self._store(upload, mtime=value)
        if ident != b"DATA":
            self._send = None
            return self._finish_with("invalid data message")
        if value > SYNC_DATA_MAX:
            self._send = None
            return self._finish_with("oversize data message")
        if self._available() < 8 + value:
            return None
        self._pos += 8
        upload.chunks.append(self._take(value))
        return []

    def _store(self, upload: "_Upload", mtime: int) -> list[bytes]:
        fs = self.fs
        parent = posixpath.dirname(normpath(upload.path))
        ancestor = parent
        while (existing := fs.lookup(ancestor)) is None:
            ancestor = posixpath.dirname(ancestor)
        if not existing.is_dir:
            # open() meets a file where a directory should be: ENOTDIR, nothing is created.
            return self._finish_with("couldn't create file: Not a directory")
        fs.mkdir(parent, parents=True)  # adbd creates missing parents (fixed_push_mkdir)
        try:
            fs.write(upload.path, b"".join(upload.chunks), mode=upload.mode, mtime=mtime, parents=False)
        except OSError as e:
            return self._finish_with(f"couldn't create file: {e.strerror}")
        return [b"OKAY" + U32.pack(0)]


class _Upload:
    """A SEND/SND2 in progress: DATA chunks are kept until DONE, when the file is written at once."""

    def __init__(self, path: str, mode: int) -> None:
        self.path = path
        self.mode = mode
        self.chunks: list[bytes] = []
