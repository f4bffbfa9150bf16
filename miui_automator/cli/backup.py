"""``miui-automator backup verify DIR``: re-check a finished backup against its manifest.

Exit 0 when every file is there with its size and sha256, 1 on any missing or changed file
(each printed), 2 when DIR holds no readable manifest.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..backup import verify_and_mark
from ..backup.inventory import human_size
from ..errors import VerificationFailed


@click.group("backup")
def backup() -> None:
    """Check backups written by the backup flow."""


@backup.command("verify")
@click.argument("backup_dir", metavar="DIR", type=click.Path(path_type=Path))
def verify_cmd(backup_dir: Path) -> None:
    """Re-hash every file of the backup in DIR and compare it with backup-manifest.json."""
    result = verify_and_mark(backup_dir, log=lambda level, message: click.echo(f"{level}: {message}", err=True))
    for problem in result.problems:
        click.echo(problem, err=True)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if not result.ok:
        raise VerificationFailed(f"{backup_dir}: {len(result.problems)} of {result.entries} files do not match the manifest",
                                 problems=result.problems)
    click.echo(f"ok: {result.entries} files, {human_size(result.bytes)}, match {backup_dir}/backup-manifest.json")
