"""The pure parts of pulling: md5 batches and parsing, the hashing sink, sync record decoding,
the inventory walk over a fake listing, and local names."""

from __future__ import annotations

import hashlib
import shlex
import stat
import struct

import pytest

from miui_automator.backup import pull
from miui_automator.backup.inventory import Inventory, RemoteFile, human_size, local_name, take_inventory
from miui_automator.backup.local_names import POSIX, WINDOWS
from miui_automator.backup.sync import DirEntry, decode_dent, dent_size, encode_request
from miui_automator.sim.phone import Phone
from miui_automator.sim.shell import Shell


def files(*sizes: int, prefix: str = "/sdcard/DCIM/f") -> list[RemoteFile]:
    return [RemoteFile(f"{prefix}{i}.jpg", size, 0) for i, size in enumerate(sizes)]


def test_batches_respect_count_length_and_bytes():
    assert [len(b) for b in pull.md5_batches(files(*[1] * 10), max_files=4)] == [4, 4, 2]
    assert [len(b) for b in pull.md5_batches(files(5, 5, 5, 5), max_bytes=10)] == [2, 2]
    assert [len(b) for b in pull.md5_batches(files(100, 1), max_bytes=10)] == [1, 1]  # a huge file goes alone
    long = files(1, 1, 1, prefix="/sdcard/" + "x" * 100)
    assert [len(b) for b in pull.md5_batches(long, max_chars=250)] == [2, 1]
    assert list(pull.md5_batches([])) == []


def test_md5_command_quotes_and_output_maps_back_to_paths():
    paths = ["/sdcard/DCIM/a b.jpg", "/sdcard/it's.mp3", "/sdcard/missing"]
    cmd = pull.md5_command(paths)
    assert shlex.split(cmd) == ["md5sum", *paths]
    phone = Phone(media_files=0)
    phone.state.fs.write("/sdcard/DCIM/a b.jpg", b"one")
    phone.state.fs.write("/sdcard/it's.mp3", b"two")
    result = Shell(phone).run(cmd)
    found = pull.parse_md5_output(result.combined.decode())
    assert found == {"/sdcard/DCIM/a b.jpg": hashlib.md5(b"one").hexdigest(), "/sdcard/it's.mp3": hashlib.md5(b"two").hexdigest()}
    assert result.rc == 1  # the missing file is an error line, left out of the map


def test_md5_output_with_binary_marker_and_crlf():
    out = f"{'a' * 32} *file one\r\n{'b' * 32}  two\r\nmd5sum: x: No such file or directory\r\n"
    assert pull.parse_md5_output(out) == {"file one": "a" * 32, "two": "b" * 32}


def test_md5_timeout_grows_with_the_batch():
    assert pull.md5_timeout(0) == pull.MD5_BASE_TIMEOUT_S
    assert pull.md5_timeout(4_000_000_000) > 200


def test_sink_hashes_what_it_writes_and_discard_removes_it(tmp_path):
    data = bytes(range(256)) * 1000
    sink = pull.FileSink(tmp_path / "x.part")
    for i in range(0, len(data), 65536):
        sink.write(memoryview(data)[i:i + 65536])
    sink.close()
    assert (tmp_path / "x.part").read_bytes() == data
    assert sink.md5.hexdigest() == hashlib.md5(data).hexdigest()
    assert sink.sha256.hexdigest() == hashlib.sha256(data).hexdigest()
    other = pull.FileSink(tmp_path / "y.part")
    other.write(memoryview(b"half"))
    other.discard()
    assert not (tmp_path / "y.part").exists()


def test_disk_full_is_a_clear_step_failure(tmp_path):
    import errno

    err = pull.disk_error(OSError(errno.ENOSPC, "No space left on device"), tmp_path / "files/a.jpg")
    assert err.exit_code == 1 and "disk full while writing" in str(err) and "resumes" in str(err)
    other = pull.disk_error(PermissionError(errno.EACCES, "Permission denied"), tmp_path)
    assert str(other) == f"cannot write {tmp_path}: Permission denied"


# ---------------------------------------------------------------------- sync records
def test_sync_records_encode_and_decode():
    assert encode_request(b"RECV", "/sdcard/a") == b"RECV" + struct.pack("<I", 9) + b"/sdcard/a"
    with pytest.raises(ValueError, match="longer than 1024"):
        encode_request(b"RECV", "/" + "x" * 1024)
    v1 = struct.pack("<4sIIII", b"DENT", stat.S_IFREG | 0o660, 123, 456, 5)
    assert decode_dent(v1, v2=False) == (stat.S_IFREG | 0o660, 123, 456, 0, 0, 5)
    v2 = struct.pack("<4sIQQIIIIQqqqI", b"DNT2", 0, 1, 2, stat.S_IFREG | 0o660, 1, 0, 0, 5 << 32, 0, 789, 0, 3)
    assert decode_dent(v2, v2=True) == (stat.S_IFREG | 0o660, 5 << 32, 789, 0, 2, 3)  # sizes above 4 GiB survive
    assert decode_dent(b"DONE" + bytes(dent_size(True) - 4), v2=True)[-1] == -1
    with pytest.raises(ValueError, match="unexpected sync reply"):
        decode_dent(b"FAIL" + bytes(16), v2=False)


class FakeStream:
    """A listing as a sync stream gives it: {folder: [DirEntry]}."""

    def __init__(self, tree: dict[str, list[DirEntry]]) -> None:
        self.tree = tree
        self.ls_v2 = True

    def walk(self, top, skip_dirs=frozenset(), on_skip=None):
        stack = [top]
        while stack:
            folder = stack.pop()
            subfolders = []
            for entry in sorted(self.tree.get(folder, []), key=lambda e: e.name):
                full = f"{folder}/{entry.name}"
                yield full, entry
                if entry.is_dir and entry.name not in skip_dirs:
                    subfolders.append(full)
            stack.extend(reversed(subfolders))


FILE, DIR, LINK = stat.S_IFREG | 0o660, stat.S_IFDIR | 0o771, stat.S_IFLNK | 0o777


def test_inventory_counts_folders_skips_caches_links_and_duplicates():
    stream = FakeStream({
        "/sdcard/DCIM": [DirEntry("Camera", DIR, 0, 0), DirEntry(".thumbnails", DIR, 0, 0), DirEntry("link", LINK, 0, 0)],
        "/sdcard/DCIM/Camera": [DirEntry("a.jpg", FILE, 1000, 5), DirEntry("b.jpg", FILE, 2000, 6),
                                DirEntry("locked.jpg", FILE, 0, 0, error=13)],
        "/sdcard/DCIM/.thumbnails": [DirEntry("t.jpg", FILE, 50, 1)],
        "/sdcard/MIUI": [DirEntry("sound_recorder", DIR, 0, 0)],
        "/sdcard/MIUI/sound_recorder": [DirEntry("r.mp3", FILE, 300, 7)],
    })
    inv = take_inventory(stream, ["DCIM", "MIUI", "MIUI/sound_recorder", "Music"])
    assert [f.path for f in inv.files] == ["/sdcard/DCIM/Camera/a.jpg", "/sdcard/DCIM/Camera/b.jpg",
                                           "/sdcard/MIUI/sound_recorder/r.mp3"]
    assert inv.folders == {"DCIM": (2, 3000), "MIUI": (1, 300), "MIUI/sound_recorder": (1, 300), "Music": (0, 0)}
    assert inv.skipped == ["/sdcard/DCIM/link: not a regular file", "/sdcard/DCIM/Camera/locked.jpg: unreadable (error 13)"]
    assert inv.summary() == "3 files, 3.3 KB"
    assert inv.lines()[0] == "DCIM: 2 files, 3.0 KB"
    # the pull opens its stream without asking the phone again whether it lists 64-bit sizes
    assert inv.ls_v2 is True and Inventory.from_dict(inv.as_dict()).ls_v2 is True
    assert Inventory.from_dict({"files": []}).ls_v2 is None  # an inventory written before: the pull asks


def test_local_names_and_windows_safe_names():
    assert local_name("/sdcard/DCIM/Camera/a.jpg", rules=POSIX) == "files/DCIM/Camera/a.jpg"
    assert local_name("/sdcard/MIUI/backup/AllBackup/1/x.bak", "/sdcard/MIUI/backup/AllBackup", "miui-backup",
                      rules=POSIX) == "miui-backup/1/x.bak"
    assert local_name('/sdcard/Download/a:b?"c".txt ', rules=WINDOWS) == "files/Download/a%3Ab%3F%22c%22.txt%20"
    assert local_name('/sdcard/Download/a:b.txt', rules=POSIX) == "files/Download/a:b.txt"


@pytest.mark.parametrize("n, text", [(0, "0 B"), (999, "999 B"), (1000, "1.0 KB"), (1_400_000_000, "1.4 GB"),
                                     (5_000_000_000_000, "5000.0 GB")])
def test_human_size(n, text):
    assert human_size(n) == text


# ---------------------------------------------------------------------- names that are not UTF-8
def test_a_path_that_is_not_utf8_is_spelt_in_ascii_that_a_posix_shell_turns_back_into_its_bytes(tmp_path):
    """adbutils sends commands as UTF-8: the raw name would raise UnicodeEncodeError on the command line."""
    import subprocess

    raw = b"/sdcard/caf\xe9 it's 100%\\ \x01\xff.jpg"
    path = raw.decode("utf-8", "surrogateescape")
    word = pull.shell_path(path)
    word.encode("ascii")
    out = subprocess.run(["sh", "-c", f"printf '%s' {word}"], capture_output=True, check=True).stdout
    assert out == raw
    assert pull.shell_path("/sdcard/a b.jpg") == shlex.quote("/sdcard/a b.jpg")


def test_md5_batches_leave_out_paths_that_are_not_utf8():
    class Driver:
        commands: list[str] = []

        def shell(self, command, timeout_s):
            self.commands.append(command)

            class Out:
                output = ""
            return Out()

    driver = Driver()
    odd = RemoteFile(b"/sdcard/\xff.jpg".decode("utf-8", "surrogateescape"), 1, 0)
    assert pull.phone_md5s(driver, [odd]) == {} and driver.commands == []
    pull.phone_md5s(driver, [odd, *files(1)])
    assert driver.commands == ["md5sum /sdcard/DCIM/f0.jpg"]
    pull.single_md5(driver, odd.path, 1)
    assert driver.commands[-1] == "md5sum < \"$(printf '/sdcard/\\377.jpg')\""


@pytest.mark.parametrize("ls_v2, listed, received, kept", [
    (True, 5 << 30, 5 << 30, True),  # the listed size: kept
    (True, 1 << 30, 5 << 30, False),  # ls_v2 sizes are whole: 4 GiB more than listed is not the file
    (False, 1 << 30, 5 << 30, True),  # without ls_v2 the listing holds the size modulo 4 GiB: the md5 decides
    (False, 1 << 30, 2 << 30, False),  # a different size whatever the wrap
])
def test_a_copy_counts_as_proven_by_the_phones_md5_and_the_listed_size(ls_v2, listed, received, kept):
    copy = pull._Copy(RemoteFile("/sdcard/DCIM/big.mp4", listed, 0), "DCIM/big.mp4", None, received, "ab" * 16, "", None)
    puller = pull.Puller.__new__(pull.Puller)  # only the listing's kind matters here
    puller._ls_v2 = ls_v2
    assert puller._proven(copy, "ab" * 16) is kept
    assert not puller._proven(copy, "cd" * 16) and not puller._proven(copy, None)
