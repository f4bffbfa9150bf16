"""Whatever a phone's files are called, a backup through the real adb server completes: folders
and files named ``*.part``, 255-byte names, names that are not UTF-8 — and resuming it neither
crashes nor deletes the phone's own files. MIUI's descript.xml is read as MIUI writes it."""

from __future__ import annotations

import json
import os
import time

import pytest

from miui_automator.backup import stages
from miui_automator.backup.manifest import verify_and_mark, verify_backup
from miui_automator.backup.state import MANIFEST_FILE, STAGING_DIR, BackupState
from miui_automator.backup.sync import path_bytes
from miui_automator.device.android import AndroidDevice
from miui_automator.errors import StepFailed
from miui_automator.sim.screens.backup import bak_bytes, descript_xml

pytestmark = pytest.mark.integration

ALLBACKUP = "/sdcard/MIUI/backup/AllBackup"
NOT_UTF8 = b"caf\xe9 \xff".decode("utf-8", "surrogateescape")
LONG = "é" * 125 + "x.jpg"  # 255 bytes: the longest name Android allows
HOSTILE = {
    "/sdcard/Download/movie.mkv.part/chunk-1": b"a folder of the phone named like a partial file",
    "/sdcard/Download/song.mp3.part": b"the phone's own half download",
    f"/sdcard/Download/{LONG}": b"a name of 255 bytes",
    f"/sdcard/Documents/{NOT_UTF8}/{NOT_UTF8}.txt": b"bytes that are not UTF-8, folder and file",
    "/sdcard/Documents/100%.txt": b"percent",
    "/sdcard/Documents/back\\slash.txt": b"a backslash is an ordinary character on the phone",
    "/sdcard/Documents/new\nline.txt": b"md5sum escapes this name in its output",
}


def test_hostile_names_back_up_resume_and_verify(make_phone, sim_host, tmp_path):
    assert len(LONG.encode()) == 255
    dev = make_phone(media_files=3, media_bytes=64 * 1024)
    sim_host.call(lambda: [dev.phone.state.fs.write(path, data) for path, data in HOSTILE.items()])
    driver = AndroidDevice(dev.serial)
    folder = stages.begin(driver, tmp_path).folder
    stages.pull_files(driver, folder)

    # an interrupted run left a staged file; the resume sweeps it and nothing of the phone's
    (folder / STAGING_DIR / "0123.part").write_bytes(b"half")
    begun = stages.begin(driver, tmp_path)  # old code: IsADirectoryError on movie.mkv.part/
    assert begun.folder == folder and begun.resumed and begun.todo_files == 0
    assert not (folder / STAGING_DIR).exists()
    assert (folder / "files/Download/song.mp3.part").read_bytes() == HOSTILE["/sdcard/Download/song.mp3.part"]

    stages.pull_files(driver, folder)
    stages.export_all(driver, folder)
    stages.finish(folder)
    assert verify_backup(folder).ok
    manifest = json.loads((folder / MANIFEST_FILE).read_bytes())
    by_remote = {f["remote"]: f for f in manifest["files"]}
    assert len(by_remote) == 3 + len(HOSTILE)
    for remote, data in HOSTILE.items():
        entry = by_remote[remote]  # the manifest gives back the exact name, bytes that are not UTF-8 included
        assert (folder / entry["local"]).read_bytes() == data
        assert path_bytes(entry["remote"]) == path_bytes(remote)
    assert os.fsencode(folder / f"files/Documents/{NOT_UTF8}/{NOT_UTF8}.txt").endswith(b"caf\xe9 \xff.txt")


def test_a_misbehaving_listing_is_a_warning_in_the_report_not_a_traceback(make_phone, sim_host, tmp_path):
    dev = make_phone(media_files=1, media_bytes=1024)
    deep = "/sdcard/Documents/" + "/".join(["d" * 255] * 4)  # 1037 bytes: more than adb's sync can ask for
    sim_host.call(lambda: dev.phone.state.fs.write(deep + "/x.txt", b"x"))
    driver = AndroidDevice(dev.serial)
    logged: list[tuple[str, str]] = []
    folder = stages.begin(driver, tmp_path, log=lambda level, message: logged.append((level, message))).folder
    warnings = BackupState.load(folder).data["warnings"]
    assert len(warnings) == 1 and "longer than the 1024 bytes adb's file transfer can address" in warnings[0]
    assert ("warning", warnings[0]) in logged


def add_miui_backup(sim_host, dev, stamp: str, date_s: float, errors: dict[str, int] | None = None) -> None:
    def write() -> None:
        fs = dev.phone.state.fs
        entries = []
        for pkg, label in (("com.android.mms", "短信设置"), ("com.miui.home", "系统桌面")):
            data = bak_bytes(pkg, label, pkg.encode() * 40)
            fs.write(f"{ALLBACKUP}/{stamp}/{label}({pkg}).bak", data)
            entries.append((pkg, f"{label}({pkg}).bak", len(data)))
        fs.write(f"{ALLBACKUP}/{stamp}/descript.xml",
                 descript_xml("cepheus", "V12.5.6.0.RFACNXM", int(date_s * 1000), entries, errors).encode())

    sim_host.call(write)


def test_an_item_miui_reports_as_failed_fails_the_stage_by_name(make_phone, sim_host, tmp_path):
    dev = make_phone(media_files=1, media_bytes=1024)
    driver = AndroidDevice(dev.serial)
    folder = stages.begin(driver, tmp_path).folder
    add_miui_backup(sim_host, dev, "20250105_100000", time.time(), errors={"com.android.mms": 2})
    with pytest.raises(StepFailed, match=r"MIUI reports com.android.mms as not backed up \(error 2\)"):
        stages.pull_miui_backup(driver, folder)
    assert BackupState.load(folder).stage("miui_backup") == "failed"


def test_a_miui_backup_older_than_the_run_fails_the_stage(make_phone, sim_host, tmp_path):
    """Old code: only a warning, and the backup passed the gate without MIUI's own backup."""
    dev = make_phone(media_files=1, media_bytes=1024)
    driver = AndroidDevice(dev.serial)
    folder = stages.begin(driver, tmp_path).folder
    add_miui_backup(sim_host, dev, "20240101_100000", time.time() - 86400)
    with pytest.raises(StepFailed, match="older than this backup run: MIUI's own backup did not happen"):
        stages.pull_miui_backup(driver, folder)
    state = BackupState.load(folder)
    assert state.stage("miui_backup") == "failed" and state.data["miui_backup"] is None


def test_backup_verify_warns_about_wider_permissions(make_phone, tmp_path, capsys):
    dev = make_phone(media_files=2, media_bytes=1024)
    driver = AndroidDevice(dev.serial)
    folder = stages.begin(driver, tmp_path).folder
    stages.pull_files(driver, folder)
    stages.export_all(driver, folder)
    stages.finish(folder)
    assert verify_and_mark(folder).warnings == []
    os.chmod(folder / "exports/contacts.vcf", 0o644)
    result = verify_and_mark(folder)
    assert result.ok and len(result.warnings) == 1
    assert "exports/contacts.vcf (0644)" in result.warnings[0] and "chmod -R go-rwx" in result.warnings[0]
    from miui_automator.cli.main import main

    assert main(["backup", "verify", str(folder)]) == 0
    assert "warning: " in capsys.readouterr().err
