"""``unzip`` as Android's ziptool provides it (Android 10+): list (``-l``), stream to stdout
(``-p``) or extract (``-d DIR``) members of a zip, e.g. ``unzip -p APK resources.arsc`` — how
a tool reads an app's string table without pulling the whole APK.
"""

from __future__ import annotations

import fnmatch
import io
import posixpath
import zipfile

from .base import CommandError, Ctx, read_error, write_error

USAGE = "usage: unzip [-lnopqv] ZIP [FILE...] [-x FILE...] [-d DIR]"


def _parse(args: list[str]) -> tuple[set[str], str, list[str], list[str], str | None]:
    flags: set[str] = set()
    archive = ""
    include: list[str] = []
    exclude: list[str] = []
    target: str | None = None
    it = iter(args)
    excluding = False
    for arg in it:
        if arg == "-d":
            target = next(it, None)
            if target is None:
                raise CommandError("unzip: option requires an argument -- d\n" + USAGE)
        elif arg == "-x":
            excluding = True
        elif arg.startswith("-") and len(arg) > 1:
            for ch in arg[1:]:
                if ch not in "lnopqv":
                    raise CommandError(f"unzip: invalid option -- {ch}\n{USAGE}")
                flags.add(ch)
        elif not archive:
            archive = arg
        else:
            (exclude if excluding else include).append(arg)
    if not archive:
        raise CommandError(f"unzip: missing archive filename\n{USAGE}")
    return flags, archive, include, exclude, target


def unzip(ctx: Ctx, args: list[str]) -> int:
    flags, archive, include, exclude, target = _parse(args)
    norm = ctx.resolve(archive)
    entry = ctx.phone.state.fs.lookup(norm)
    reason = read_error(norm) or (None if entry is not None and not entry.is_dir else "I/O error")
    if reason:
        raise CommandError(f"unzip: couldn't open {archive}: {reason}")
    try:
        zf = zipfile.ZipFile(io.BytesIO(ctx.phone.state.fs.read(norm)))
    except zipfile.BadZipFile:
        raise CommandError(f"unzip: couldn't open {archive}: Invalid file") from None
    with zf:
        members = [i for i in zf.infolist()
                   if (not include or any(fnmatch.fnmatchcase(i.filename, p) for p in include))
                   and not any(fnmatch.fnmatchcase(i.filename, p) for p in exclude)]
        for pattern in include:
            if not any(fnmatch.fnmatchcase(i.filename, pattern) for i in members):
                raise CommandError(f"unzip: couldn't find {pattern} in {archive}")
        if "l" in flags or "v" in flags:
            _list(ctx, archive, members, quiet="q" in flags)
        elif "p" in flags:
            for info in members:
                ctx.out(zf.read(info))
        else:
            _extract(ctx, zf, archive, members, target or ctx.session.cwd, overwrite="o" in flags, quiet="q" in flags)
    return 0


def _list(ctx: Ctx, archive: str, members: list[zipfile.ZipInfo], quiet: bool) -> None:
    if not quiet:
        ctx.out(f"Archive:  {archive}\n")
    lines = ["  Length      Date    Time    Name\n", "---------  ---------- -----   ----\n"]
    for info in members:
        y, mo, d, h, mi, _ = info.date_time
        lines.append(f"{info.file_size:9d}  {y:4d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}   {info.filename}\n")
    total = sum(i.file_size for i in members)
    lines.append("---------                     -------\n")
    lines.append(f"{total:9d}                     {len(members)} file{'' if len(members) == 1 else 's'}\n")
    ctx.out("".join(lines))


def _extract(ctx: Ctx, zf: zipfile.ZipFile, archive: str, members: list[zipfile.ZipInfo], target: str,
             overwrite: bool, quiet: bool) -> None:
    fs = ctx.phone.state.fs
    base = ctx.resolve(target)
    if not quiet:
        ctx.out(f"Archive:  {archive}\n")
    for info in members:
        path = posixpath.normpath(posixpath.join(base, info.filename))
        if not path.startswith(base.rstrip("/") + "/"):
            raise CommandError(f"unzip: bad filename {info.filename}")
        reason = write_error(path)
        if reason:
            raise CommandError(f"unzip: couldn't create file {path}: {reason}")
        if info.is_dir():
            fs.mkdir(path, parents=True)
            continue
        if fs.exists(path) and not overwrite:
            raise CommandError(f"unzip: {path} already exists (use -o to overwrite)")
        if not quiet:
            ctx.out(f"  inflating: {path}\n")
        fs.write(path, zf.read(info))


COMMANDS = {"unzip": unzip}
