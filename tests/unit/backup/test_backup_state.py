"""Resume state: the state file, the journal of verified files, what is still pending, and which
folder a new run resumes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from miui_automator.backup.inventory import Inventory, RemoteFile
from miui_automator.backup.state import (INVENTORY_FILE, JOURNAL_FILE, MANIFEST_FILE, STAGING_DIR, STATE_FILE, BackupState,
                                         PulledFile, backup_folders, device_folder, new_folder, resumable_folder,
                                         staging_path)
from miui_automator.errors import StepFailed

SERIAL = "abc123"


def record(remote: str, local: str, size: int, mtime: int = 1) -> PulledFile:
    return PulledFile(remote, local, size, mtime, "m" * 32, "s" * 64, "file", size)


def test_create_load_stage_and_failure_round_trip(tmp_path):
    state = BackupState.create(tmp_path, {"hardware_serial": SERIAL})
    state.set_stage("files", "running")
    state.fail("files", "the phone went away")
    again = BackupState.load(tmp_path)
    assert again.stage("files") == "failed"
    assert again.data["status"] == "incomplete"
    assert again.data["error"]["message"] == "the phone went away"
    again.set_stage("files", "running")
    assert BackupState.load(tmp_path).data["error"] is None


def test_load_refuses_a_missing_or_finished_backup(tmp_path):
    with pytest.raises(StepFailed, match="run backup-begin first"):
        BackupState.load(tmp_path)
    BackupState.create(tmp_path, {})
    (tmp_path / MANIFEST_FILE).write_text("{}")
    with pytest.raises(StepFailed, match="finished backup"):
        BackupState.load(tmp_path)


def test_journal_keeps_the_last_record_and_skips_a_torn_line(tmp_path):
    state = BackupState.create(tmp_path, {})
    with state.journal() as journal:
        journal.add(record("/sdcard/a", "files/a", 1))
        journal.add(record("/sdcard/a", "files/a", 2))
        journal.add(record("/sdcard/b", "files/b", 3))
    with open(tmp_path / JOURNAL_FILE, "a") as f:
        f.write('{"remote": "/sdcard/c", "loc')  # killed mid-write
    done = state.records()
    assert sorted(done) == ["/sdcard/a", "/sdcard/b"]
    assert done["/sdcard/a"].size == 2


def test_pending_is_what_is_not_pulled_in_the_version_on_the_phone(tmp_path):
    state = BackupState.create(tmp_path, {})
    (tmp_path / "files").mkdir()
    for name, size in (("same", 4), ("gone", 4), ("grown", 4), ("touched", 4), ("truncated", 4)):
        (tmp_path / "files" / name).write_bytes(b"x" * (2 if name == "truncated" else size))
    with state.journal() as journal:
        for name in ("same", "gone", "grown", "touched", "truncated"):
            journal.add(record(f"/sdcard/{name}", f"files/{name}", 4))
    (tmp_path / "files" / "gone").unlink()
    phone = [RemoteFile("/sdcard/same", 4, 1), RemoteFile("/sdcard/gone", 4, 1), RemoteFile("/sdcard/grown", 5, 1),
             RemoteFile("/sdcard/touched", 4, 2), RemoteFile("/sdcard/truncated", 4, 1), RemoteFile("/sdcard/new", 9, 1)]
    assert [f.path for f in state.pending(phone)] == ["/sdcard/gone", "/sdcard/grown", "/sdcard/touched",
                                                      "/sdcard/truncated", "/sdcard/new"]


def test_inventory_round_trip_and_state_files_removed_at_the_end(tmp_path):
    state = BackupState.create(tmp_path, {})
    inv = Inventory([RemoteFile("/sdcard/DCIM/a.jpg", 5, 9)], {"DCIM": (1, 5)}, ["x: not a regular file"])
    state.save_inventory(inv)
    assert state.inventory() == inv
    with state.journal() as journal:
        journal.add(record("/sdcard/DCIM/a.jpg", "files/DCIM/a.jpg", 5))
    staged = staging_path(tmp_path, "files/DCIM/b.jpg")
    staged.parent.mkdir()
    staged.write_bytes(b"half")
    assert state.remove_partials() == 1
    state.remove_files()
    assert not any((tmp_path / n).exists() for n in (STATE_FILE, INVENTORY_FILE, JOURNAL_FILE))
    assert not staged.exists()


def test_the_sweep_leaves_phone_files_and_folders_named_part_alone(tmp_path):
    """Old code: rglob('*.part') unlinked genuine phone files and crashed (IsADirectoryError) on a folder."""
    state = BackupState.create(tmp_path, {})
    (tmp_path / "files/Download/movie.mkv.part").mkdir(parents=True)
    (tmp_path / "files/Download/movie.mkv.part/chunk").write_bytes(b"phone's")
    (tmp_path / "files/Download/song.mp3.part").write_bytes(b"phone's own partial download")
    staged = staging_path(tmp_path, "files/Download/x.jpg")
    staged.parent.mkdir()
    staged.write_bytes(b"half")
    assert state.remove_partials() == 1
    assert (tmp_path / "files/Download/song.mp3.part").read_bytes() == b"phone's own partial download"
    assert (tmp_path / "files/Download/movie.mkv.part/chunk").exists()


def test_staging_names_are_short_whatever_the_phone_name(tmp_path):
    long_name = "files/Download/" + "é" * 127 + "x"  # 255 bytes: legal on Android
    assert len(long_name.split("/")[-1].encode()) == 255
    staged = staging_path(tmp_path, long_name)
    assert len(staged.name) < 64 and staged.parent == tmp_path / STAGING_DIR
    assert staging_path(tmp_path, long_name) == staged and staging_path(tmp_path, long_name + "y") != staged


def test_names_that_are_not_utf8_survive_inventory_journal_and_state(tmp_path):
    """Old code: UnicodeEncodeError half-way through writing the inventory."""
    odd = b"/sdcard/DCIM/caf\xe9-\xff.jpg".decode("utf-8", "surrogateescape")
    state = BackupState.create(tmp_path, {})
    inv = Inventory([RemoteFile(odd, 5, 9, "files/DCIM/x")], {"DCIM": (1, 5)}, [])
    state.save_inventory(inv)
    assert state.inventory() == inv
    with state.journal() as journal:
        journal.add(record(odd, odd.replace("/sdcard", "files"), 5))
    assert list(state.records()) == [odd]
    state.warn(f"not backed up: {odd}")
    state.save()
    assert BackupState.load(tmp_path).data["warnings"] == [f"not backed up: {odd}"]
    json.loads((tmp_path / INVENTORY_FILE).read_bytes())  # valid UTF-8 JSON


def test_state_files_are_json_written_whole(tmp_path):
    state = BackupState.create(tmp_path, {"hardware_serial": SERIAL})
    assert json.loads((tmp_path / STATE_FILE).read_text())["device"] == {"hardware_serial": SERIAL}
    assert not list(tmp_path.glob("*.tmp"))
    assert state.data["format"] == "miui-automator-backup"


def make(root: Path, stamp: str, *, complete: bool) -> Path:
    folder = root / device_folder(SERIAL) / stamp
    folder.mkdir(parents=True)
    BackupState.create(folder, {"hardware_serial": SERIAL})
    if complete:
        (folder / MANIFEST_FILE).write_text("{}")
    return folder


def test_resume_picks_the_newest_incomplete_unless_a_newer_one_finished(tmp_path):
    assert resumable_folder(tmp_path, SERIAL) is None
    make(tmp_path, "20260101-100000", complete=False)
    done = make(tmp_path, "20260102-100000", complete=True)
    assert resumable_folder(tmp_path, SERIAL) is None  # the older unfinished one was abandoned
    late = make(tmp_path, "20260103-100000", complete=False)
    assert resumable_folder(tmp_path, SERIAL) == late
    assert backup_folders(tmp_path, SERIAL)[1] == done


def test_new_folders_never_collide_and_sort_in_time_order(tmp_path):
    when = 1_780_000_000.0
    first = new_folder(tmp_path, SERIAL, when)
    second = new_folder(tmp_path, SERIAL, when)
    eleventh = [new_folder(tmp_path, SERIAL, when) for _ in range(9)][-1]
    assert second.name == first.name + "-2" and eleventh.name == first.name + "-11"
    assert backup_folders(tmp_path, SERIAL)[0] == eleventh
    (tmp_path / device_folder(SERIAL) / "not-a-backup").mkdir()
    assert len(backup_folders(tmp_path, SERIAL)) == 11


def test_device_folder_is_a_safe_name():
    assert device_folder("127.0.0.1:5555") == "127.0.0.1_5555"
    assert device_folder("../x") == "_x"
    assert device_folder("..") == device_folder("") == "unknown"
    assert os.sep not in device_folder("a/b\\c")
