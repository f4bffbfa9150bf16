"""A misbehaving adbd at the sync-protocol level: crafted DENT/DNT2 frames fed into the real
SyncStream listing code over a socket pair. Every walk ends; entries no path can reach are
skipped with a reason; names that are not UTF-8 travel as the phone's bytes."""

from __future__ import annotations

import socket
import stat
import struct
import threading
from typing import Callable

import pytest

from miui_automator.backup import sync
from miui_automator.backup.inventory import take_inventory
from miui_automator.backup.sync import SyncStream, path_bytes, printable
from miui_automator.errors import DeviceError

FILE, DIR = stat.S_IFREG | 0o660, stat.S_IFDIR | 0o771
Listing = Callable[[bytes], list[tuple[bytes, int, int]]]  # path -> [(name, mode, ino)]


class CraftedAdbd:
    """Answers LIST/LIS2 with ``listing(path)`` and RECV with ``files[path]``, frame by frame as adbd does."""

    def __init__(self, listing: Listing, files: dict[bytes, bytes] | None = None, v2: bool = True) -> None:
        self.listing, self.files, self.v2 = listing, files or {}, v2
        self.host, self.phone = socket.socketpair()
        self.requests: list[tuple[bytes, bytes]] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _read(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.phone.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def _serve(self) -> None:
        try:
            while True:
                ident, length = struct.unpack("<4sI", self._read(8))
                path = self._read(length)
                self.requests.append((ident, path))
                if ident == b"QUIT":
                    return
                if ident in (b"LIST", b"LIS2"):
                    out = []
                    for name, mode, ino in [(b".", DIR, 1), (b"..", DIR, 2), *self.listing(path)]:
                        if ident == b"LIS2":
                            out.append(struct.pack("<4sIQQIIIIQqqqI", b"DNT2", 0, 1, ino, mode, 1, 0, 0, 7, 0, 5, 0,
                                                   len(name)) + name)
                        else:
                            out.append(struct.pack("<4sIIII", b"DENT", mode, 7, 5, len(name)) + name)
                    out.append(b"DONE" + bytes(sync.dent_size(ident == b"LIS2") - 4))
                    self.phone.sendall(b"".join(out))
                elif ident == b"RECV":
                    data = self.files[path]
                    self.phone.sendall(b"DATA" + struct.pack("<I", len(data)) + data + b"DONE" + bytes(4))
        except (EOFError, OSError):
            pass
        finally:
            self.phone.close()

    def stream(self) -> SyncStream:
        adbd = self

        class Conn:
            conn = adbd.host

            def send_command(self, cmd: str) -> None:
                pass

            def check_okay(self) -> None:
                pass

        class Device:
            def get_features(self) -> str:
                return "ls_v2" if adbd.v2 else ""

            def open_transport(self, timeout: float) -> Conn:
                return Conn()

        return SyncStream(Device(), "crafted", timeout_s=5)


def walk(adbd: CraftedAdbd, top: str = "/sdcard/DCIM") -> tuple[list[str], list[str]]:
    skipped: list[str] = []
    with adbd.stream() as stream:
        paths = [p for p, _ in stream.walk(top, on_skip=skipped.append)]
    return paths, skipped


def test_an_entry_named_empty_is_skipped_instead_of_looping_forever():
    """Old code: ``folder.rstrip('/') + '/' + ''`` is the folder again: listed again and again, forever."""
    def listing(path: bytes):
        return [(b"", DIR, 3), (b"a.jpg", FILE, 4)]

    paths, skipped = walk(CraftedAdbd(listing))
    assert paths == ["/sdcard/DCIM/a.jpg"]
    assert skipped == ["/sdcard/DCIM: an entry with an empty name"]


@pytest.mark.parametrize("v2", [True, False])
def test_a_folder_that_lists_itself_ends_with_a_warning(v2):
    """Old code: endless recursion until ``ValueError: path longer than 1024 bytes`` (a traceback)."""
    def listing(path: bytes):
        return [(b"loop", DIR, 99), (b"x.jpg", FILE, 5)]

    paths, skipped = walk(CraftedAdbd(listing, v2=v2))
    assert len(skipped) == 1
    if v2:  # the inode gives it away at once
        assert paths == ["/sdcard/DCIM/loop", "/sdcard/DCIM/x.jpg", "/sdcard/DCIM/loop/x.jpg"]
        assert skipped == ["/sdcard/DCIM/loop/loop: the phone lists this folder inside itself"]
    else:  # no inodes in LIST: the depth bound ends it
        assert f"more than {sync.MAX_DEPTH} folders deep" in skipped[0]
        assert len(paths) == 2 * sync.MAX_DEPTH + 1


def test_a_path_longer_than_the_protocol_can_address_is_skipped():
    """Old code: ``ValueError: path longer than 1024 bytes`` from encode_request, a traceback."""
    deep = [b"d" * 255] * 4  # the longest name Android allows: the fourth folder's path is 1036 bytes

    def listing(path: bytes):
        depth = path.count(b"/") - 2
        return [(deep[depth], DIR, 10 + depth), (b"f.jpg", FILE, 50 + depth)] if depth < 4 else [(b"f.jpg", FILE, 60)]

    paths, skipped = walk(CraftedAdbd(listing))
    assert all(len(path_bytes(p)) <= sync.MAX_PATH_BYTES for p in paths)
    assert len(skipped) == 1 and "longer than the 1024 bytes" in skipped[0]
    assert len(paths) == 3 + 4  # three folders and four f.jpg: the fourth folder cannot be addressed


def test_a_folder_named_in_bytes_that_are_not_utf8_is_listed_and_its_files_pulled():
    """Old code: ``UnicodeEncodeError`` when the listing of that folder was requested."""
    odd = b"caf\xe9"

    def listing(path: bytes):
        if path == b"/sdcard/DCIM":
            return [(odd, DIR, 3)]
        if path == b"/sdcard/DCIM/" + odd:
            return [(b"\xff.jpg", FILE, 4)]
        return []

    adbd = CraftedAdbd(listing, files={b"/sdcard/DCIM/caf\xe9/\xff.jpg": b"seven!!"})
    skipped: list[str] = []
    with adbd.stream() as stream:
        inv = take_inventory(stream, ["DCIM"])
        got = bytearray()
        assert stream.recv(inv.files[0].path, lambda chunk: got.extend(chunk)) == 7
    assert not skipped and not inv.skipped
    assert [path_bytes(f.path) for f in inv.files] == [b"/sdcard/DCIM/caf\xe9/\xff.jpg"]
    assert bytes(got) == b"seven!!"
    assert (b"LIS2", b"/sdcard/DCIM/caf\xe9") in adbd.requests
    assert printable(inv.files[0].path) == "/sdcard/DCIM/caf\\xe9/\\xff.jpg"


def test_names_with_a_slash_are_skipped():
    paths, skipped = walk(CraftedAdbd(lambda path: [(b"a/b", FILE, 3), (b"ok", FILE, 4)] if path == b"/sdcard/DCIM" else []))
    assert paths == ["/sdcard/DCIM/ok"]
    assert skipped == ["/sdcard/DCIM: an entry whose name holds '/' or NUL ('a/b')"]


def test_a_listing_that_never_ends_is_the_phone_misbehaving(monkeypatch):
    monkeypatch.setattr(sync, "MAX_LISTING", 50)
    adbd = CraftedAdbd(lambda path: [(b"f%d" % i, FILE, i + 3) for i in range(60)])
    with pytest.raises(DeviceError, match="more than 50 entries"):
        walk(adbd)


def test_a_tree_that_never_ends_stops_at_the_walk_bound(monkeypatch):
    monkeypatch.setattr(sync, "MAX_WALK", 30)
    counter = iter(range(10, 10_000))
    adbd = CraftedAdbd(lambda path: [(b"d%d" % i, DIR, next(counter)) for i in range(5)])  # every folder new
    paths, skipped = walk(adbd)
    assert len(paths) == 30
    assert skipped == ["/sdcard/DCIM: the phone listed more than 30 entries below it; the rest were not looked at"]
