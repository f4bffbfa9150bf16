"""The sync protocol over a VirtualFS, fed the way adbutils and the adb CLI write it."""

from __future__ import annotations

import stat
import struct

import pytest

from miui_automator.sim.sync import (
    DENT_V1, DENT_V2, SYNC_DATA_MAX, STAT_V1, STAT_V2, SyncSession, strtoul0,
)
from miui_automator.sim.vfs import VirtualFS


def req(ident: bytes, path: str | bytes) -> bytes:
    raw = path.encode() if isinstance(path, str) else path
    return ident + struct.pack("<I", len(raw)) + raw


def send_body(data: bytes, mtime: int, chunk: int = 4096) -> bytes:
    parts = [b"DATA" + struct.pack("<I", len(data[i:i + chunk])) + data[i:i + chunk] for i in range(0, len(data), chunk)]
    return b"".join(parts) + b"DONE" + struct.pack("<I", mtime)


@pytest.fixture
def fs() -> VirtualFS:
    fs = VirtualFS(clock=lambda: 1_700_000_000)
    fs.write("/sdcard/DCIM/a.jpg", b"jpeg-bytes", mtime=1_600_000_000)
    fs.mkdir("/sdcard/DCIM/Camera")
    return fs


def talk(fs: VirtualFS, data: bytes, max_write: int = 0x100000) -> tuple[list[bytes], SyncSession]:
    session = SyncSession(fs, max_write=max_write)
    return list(session.feed(data)), session


def parse_fail(out: bytes) -> str:
    assert out[:4] == b"FAIL"
    (n,) = struct.unpack("<I", out[4:8])
    assert len(out) == 8 + n
    return out[8:].decode()


# ---------------------------------------------------------------------------- stat
def test_stat_of_file_dir_and_missing_path(fs):
    writes, _ = talk(fs, req(b"STAT", "/sdcard/DCIM/a.jpg") + req(b"STAT", "/sdcard/DCIM") + req(b"STAT", "/nope"))
    assert len(writes) == 3  # each reply one write: adbutils reads it with a bare recv(12)
    ident, mode, size, mtime = STAT_V1.unpack(writes[0])
    assert ident == b"STAT" and stat.S_ISREG(mode) and (size, mtime) == (10, 1_600_000_000)
    _, mode, size, _ = STAT_V1.unpack(writes[1])
    assert stat.S_ISDIR(mode) and size == 4096
    assert writes[2] == b"STAT" + bytes(12)


def test_sta2_and_lst2_report_stat_v2_fields_and_enoent(fs):
    writes, _ = talk(fs, req(b"STA2", "/storage/emulated/0/DCIM/a.jpg") + req(b"LST2", "/missing"))
    fields = STAT_V2.unpack(writes[0])
    assert fields[0] == b"STA2" and fields[1] == 0
    mode, nlink, uid, gid, size, atime, mtime = fields[4:11]
    assert stat.S_ISREG(mode) and nlink == 1 and (uid, gid) == (0, 9997) and size == 10 and mtime == 1_600_000_000
    assert len(writes[1]) == 72 and writes[1][:8] == b"LST2" + struct.pack("<I", 2) and writes[1][8:] == bytes(64)


# ---------------------------------------------------------------------------- list
def _dents(blob: bytes, v2: bool) -> list[tuple[str, int, int]]:
    record = DENT_V2 if v2 else DENT_V1
    out, pos = [], 0
    while blob[pos:pos + 4] != b"DONE":
        fields = record.unpack_from(blob, pos)
        namelen = fields[-1]
        name = blob[pos + record.size:pos + record.size + namelen].decode()
        mode, size = (fields[4], fields[8]) if v2 else (fields[1], fields[2])
        out.append((name, mode, size))
        pos += record.size + namelen
    assert blob[pos:] == b"DONE" + bytes(record.size - 4)
    return out


@pytest.mark.parametrize("v2", [False, True])
def test_list_includes_dot_entries_children_and_a_full_done(fs, v2):
    writes, session = talk(fs, req(b"LIS2" if v2 else b"LIST", "/sdcard/DCIM"))
    entries = _dents(b"".join(writes), v2)
    assert [e[0] for e in entries] == [".", "..", "Camera", "a.jpg"]
    assert stat.S_ISDIR(entries[2][1]) and stat.S_ISREG(entries[3][1]) and entries[3][2] == 10
    assert not session.finished  # the stream stays open for the next request


def test_lis2_done_is_76_bytes_and_list_done_is_20(fs):
    assert talk(fs, req(b"LIS2", "/nope"))[0] == [b"DONE" + bytes(72)]
    assert talk(fs, req(b"LIST", "/sdcard/DCIM/a.jpg"))[0] == [b"DONE" + bytes(16)]


def test_long_listing_is_batched_without_splitting_an_entry(fs):
    for i in range(300):
        fs.write(f"/sdcard/many/file-{i:04d}.txt", b"x")
    writes, _ = talk(fs, req(b"LIST", "/sdcard/many"), max_write=1000)
    assert len(writes) > 5 and all(len(w) <= 1000 for w in writes)
    for w in writes:  # every write starts on an entry boundary
        assert w[:4] in (b"DENT", b"DONE")
    assert len(_dents(b"".join(writes), False)) == 302


# ---------------------------------------------------------------------------- send
def test_send_coalesced_in_one_write_creates_file_with_mode_and_mtime(fs):
    data = bytes(range(256)) * 50
    writes, session = talk(fs, req(b"SEND", "/data/local/tmp/u2.jar,33261") + send_body(data, 1_650_000_000))
    assert writes == [b"OKAY" + bytes(4)]
    entry = fs.lookup("/data/local/tmp/u2.jar")
    assert bytes(entry.content()) == data and entry.mode == 0o100755 and entry.mtime == 1_650_000_000
    assert not session.finished


def test_send_split_byte_by_byte_gives_the_same_file(fs):
    data = b"hello world" * 700
    stream = req(b"SEND", "/sdcard/x.bin,0644") + send_body(data, 5, chunk=1000) + req(b"STAT", "/sdcard/x.bin")
    session = SyncSession(fs)
    writes = [w for i in range(len(stream)) for w in session.feed(stream[i:i + 1])]
    assert writes[0] == b"OKAY" + bytes(4)
    assert STAT_V1.unpack(writes[1])[1:3] == (0o100644, len(data))
    assert fs.read("/sdcard/x.bin") == data


def test_send_creates_missing_parent_directories(fs):
    writes, _ = talk(fs, req(b"SEND", "/sdcard/new/deep/dir/f.txt,420") + send_body(b"abc", 1))
    assert writes == [b"OKAY" + bytes(4)]
    assert fs.lookup("/sdcard/new/deep/dir").is_dir and fs.read("/sdcard/new/deep/dir/f.txt") == b"abc"


@pytest.mark.parametrize("path, message", [
    ("/sdcard/DCIM,420", "couldn't create file: Is a directory"),
    ("/sdcard/DCIM/a.jpg/inner,420", "couldn't create file: Not a directory"),
    ("/sdcard/DCIM/a.jpg/sub/inner,420", "couldn't create file: Not a directory"),
    ("/sdcard/no-mode", "missing , in ID_SEND"),
])
def test_send_errors_use_adbd_messages_and_end_the_session(fs, path, message):
    writes, session = talk(fs, req(b"SEND", path) + send_body(b"abc", 1))
    assert parse_fail(writes[0]) == message
    assert session.finished


def test_send_data_chunk_over_64k_is_refused(fs):
    blob = req(b"SEND", "/sdcard/big,420") + b"DATA" + struct.pack("<I", SYNC_DATA_MAX + 1)
    writes, session = talk(fs, blob)
    assert parse_fail(writes[0]) == "oversize data message" and session.finished


def test_snd2_uses_the_setup_mode_and_rejects_compression(fs):
    setup = b"SND2" + struct.pack("<II", 0o100600, 0)
    writes, _ = talk(fs, req(b"SND2", "/sdcard/v2.bin") + setup + send_body(b"v2data", 9, chunk=2))
    assert writes == [b"OKAY" + bytes(4)]
    assert fs.lookup("/sdcard/v2.bin").mode == 0o100600 and fs.read("/sdcard/v2.bin") == b"v2data"
    zstd = b"SND2" + struct.pack("<II", 0o100600, 4)
    writes, session = talk(fs, req(b"SND2", "/sdcard/z.bin") + zstd + send_body(b"x", 9))
    assert parse_fail(writes[0]).startswith("unsupported SND2 flags") and session.finished
    assert not fs.exists("/sdcard/z.bin")


# ---------------------------------------------------------------------------- recv
def _data_chunks(blob: bytes) -> list[bytes]:
    chunks, pos = [], 0
    while blob[pos:pos + 4] == b"DATA":
        (n,) = struct.unpack_from("<I", blob, pos + 4)
        chunks.append(blob[pos + 8:pos + 8 + n])
        pos += 8 + n
    assert blob[pos:] == b"DONE" + bytes(4)
    return chunks


def test_recv_streams_64k_chunks_batched_into_large_writes(fs):
    fs.add_synthetic("/sdcard/DCIM/big.mp4", size=3 * 1024 * 1024 + 123, seed=7)
    writes, _ = talk(fs, req(b"RECV", "/sdcard/DCIM/big.mp4"))
    assert all(len(w) <= 0x100000 for w in writes) and len(writes) == 4
    chunks = _data_chunks(b"".join(writes))
    assert all(len(c) <= SYNC_DATA_MAX for c in chunks)
    assert b"".join(chunks) == bytes(fs.lookup("/sdcard/DCIM/big.mp4").content())


def test_recv_of_an_empty_file_is_just_done(fs):
    fs.write("/sdcard/empty", b"")
    assert talk(fs, req(b"RECV", "/sdcard/empty"))[0] == [b"DONE" + bytes(4)]


def test_recv_fires_the_read_hook(fs):
    reads = []
    fs.lookup("/sdcard/DCIM/a.jpg").on_read = reads.append
    talk(fs, req(b"RECV", "/sdcard/DCIM/a.jpg"))
    assert len(reads) == 1


@pytest.mark.parametrize("path, message", [
    ("/sdcard/nope.jpg", "open failed: No such file or directory"),
    ("/sdcard/DCIM", "read failed: Is a directory"),
])
def test_recv_errors(fs, path, message):
    writes, session = talk(fs, req(b"RECV", path))
    assert parse_fail(b"".join(writes)) == message and session.finished


def test_rcv2_accepts_flags_zero_only(fs):
    writes, _ = talk(fs, req(b"RCV2", "/sdcard/DCIM/a.jpg") + b"RCV2" + struct.pack("<I", 0))
    assert _data_chunks(b"".join(writes)) == [b"jpeg-bytes"]
    writes, session = talk(fs, req(b"RCV2", "/sdcard/DCIM/a.jpg") + b"RCV2" + struct.pack("<I", 2))
    assert parse_fail(writes[0]).startswith("unsupported RCV2 flags") and session.finished


# ---------------------------------------------------------------------------- session
def test_quit_finishes_and_ignores_what_follows(fs):
    writes, session = talk(fs, req(b"QUIT", "") + req(b"STAT", "/sdcard"))
    assert writes == [] and session.finished


def test_unknown_command_fails_with_its_hex_id(fs):
    writes, session = talk(fs, req(b"ABCD", "/x"))
    assert parse_fail(writes[0]) == f"unknown command {int.from_bytes(b'ABCD', 'little'):08x}"
    assert session.finished


def test_path_over_1024_bytes_is_refused(fs):
    writes, session = talk(fs, req(b"STAT", "/" + "a" * 1100))
    assert parse_fail(writes[0]) == "path too long" and session.finished


def test_request_split_across_feeds_waits_for_the_rest(fs):
    session = SyncSession(fs)
    blob = req(b"STAT", "/sdcard/DCIM/a.jpg")
    assert list(session.feed(blob[:5])) == []
    assert list(session.feed(blob[5:12])) == []
    (reply,) = session.feed(blob[12:])
    assert STAT_V1.unpack(reply)[2] == 10


@pytest.mark.parametrize("text, value", [
    ("33261", 33261), ("0755", 0o755), ("0x1ed", 0x1ED), ("  420", 420), ("0", 0), ("", 0), ("12abc", 12), ("-1", 0xFFFFFFFF),
])
def test_strtoul_base_zero(text, value):
    assert strtoul0(text) == value
