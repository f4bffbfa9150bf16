"""Long work shows progress: the backup flow run in a pipe prints a plain progress line for each long task
(files, bytes, and at the end the whole figure), and the run's record names the folder the backup went to."""

from __future__ import annotations

import json
import re

import pytest

from miui_automator.backup import stages
from miui_automator.backup.miui_wait import wait_for_miui_backup
from miui_automator.device.android import AndroidDevice
from miui_automator.run.progress import progress_text

pytestmark = pytest.mark.integration


def test_the_backup_flow_in_a_pipe_shows_progress_and_names_the_folder(make_phone, tmp_path, capsys):
    from miui_automator.cli.main import main

    dev = make_phone(media_files=20, media_bytes=4 * 1024 * 1024)
    root = tmp_path / "backups"
    runs = tmp_path / "runs"
    assert main(["run", "backup", "-s", dev.serial, "--param", f"backup_dir={root}", "--param", "miui_backup=false",
                 "--out", str(runs)]) == 0
    err = capsys.readouterr().err
    (folder,) = [p for p in root.glob("*/*") if p.is_dir()]
    lines = [line.strip() for line in err.splitlines()]
    first = next(m for m in map(re.compile(r"2: pulling files 0/20 files, 0 B of (\S+ MB) \(0%\)").fullmatch, lines) if m)
    total = re.escape(first.group(1))
    assert any(re.fullmatch(rf"2: pulling files 20/20 files, {total} of {total} \(100%\)(, .* left)?", line)
               for line in lines), err
    assert any(line.startswith("3: exporting 4/4 files (100%)") for line in lines), err
    (run_dir,) = runs.iterdir()
    notes = {e["step"]: e["note"] for e in map(json.loads, (run_dir / "events.jsonl").read_text().splitlines())
             if e.get("type") == "step_done"}
    assert f"to back up into {folder}" in notes["1"] and f"pulled into {folder}" in notes["2"]


def test_pulling_reports_rising_figures_up_to_the_whole(make_phone, tmp_path):
    dev = make_phone(media_files=12, media_bytes=6 * 1024 * 1024)
    driver = AndroidDevice(dev.serial)
    begun = stages.begin(driver, tmp_path)
    figures = []
    stages.pull_files(driver, begun.folder, progress=figures.append)
    assert figures[0].files_done == 0 and figures[0].bytes_done == 0
    assert figures[-1].files_done == figures[-1].files_total == 12
    assert figures[-1].bytes_done == figures[-1].bytes_total == begun.todo_bytes
    done = [f.bytes_done for f in figures]
    assert done == sorted(done) and {f.what for f in figures} == {"pulling files"}


def test_waiting_for_miuis_own_backup_reports_the_items_and_bytes_it_has_written(make_phone, sim_host, tmp_path):
    # MIUI writes one .bak per finished item, descript.xml last: the wait shows them coming like a pull does.
    from miui_automator.progress import Progress
    from miui_automator.sim.screens.backup import ITEMS, BackupProgress

    dev = make_phone(media_files=2, media_bytes=64 * 1024)
    driver = AndroidDevice(dev.serial)
    folder = stages.begin(driver, tmp_path).folder
    items = [item for group in ITEMS.values() for item in group]
    sim_host.call(lambda: dev.phone.replace_top(BackupProgress(dev.phone, items)))
    figures: list[Progress] = []
    note = wait_for_miui_backup(driver, folder, progress=figures.append, timeout_s=30, poll_s=0.1)
    assert note.startswith("MIUI's backup ") and f"is written: {len(items)} items" in note
    counted = [f.files_done for f in figures]
    assert counted == sorted(counted) and counted[-1] == len(items) and len(set(counted)) >= 3, counted
    assert {f.what for f in figures} == {"MIUI backing up"} and figures[-1].bytes_done > 0
    assert "MIUI backing up 6 files, " in progress_text(figures[-1])
    stages.pull_miui_backup(driver, folder)  # the folder waited for is the one pulled, whole


def test_a_miui_backup_that_never_finishes_is_a_bounded_failure_naming_how_far_it_got(make_phone, sim_host, tmp_path):
    from miui_automator.errors import StepFailed
    from miui_automator.flow.waits import FakeClock

    dev = make_phone(media_files=2, media_bytes=64 * 1024)
    driver = AndroidDevice(dev.serial)
    folder = stages.begin(driver, tmp_path).folder
    clock = FakeClock()
    with pytest.raises(StepFailed, match=r"did not finish within 20 s \(no backup folder yet\)"):
        wait_for_miui_backup(driver, folder, timeout_s=20, clock=clock.now, sleep=clock.sleep)
    assert clock.t == 20
