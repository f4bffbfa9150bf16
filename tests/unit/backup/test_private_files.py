"""Owner-only files and folders whatever the umask, and the writers that must use them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from miui_automator.private_files import (open_private, private_dir, wider_than_private, write_private_bytes,
                                          write_private_text)

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX mode bits")


@pytest.fixture
def loose_umask():
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_folders_are_0700_and_files_0600_under_umask_022(tmp_path, loose_umask):
    folder = private_dir(tmp_path / "a" / "b")
    assert mode(tmp_path / "a") == mode(folder) == 0o700
    write_private_bytes(folder / "x.bin", b"1")
    write_private_text(folder / "x.txt", "é")
    with open_private(folder / "log", "a") as f:
        f.write("line\n")
    with open_private(folder / "log", "a") as f:
        f.write("line\n")
    assert (folder / "log").read_text() == "line\nline\n"
    assert (folder / "x.txt").read_text(encoding="utf-8") == "é"
    assert {mode(folder / n) for n in ("x.bin", "x.txt", "log")} == {0o600}
    assert wider_than_private(tmp_path / "a") == []


def test_an_existing_wide_file_is_tightened_and_existing_folders_are_left_alone(tmp_path, loose_umask):
    (tmp_path / "old.txt").write_text("x")
    os.chmod(tmp_path / "old.txt", 0o644)
    os.chmod(tmp_path, 0o755)
    write_private_text(tmp_path / "old.txt", "y")
    assert mode(tmp_path / "old.txt") == 0o600
    private_dir(tmp_path)
    assert mode(tmp_path) == 0o755  # the user's folder is not ours to lock
    assert wider_than_private(tmp_path) == [". (0755)"]


def test_open_private_is_for_writing_only(tmp_path):
    with pytest.raises(ValueError):
        open_private(tmp_path / "x", "r")


def test_event_log_screens_and_ledgers_are_private(tmp_path, loose_umask):
    from PIL import Image

    from miui_automator.account.ledger import DeletionLedger
    from miui_automator.fleet.ledger import Ledger
    from miui_automator.report.events import EventWriter

    run = tmp_path / "runs" / "one"
    writer = EventWriter(run)
    writer.write("run_start", flow="x")
    Ledger(tmp_path / "state" / "fleet.sqlite3")
    with DeletionLedger(tmp_path / "state2" / "ledger.sqlite3"):
        pass
    image = Image.new("RGB", (4, 4))
    from miui_automator.run.artifacts import SCREENS, ArtifactListener
    listener = ArtifactListener(run, writer)

    class Obs:
        screenshot, tap, swipe, screen, redaction, target = image, (1, 1), None, "x", None, None

        class hierarchy:
            source = "<hierarchy/>"

    class Step:
        kind, line = "tap", 1

        def describe(self):
            return "tap"

    listener.step_failed("1", Step(), RuntimeError("x"), Obs(), 0.1)
    listener._encoder.shutdown(wait=True)
    assert sorted(p.name for p in (run / SCREENS).iterdir()) == ["1-failed-annotated.jpg", "1-failed.jpg", "1-failed.xml"]
    for root in (run, tmp_path / "state", tmp_path / "state2"):
        assert wider_than_private(root) == [], root
    assert mode(tmp_path / "runs") == 0o700
