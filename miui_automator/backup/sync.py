"""One ``sync:`` stream to the phone carrying many requests, the way ``adb pull`` works.

adbutils opens a new adb-server connection for every sync request and sleeps 10 ms closing
it, and reads file data with a quadratic ``bytes +=`` loop; for thousands of photos that is
most of the time. Here one stream lists directories (``LIS2`` when the phone has ``ls_v2``,
so sizes above 4 GiB are right) and receives file after file (``RECV``), reading into one
reusable buffer and handing each 64 KiB ``DATA`` payload to the caller as a memoryview.

Record layouts are decoded by the pure functions at the top (no I/O); the socket is touched
only by :class:`SyncStream`.

Names from the phone are bytes that need not be UTF-8; they travel as ``str`` decoded with
``surrogateescape`` (so ``\xff`` becomes ``\udcff`` and encodes back to the same byte) and are
shown to people through :func:`printable`. A listing is untrusted: an entry named ``""`` or
holding ``/``, a path longer than the protocol can address, a folder that lists itself, an
endless listing — each is skipped with a reason (or, for a listing that never ends, the
phone is reported as misbehaving), so every walk ends. Every socket or adb failure becomes a :class:`DeviceError`
naming the phone, so a phone pulled off the cable mid-backup exits with code 3; errors the
caller's sink raises (a full disk) pass through untouched.
"""

from __future__ import annotations

import socket
import stat as statmod
import struct
from collections import deque
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import adbutils

from ..errors import DeviceError

IO_TIMEOUT_S = 60.0  # no byte from the phone for this long: it is gone
BUFFER_BYTES = 1 << 20
MAX_PATH_BYTES = 1024
MAX_DEPTH = 64  # folders below the walk's top; a real phone's media tree is a handful deep
MAX_LISTING = 1_000_000  # entries in one directory listing; more is an adbd that never says DONE
MAX_WALK = 5_000_000  # entries in one walk: a phone holds far fewer; more is a tree that never ends

# Linux's TCP_QUICKACK (None elsewhere). The adb server writes a file's bytes to its client socket
# without TCP_NODELAY, so with Nagle's algorithm it holds a small write back until the client's kernel
# ACKs the one before; that kernel delays its ACK (up to 40 ms) when the client sends nothing back, and
# a client that asks for files ahead in groups sends nothing back for a while: every other group of
# small files then stalled 40 ms. Acking at once while files are asked for ends that.
_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)

_REQUEST = struct.Struct("<4sI")
_HEADER = struct.Struct("<4sI")
_DENT_V1 = struct.Struct("<4sIIII")  # id, mode, size, mtime, namelen
_DENT_V2 = struct.Struct("<4sIQQIIIIQqqqI")  # id, error, dev, ino, mode, nlink, uid, gid, size, atime, mtime, ctime, namelen


@dataclass(frozen=True)
class DirEntry:
    name: str  # the phone's bytes, decoded with surrogateescape
    mode: int
    size: int
    mtime: int
    error: int = 0
    ino: int = 0  # with ls_v2 only: tells a folder that lists itself from a deeper one

    @property
    def is_dir(self) -> bool:
        return statmod.S_ISDIR(self.mode)

    @property
    def is_file(self) -> bool:
        return statmod.S_ISREG(self.mode)


class RecvFailed(Exception):
    """The phone refused to send one file (``FAIL open failed: ...``); the stream is closed after it."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{printable(path)}: {reason}")
        self.path = path
        self.reason = reason

    @property
    def vanished(self) -> bool:
        return "No such file" in self.reason


def path_bytes(path: str) -> bytes:
    """The phone's bytes of a path carried as a surrogateescape ``str``."""
    return path.encode("utf-8", "surrogateescape")


def printable(path: str) -> str:
    """A path for messages, logs and reports: bytes that are not UTF-8 shown as ``\\xff``."""
    return path_bytes(path).decode("utf-8", "backslashreplace")


def is_utf8(path: str) -> bool:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def bad_name(name: str) -> str | None:
    """Why an entry's name cannot be part of a path (a misbehaving adbd sent it), or None."""
    if not name:
        return "an entry with an empty name"
    if "/" in name or "\0" in name:
        return f"an entry whose name holds '/' or NUL ({printable(name)!r})"
    return None


def unaddressable(path: str) -> str | None:
    """Why the sync protocol cannot ask for ``path``, or None."""
    if len(path_bytes(path)) > MAX_PATH_BYTES:
        return f"path longer than the {MAX_PATH_BYTES} bytes adb's file transfer can address"
    return None


def encode_request(ident: bytes, path: str) -> bytes:
    raw = path_bytes(path)
    if len(raw) > MAX_PATH_BYTES:
        raise ValueError(f"path longer than {MAX_PATH_BYTES} bytes: {printable(path)[:80]}...")
    return _REQUEST.pack(ident, len(raw)) + raw


def decode_dent(record: bytes, v2: bool) -> tuple[int, int, int, int, int, int]:
    """(mode, size, mtime, error, ino, namelen) of a DENT/DNT2 header, or namelen -1 for the closing DONE."""
    if v2:
        ident, error, _dev, ino, mode, _nlink, _uid, _gid, size, _atime, mtime, _ctime, namelen = _DENT_V2.unpack(record)
    else:
        ident, mode, size, mtime, namelen = _DENT_V1.unpack(record)
        error = ino = 0
    if ident == b"DONE":
        return 0, 0, 0, 0, 0, -1
    if ident not in (b"DENT", b"DNT2"):
        raise ValueError(f"unexpected sync reply {ident!r} in a directory listing")
    return mode, size, mtime, error, ino, namelen


def dent_size(v2: bool) -> int:
    return _DENT_V2.size if v2 else _DENT_V1.size


class SyncStream:
    """A ``sync:`` stream on one phone; requests run one after another on it. Use as a context manager."""

    def __init__(self, device: adbutils.AdbDevice, serial: str, *, timeout_s: float = IO_TIMEOUT_S,
                 ls_v2: bool | None = None) -> None:
        self.serial = serial
        try:
            if ls_v2 is None:
                ls_v2 = "ls_v2" in device.get_features().split(",")
            self._conn = device.open_transport(timeout=timeout_s)
            self._conn.send_command("sync:")
            self._conn.check_okay()
        except (adbutils.AdbError, OSError, EOFError) as err:
            raise self._lost("opening a file transfer", err) from None
        self.ls_v2 = ls_v2
        self._sock: socket.socket = self._conn.conn
        self._buf = bytearray(BUFFER_BYTES)
        self._view = memoryview(self._buf)
        self._lo = self._hi = 0
        self._open = True
        self._requested: deque[str] = deque()

    def _lost(self, doing: str, err: BaseException | None = None) -> DeviceError:
        why = f": {type(err).__name__}: {err}".rstrip(": ") if err is not None else ""
        return DeviceError(f"{self.serial}: the phone stopped answering while {doing}{why}", serial=self.serial)

    # ------------------------------------------------------------------ buffered reads
    def _send(self, data: bytes, doing: str) -> None:
        try:
            self._sock.sendall(data)
        except OSError as err:
            self._open = False
            raise self._lost(doing, err) from None

    def _take(self, n: int, doing: str) -> memoryview:
        """The next ``n`` bytes; valid until the next call."""
        if n > len(self._buf):
            self._open = False
            raise self._lost(doing, ValueError(f"a sync record of {n} bytes"))
        if self._hi - self._lo < n:
            if self._lo:
                left = self._hi - self._lo
                self._buf[:left] = self._buf[self._lo:self._hi]
                self._lo, self._hi = 0, left
            while self._hi < n:
                try:
                    got = self._sock.recv_into(self._view[self._hi:])
                    if got and _QUICKACK is not None and self._requested:
                        self._sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
                except OSError as err:  # socket.timeout is an OSError too
                    self._open = False
                    raise self._lost(doing, err) from None
                if not got:
                    self._open = False
                    raise self._lost(doing)
                self._hi += got
        start = self._lo
        self._lo += n
        return self._view[start:start + n]

    # ------------------------------------------------------------------ requests
    def listdir(self, path: str) -> list[DirEntry]:
        """Entries of a directory without ``.``/``..``; a missing or unreadable directory lists as empty (adbd's way)."""
        if self._requested:
            raise ValueError(f"listdir({path!r}) while {len(self._requested)} files are still being sent")
        v2 = self.ls_v2
        doing = f"listing {printable(path)}"
        self._send(encode_request(b"LIS2" if v2 else b"LIST", path), doing)
        entries = []
        size = dent_size(v2)
        while True:
            try:
                mode, fsize, mtime, error, ino, namelen = decode_dent(bytes(self._take(size, doing)), v2)
            except ValueError as err:
                self._open = False
                raise self._lost(doing, err) from None
            if namelen < 0:
                return entries
            if len(entries) >= MAX_LISTING:
                self._open = False
                raise self._lost(doing, ValueError(f"a listing of more than {MAX_LISTING} entries"))
            name = bytes(self._take(namelen, doing)).decode("utf-8", errors="surrogateescape")
            if name not in (".", ".."):
                entries.append(DirEntry(name, mode, fsize, mtime, error, ino))

    def walk(self, top: str, skip_dirs: frozenset[str] = frozenset(),
             on_skip: Callable[[str], None] | None = None) -> Iterator[tuple[str, DirEntry]]:
        """(full path, entry) of every entry below ``top``, in name order, each folder before its subfolders.

        Entries no path can reach are not yielded; ``on_skip`` gets one printable line for each.
        """
        skip = on_skip or (lambda line: None)
        top = top.rstrip("/") or "/"
        stack = [(top, 0)]
        seen: set[int] = set()
        count = 0
        while stack:
            folder, depth = stack.pop()
            subfolders = []
            for entry in sorted(self.listdir(folder), key=lambda e: e.name):
                count += 1
                if count > MAX_WALK:
                    skip(f"{printable(top)}: the phone listed more than {MAX_WALK} entries below it; "
                         f"the rest were not looked at")
                    return
                full = f"{folder.rstrip('/')}/{entry.name}"
                why = bad_name(entry.name)
                if why:
                    skip(f"{printable(folder)}: {why}")
                    continue
                why = unaddressable(full)
                if why:
                    skip(f"{printable(full)[:200]}…: {why}")
                    continue
                if entry.is_dir and entry.name not in skip_dirs:
                    if entry.ino and entry.ino in seen:
                        skip(f"{printable(full)}: the phone lists this folder inside itself")
                        continue
                    if depth >= MAX_DEPTH:
                        skip(f"{printable(full)}: more than {MAX_DEPTH} folders deep")
                        continue
                    if entry.ino:
                        seen.add(entry.ino)
                    subfolders.append((full, depth + 1))
                yield full, entry
            stack.extend(reversed(subfolders))

    def request(self, paths: Sequence[str]) -> None:
        """Ask for files ahead of reading them (pipelining): the phone serves requests in order, so
        the round trip between one file's end and the next file's start disappears. Each path must
        then be read with :meth:`recv`, in the same order."""
        if paths:
            self._send(b"".join(encode_request(b"RECV", p) for p in paths), f"asking for {printable(paths[0])}")
            self._requested.extend(paths)

    @property
    def requested(self) -> int:
        """Files asked for and not yet read."""
        return len(self._requested)

    def ask_ahead(self, upcoming: Sequence[str], depth: int, group: int) -> None:
        """Keep up to ``depth`` of ``upcoming`` (the files to read next, in order, the first the one read now)
        asked for, asking ``group`` or more at a time: one request per file read would cost a socket write
        (and a wake-up of the adb server) per small file."""
        if self.requested <= depth - group:
            self.request(upcoming[self.requested:depth])

    def recv(self, path: str, sink: Callable[[memoryview], None]) -> int:
        """Stream one file into ``sink`` (chunks of at most 64 KiB); returns the byte count.

        Raises :class:`RecvFailed` when the phone refuses the file; the stream is closed then,
        as adbd ends the sync service after a FAIL (files asked for after it are not served).
        """
        doing = f"sending {printable(path)}"
        if not self._requested:
            self.request([path])
        expected = self._requested.popleft()
        if expected != path:
            raise ValueError(f"recv({path!r}) out of order: {expected!r} was asked for first")
        total = 0
        while True:
            ident, length = _HEADER.unpack(self._take(8, doing))
            if ident == b"DATA":
                sink(self._take(length, doing))
                total += length
            elif ident == b"DONE":
                return total
            elif ident == b"FAIL":
                reason = bytes(self._take(length, doing)).decode("utf-8", errors="replace")
                self.close()
                raise RecvFailed(path, reason)
            else:
                self._open = False
                raise self._lost(doing, ValueError(f"unexpected sync reply {bytes(ident)!r}"))

    @property
    def usable(self) -> bool:
        return self._open

    def close(self) -> None:
        self._requested.clear()
        if self._open:
            try:
                self._sock.sendall(_REQUEST.pack(b"QUIT", 0))
            except OSError:
                pass
        self._open = False
        try:
            self._sock.close()
        except OSError:
            pass

    def __enter__(self) -> "SyncStream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
