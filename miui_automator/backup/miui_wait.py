"""Waiting for MIUI's own backup while the phone makes it, showing how far it has got.

The backup flow starts MIUI's Backup app on the phone; this waits, bounded, until MIUI has written its new
AllBackup folder, and hands up the items and bytes written so far as a :class:`~miui_automator.progress.Progress`
(what :func:`.miui.backup_being_written` reads from the folder), so a terminal, a CI log and the fleet view
show it like a pull. The folder is the newest one that was not on the phone at ``backup-begin``.
"""

from __future__ import annotations

import posixpath
import time
from pathlib import Path
from typing import Callable

from ..device.driver import Driver
from ..errors import StepFailed
from ..progress import Progress, ProgressFn, no_progress
from .inventory import human_size
from .miui import backup_being_written
from .stages import PROGRESS_EVERY_S, Log, adb_of, quiet
from .state import BackupState
from .sync import SyncStream, printable

MIUI_WAIT_S = 900.0  # a full MIUI backup of a phone with many apps takes minutes
MIUI_POLL_S = 2.0  # one look at MIUI's folder (three listings on a sync stream) this often, once it runs long;
MIUI_FIRST_POLL_S = 0.2  # the looks start this often, so a short backup is seen finished at once


def wait_for_miui_backup(driver: Driver, folder: Path, log: Log = quiet, progress: ProgressFn = no_progress,
                         timeout_s: float = MIUI_WAIT_S, clock: Callable[[], float] = time.monotonic,
                         sleep: Callable[[float], None] = time.sleep, poll_s: float = MIUI_POLL_S) -> str:
    """Wait until MIUI's own backup (started on the phone) has written its ``descript.xml``, reporting the items
    and bytes it has written so far; the backup is the newest AllBackup folder that was not there at backup-begin.
    Bounded by ``timeout_s``: a backup MIUI never finishes is a failed step naming how far it got."""
    before = set(BackupState.load(folder).data.get("miui_before") or [])
    what = "MIUI backing up"
    deadline = clock() + timeout_s
    logged = clock()
    seen = None
    pause = min(MIUI_FIRST_POLL_S, poll_s)
    progress(Progress(what))
    while True:
        with SyncStream(adb_of(driver), driver.serial) as stream:
            seen = backup_being_written(stream, before)
        if seen is not None:
            progress(Progress(what, seen.items, 0, seen.bytes, 0))
            if seen.finished:
                return (f"MIUI's backup {printable(posixpath.basename(seen.folder))} is written: {seen.items} items, "
                        f"{human_size(seen.bytes)}")
        now = clock()
        if now >= deadline:
            got = "no backup folder yet" if seen is None else f"{seen.items} items, {human_size(seen.bytes)} written"
            raise StepFailed(f"MIUI's backup did not finish within {timeout_s:g} s ({got})")
        if now - logged >= PROGRESS_EVERY_S:
            logged = now
            log("info", "MIUI is backing up: " + ("it has not started writing yet" if seen is None else
                                                  f"{seen.items} items, {human_size(seen.bytes)} so far"))
        sleep(min(pause, max(0.0, deadline - now)))
        pause = min(pause * 1.5, poll_s)
