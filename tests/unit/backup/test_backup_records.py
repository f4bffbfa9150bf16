"""The per-user records of verified backups: written when a backup is verified, read by the gate."""

from __future__ import annotations

import json
import os

import pytest

from miui_automator import backup
from miui_automator.backup import records

HW = "hw-records-1"


def test_the_records_live_in_the_home_the_environment_names(tmp_path, monkeypatch):
    monkeypatch.setenv(records.HOME_ENV, str(tmp_path / "home"))
    assert records.records_path() == tmp_path / "home" / "backups.jsonl"
    monkeypatch.delenv(records.HOME_ENV)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    if os.name != "nt":
        assert records.records_path() == tmp_path / "xdg" / "miui-automator" / "backups.jsonl"


def test_remember_writes_serial_path_time_and_size(tmp_path, verified_backup):
    folder = verified_backup(tmp_path / "usb", HW)
    record = records.remember(folder)
    (line,) = records.records_path().read_text().splitlines()
    data = json.loads(line)
    assert data["hardware_serial"] == HW and data["path"] == str(folder.resolve())
    assert (data["files"], data["bytes"]) == (2, 30) and data["recorded_at"]
    assert records.recorded(HW) == [record]


def test_recorded_is_newest_first_one_per_folder_and_skips_torn_lines(tmp_path, verified_backup):
    a = verified_backup(tmp_path / "usb", HW, stamp="20260101-100000")
    b = verified_backup(tmp_path / "usb", HW, stamp="20260102-100000")
    other = verified_backup(tmp_path / "usb", "hw-other")
    records.remember(a)
    records.remember(b)
    records.remember(other)
    records.remember(a)  # verified again later: now the newest
    with open(records.records_path(), "a") as f:
        f.write('{"hardware_serial": "hw-records-1", "pa')  # a crash mid-write
    assert [r.path for r in records.recorded(HW)] == [a.resolve(), b.resolve()]
    assert records.recorded("nobody") == []


def test_no_records_file_means_no_records(tmp_path):
    assert records.recorded(HW, tmp_path / "missing.jsonl") == []


def test_a_backup_is_recorded_when_backup_verify_passes_and_not_when_it_fails(tmp_path, verified_backup):
    good = verified_backup(tmp_path / "usb", HW, stamp="20260101-100000")
    bad = verified_backup(tmp_path / "usb", HW, stamp="20260102-100000")
    (bad / "files/DCIM/a.jpg").write_bytes(b"x" * 10)  # same size, other content: only the full check sees it
    assert backup.verify_and_mark(good).ok
    assert not backup.verify_and_mark(bad).ok
    assert [r.path for r in records.recorded(HW)] == [good.resolve()]


def test_a_records_file_that_cannot_be_written_warns_instead_of_failing_the_backup(tmp_path, monkeypatch, verified_backup):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv(records.HOME_ENV, str(blocker))
    folder = verified_backup(tmp_path / "usb", HW)
    warnings: list[tuple[str, str]] = []
    assert backup.verify_and_mark(folder, log=lambda level, message: warnings.append((level, message))).ok
    assert len(warnings) == 1 and warnings[0][0] == "warning"
    assert "could not be recorded" in warnings[0][1] and str(folder) in warnings[0][1]


@pytest.mark.parametrize("damage, why", [
    ("delete", "the folder is gone"),
    ("resize", "no longer matches its manifest"),
    ("unmark", "not verified"),
])
def test_problem_says_why_a_folder_does_not_count(tmp_path, verified_backup, damage, why):
    folder = verified_backup(tmp_path / "usb", HW)
    if damage == "delete":
        folder = tmp_path / "elsewhere"
    elif damage == "resize":
        (folder / "files/DCIM/a.jpg").write_bytes(b"a")
    else:
        (folder / "verified.json").unlink()
    assert why in records.problem(folder, HW)


def test_problem_is_none_for_a_good_backup_and_names_the_owner_of_another_phones(tmp_path, verified_backup):
    folder = verified_backup(tmp_path / "usb", HW)
    assert records.problem(folder, HW) is None
    assert records.problem(folder, "hw-else") == f"a backup of another phone ({HW})"
