"""Backing a phone up before anything destructive happens to it.

Files come over one ADB sync stream, each proven equal to the phone's own ``md5sum``; contacts,
call log, SMS and the app list are exported; MIUI's own local backup folder is pulled and its
``descript.xml`` checked; a manifest is written only when all of it is complete and verified.
An interrupted backup resumes where it stopped. See ``stages`` for the steps, ``manifest`` for
``backup verify`` and the gate in front of the destructive flows.
"""

from __future__ import annotations

from .manifest import (BACKUPS_ENV, DEFAULT_BACKUP_ROOT, VerifyResult, backup_root, is_verified, latest_verified_backup,
                       load_manifest, verify_and_mark, verify_backup)
from .stages import begin, export_all, finish, pull_files, pull_miui_backup

__all__ = ["BACKUPS_ENV", "DEFAULT_BACKUP_ROOT", "VerifyResult", "backup_root", "begin", "export_all", "finish",
           "is_verified", "latest_verified_backup", "load_manifest", "pull_files", "pull_miui_backup", "verify_and_mark",
           "verify_backup"]
