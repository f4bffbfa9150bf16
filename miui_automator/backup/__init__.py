"""Backing a phone up before anything destructive happens to it.

Files come over one ADB sync stream, each proven equal to the phone's own ``md5sum``; contacts,
call log, SMS and the app list are exported; MIUI's own local backup folder is pulled and its
``descript.xml`` checked; a manifest is written only when all of it is complete and verified.
An interrupted backup resumes where it stopped. See ``stages`` for the steps, ``manifest`` for
``backup verify``, and ``records`` for where the gate in front of the destructive flows looks.

:func:`finish` and :func:`verify_and_mark` here are the two moments a backup becomes verified:
each also records the backup (:mod:`.records`), so the gate finds it wherever it was written.
"""

from __future__ import annotations

from pathlib import Path

from . import manifest, stages
from .manifest import (BACKUPS_ENV, DEFAULT_BACKUP_ROOT, VerifyResult, backup_root, is_verified, latest_verified_backup,
                       load_manifest, verify_backup)
from .records import remember_quietly
from .miui_wait import wait_for_miui_backup
from .stages import Log, begin, export_all, pull_files, pull_miui_backup, quiet

__all__ = ["BACKUPS_ENV", "DEFAULT_BACKUP_ROOT", "VerifyResult", "backup_root", "begin", "export_all", "finish",
           "is_verified", "latest_verified_backup", "load_manifest", "pull_files", "pull_miui_backup", "verify_and_mark",
           "verify_backup", "wait_for_miui_backup"]


def finish(folder: Path, log: Log = quiet) -> str:
    """:func:`stages.finish` (manifest and verified marker), then the backup is recorded for the gate."""
    note = stages.finish(folder, log)
    warning = remember_quietly(folder)
    if warning:
        log("warning", warning)
    return note


def verify_and_mark(folder: Path, log: Log = quiet) -> VerifyResult:
    """:func:`manifest.verify_and_mark` (``backup verify``); a backup that passes is recorded for the gate."""
    result = manifest.verify_and_mark(folder)
    if result.ok:
        warning = remember_quietly(folder)
        if warning:
            log("warning", warning)
    return result
