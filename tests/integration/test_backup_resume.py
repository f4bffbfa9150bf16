"""A backup that stops half-way — phone unplugged, disk full, a file that keeps changing — ends
with a clear error, leaves nothing half-written counted as done, and a resume completes it
without pulling again what was already verified."""

from __future__ import annotations

import errno
import json
from collections import Counter
from pathlib import Path

import pytest

from miui_automator.backup import pull, stages
from miui_automator.backup.manifest import verify_backup
from miui_automator.backup.state import MANIFEST_FILE, BackupState
from miui_automator.device.android import AndroidDevice
from miui_automator.errors import DeviceError, StepFailed
from miui_automator.sim.faults import parse_faults
from miui_automator.sim.host import device_state, wait_for_state

pytestmark = pytest.mark.integration

SMALL = {"media_files": 20, "media_bytes": 4 * 1024 * 1024}
CHANGING = "/sdcard/DCIM/Camera/IMG_20250101_000000.jpg"  # the first synthetic photo


def counting(counter: Counter, after=None):
    def on_file(record) -> None:
        counter[record.remote] += 1
        if after is not None:
            after(sum(counter.values()))
    return on_file


def finish_and_check(driver: AndroidDevice, folder: Path) -> dict:
    stages.export_all(driver, folder)
    stages.finish(folder)
    assert verify_backup(folder).ok
    assert not list(folder.rglob("*.part"))
    return json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))


def test_unplugged_mid_pull_exits_3_and_resumes_pulling_each_file_once(make_phone, adb_port, tmp_path, wait_until):
    # 2 MB files: far more than the socket buffers hold, so unplugging after the third file stops the pull
    # part-way (files already in flight still arrive whole and count: they were verified).
    dev = make_phone(media_files=20, media_bytes=40 * 1024 * 1024)
    driver = AndroidDevice(dev.serial)
    folder = stages.begin(driver, tmp_path).folder
    pulled: Counter = Counter()

    def unplug_after_three(done: int) -> None:
        if done == 3:
            dev.stop()

    with pytest.raises(DeviceError) as err:
        stages.pull_files(driver, folder, on_file=counting(pulled, unplug_after_three))
    assert err.value.exit_code == 3 and dev.serial in str(err.value)
    state = BackupState.load(folder)
    # the transfer or the phone's md5sum running beside it, whichever notices first, names the phone
    assert state.stage("files") == "failed" and state.data["error"]["message"].startswith(f"{dev.serial}: ")
    done_before = len(state.records())
    assert 3 <= done_before < 20 and set(state.records()) == set(pulled)
    assert not (folder / MANIFEST_FILE).exists() and not list(folder.rglob("*.part"))

    wait_until(lambda: device_state(dev.serial, adb_port) != "device", timeout=10, message="adb sees the phone gone")
    dev.start()
    wait_for_state(dev.serial, adb_port, "device", timeout=20)
    driver = AndroidDevice(dev.serial)
    begun = stages.begin(driver, tmp_path)
    assert begun.folder == folder and begun.resumed and begun.todo_files == 20 - done_before
    assert f"resuming: {done_before} already pulled" in begun.note
    note = stages.pull_files(driver, folder, on_file=counting(pulled))
    assert f"({done_before} pulled in an earlier run)" in note
    assert len(pulled) == 20 and set(pulled.values()) == {1}
    manifest = finish_and_check(driver, folder)
    assert manifest["totals"]["files"] == 20


def test_disk_full_mid_file_is_a_clear_error_and_resumes(make_phone, tmp_path, monkeypatch):
    dev = make_phone(**SMALL)
    driver = AndroidDevice(dev.serial)
    folder = stages.begin(driver, tmp_path).folder
    pulled: Counter = Counter()
    real_write = pull.FileSink.write
    writes = {"n": 0}

    def write_until_full(self, chunk) -> None:
        writes["n"] += 1
        if writes["n"] == 12:  # a few files in, in the middle of one
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(self, chunk)

    monkeypatch.setattr(pull.FileSink, "write", write_until_full)
    with pytest.raises(StepFailed) as err:
        stages.pull_files(driver, folder, on_file=counting(pulled))
    assert err.value.exit_code == 1
    assert str(err.value).startswith("disk full while writing ") and ".part" in str(err.value)
    state = BackupState.load(folder)
    assert state.stage("files") == "failed" and state.data["error"]["message"].startswith("disk full")
    done_before = set(state.records())
    assert 0 < len(done_before) < 20 and set(pulled) == done_before
    assert not list(folder.rglob("*.part")) and not (folder / MANIFEST_FILE).exists()
    for record in state.records().values():  # what counts as done is whole
        assert (folder / record.local).stat().st_size == record.size

    monkeypatch.setattr(pull.FileSink, "write", real_write)
    assert stages.begin(driver, tmp_path).resumed
    stages.pull_files(driver, folder, on_file=counting(pulled))
    assert len(pulled) == 20 and set(pulled.values()) == {1}
    finish_and_check(driver, folder)


def test_a_file_changing_while_pulled_is_named_then_resume_completes(make_phone, sim_host, tmp_path):
    dev = make_phone(faults=parse_faults(f"changing={CHANGING}"), **SMALL)
    driver = AndroidDevice(dev.serial)
    folder = stages.begin(driver, tmp_path).folder
    with pytest.raises(StepFailed) as err:
        stages.pull_files(driver, folder)
    message = str(err.value)
    assert message.startswith(f"1 file(s) could not be verified: {CHANGING} changed while being pulled, even on a second try")
    assert "run the backup again" in message
    state = BackupState.load(folder)
    assert len(state.records()) == 19 and CHANGING not in state.records()
    assert state.data["error"]["stage"] == "files"
    with pytest.raises(StepFailed, match="files failed"):
        stages.finish(folder)
    assert not list(folder.rglob("*.part"))

    def stop_changing() -> None:
        dev.phone.state.fs.lookup(CHANGING).on_read = None

    sim_host.call(stop_changing)
    begun = stages.begin(driver, tmp_path)
    assert begun.resumed and begun.todo_files == 1
    pulled: Counter = Counter()
    stages.pull_files(driver, folder, on_file=counting(pulled))
    assert list(pulled) == [CHANGING]
    manifest = finish_and_check(driver, folder)
    entry = next(f for f in manifest["files"] if f["remote"] == CHANGING)
    size_now = sim_host.call(lambda: dev.phone.state.fs.lookup(CHANGING).size)
    assert entry["size"] == size_now


def test_the_backup_flow_exits_3_on_unplug_and_a_second_run_resumes(make_phone, adb_port, tmp_path, monkeypatch,
                                                                      wait_until):
    from miui_automator.cli.main import main

    dev = make_phone(media_files=20, media_bytes=40 * 1024 * 1024)
    root = tmp_path / "backups"
    args = ["run", "backup", "-s", dev.serial, "--param", f"backup_dir={root}", "--param", "miui_backup=false",
            "--out", str(tmp_path / "runs")]
    real_add = pull.Journal.add
    kept = {"n": 0}

    def keep_then_unplug(self, record) -> None:  # the cable comes out once three files are checked and kept
        real_add(self, record)
        kept["n"] += 1
        if kept["n"] == 3:
            dev.stop()

    monkeypatch.setattr(pull.Journal, "add", keep_then_unplug)
    assert main(args) == 3
    (folder,) = [p for p in root.glob("*/*") if p.is_dir()]
    state = BackupState.load(folder)
    assert state.data["error"]["stage"] == "files" and 3 <= len(state.records()) < 20

    monkeypatch.setattr(pull.Journal, "add", real_add)
    wait_until(lambda: device_state(dev.serial, adb_port) != "device", timeout=10, message="adb sees the phone gone")
    dev.start()
    wait_for_state(dev.serial, adb_port, "device", timeout=20)
    assert main(args) == 0
    assert [p for p in root.glob("*/*") if p.is_dir()] == [folder]
    assert verify_backup(folder).ok
    assert json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))["totals"]["files"] == 20
