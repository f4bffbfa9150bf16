"""The backup flow's tasks (``flows/backup.yaml``): thin wrappers over :mod:`miui_automator.backup`.

``backup-begin`` chooses the folder and puts it in ``${backup_path}``; the later tasks work on
that folder, so a flow resumed after a failure carries on in the same one.

- ``backup-begin`` — args ``dir`` (the backups root; "" = ``$MIUI_AUTOMATOR_BACKUPS`` or ``backups``; an
  unfinished backup folder itself is resumed) and optional ``folders`` (comma list): choose or resume the
  folder, inventory, disk-space check;
- ``backup-files`` — pull the user's files, each checked against the phone's md5;
- ``backup-exports`` — contacts.vcf, call-log.json, sms.json, apps.json;
- ``backup-miui-wait`` — arg ``timeout`` (seconds, default 900): once MIUI's own backup is started on the
  phone, wait until it has written its folder, showing the items and bytes written so far;
- ``backup-miui-pull`` — arg ``required`` ("true"/"false", default "true"): pull and check MIUI's newest
  AllBackup folder;
- ``backup-finish`` — verify everything, write backup-manifest.json and verified.json.
"""

from __future__ import annotations

from pathlib import Path

from .. import backup
from ..backup.inventory import USER_FOLDERS
from ..errors import StepFailed
from . import TaskArg, TaskContext, task

PATH_VARIABLE = "backup_path"


def _folder(ctx: TaskContext) -> Path:
    path = ctx.variables.get(PATH_VARIABLE)
    if not path:
        raise StepFailed("no backup in progress in this run: the backup-begin task must run first")
    return Path(path)


@task("backup-begin", TaskArg("dir", doc="the backups root, or an unfinished backup folder to resume"),
      TaskArg("folders", doc="comma-separated folders to pull (default: the user folders)"))
def backup_begin(ctx: TaskContext) -> str:
    """Choose (or resume) the backup folder and show what the phone holds before anything is pulled."""
    root = Path(ctx.arg("dir")).expanduser() if ctx.arg("dir") else None
    folders = [f.strip() for f in ctx.arg("folders").split(",") if f.strip()] or list(USER_FOLDERS)
    begun = backup.begin(ctx.driver, root, folders, ctx.log)
    ctx.variables[PATH_VARIABLE] = str(begun.folder)
    return begun.note


@task("backup-files")
def backup_files(ctx: TaskContext) -> str:
    return backup.pull_files(ctx.driver, _folder(ctx), ctx.log, progress=ctx.progress)


@task("backup-exports")
def backup_exports(ctx: TaskContext) -> str:
    return backup.export_all(ctx.driver, _folder(ctx), ctx.log, progress=ctx.progress)


@task("backup-miui-wait", TaskArg("timeout", "seconds", "900", "how long MIUI's backup may take"))
def backup_miui_wait(ctx: TaskContext) -> str:
    return backup.wait_for_miui_backup(ctx.driver, _folder(ctx), ctx.log, ctx.progress, ctx.args["timeout"],
                                       clock=ctx.clock.now, sleep=ctx.clock.sleep)


@task("backup-miui-pull", TaskArg("required", "flag", "true", "fail when MIUI's backup folder is missing"))
def backup_miui_pull(ctx: TaskContext) -> str:
    return backup.pull_miui_backup(ctx.driver, _folder(ctx), ctx.log, required=ctx.args["required"],
                                   progress=ctx.progress)


@task("backup-finish")
def backup_finish(ctx: TaskContext) -> str:
    return backup.finish(_folder(ctx), ctx.log)
