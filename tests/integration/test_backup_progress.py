"""Long work shows progress: the backup flow run in a pipe prints a plain progress line for each long task
(files, bytes, and at the end the whole figure), and the run's record names the folder the backup went to."""

from __future__ import annotations

import json
import re

import pytest

from miui_automator.backup import stages
from miui_automator.device.android import AndroidDevice

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
