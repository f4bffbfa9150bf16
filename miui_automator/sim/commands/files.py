"""Toybox file tools over the phone's virtual file system, with toybox's output formats and
error messages, and the write permissions uid 2000 (shell) has on a user build: shared
storage and /data/local/tmp are writable, /system is read-only, app data is private.

The module is longer than most because every file tool shares one set of rules kept in the
helpers at its top (how a path resolves, who may read or write it, toybox's wording of each
error and its per-argument error loop); split up, those rules would be imported everywhere.
"""

from __future__ import annotations

import fnmatch
import hashlib
import math
import posixpath
import stat as statmod
import zlib
from dataclasses import replace
from typing import Callable

from ..vfs import STORAGE, FileNode
from .base import CommandError, Ctx, WRITABLE_ROOTS, local_time, read_error, to_int, under, write_error

DEV_NULL = "/dev/null"
LIST_DENIED = ("/data",)  # drwxrwx--x system system: shell may pass through, not list
DISK_BYTES = 128_000_000_000  # a "128 GB" phone


# ----------------------------------------------------------------------------- helpers
def _flags(args: list[str], known: str, command: str) -> tuple[set[str], list[str]]:
    """Split clustered short flags (``-rf``) from operands; ``--`` ends the flags."""
    flags: set[str] = set()
    rest: list[str] = []
    done = False
    for arg in args:
        if not done and arg == "--":
            done = True
        elif not done and arg.startswith("-") and len(arg) > 1:
            for f in arg[1:]:
                if f not in known:
                    raise CommandError(f"{command}: Unknown option '{f}'")
                flags.add(f)
        else:
            rest.append(arg)
    return flags, rest


def owner(norm: str) -> tuple[str, str, int, int]:
    """(user, group, uid, gid) a real phone shows for ``norm``."""
    if under(norm, (STORAGE,)):
        return "u0_a123", "media_rw", 10123, 1023
    if under(norm, ("/data/local/tmp",)):
        return "shell", "shell", 2000, 2000
    return "root", "root", 0, 0


def _blocks_k(entry: FileNode) -> int:
    """Disk usage in KiB: 4 KiB blocks, as ext4/f2fs allocate."""
    return 4 if entry.is_dir else math.ceil(entry.size / 4096) * 4


def human(n: float) -> str:
    """toybox ``-h``: 1023, 1.0K, 24M, 119G."""
    units = "KMGTPE"
    if n < 1024:
        return str(int(n))
    i = -1
    while n >= 1024 and i < len(units) - 1:
        n /= 1024
        i += 1
    return f"{n:.1f}{units[i]}" if n < 10 else f"{int(n)}{units[i]}"


def _each(ctx: Ctx, args: list[str], one: Callable[[str], str | None]) -> int:
    """Toybox's loop over the arguments: ``one(arg)`` does the work for one argument and returns
    its error line (or None); an error goes to stderr, makes the exit status 1, and the next
    argument is still done."""
    rc = 0
    for arg in args:
        error = one(arg)
        if error:
            ctx.err(error + "\n")
            rc = 1
    return rc


def _lookup(ctx: Ctx, path: str) -> tuple[str, FileNode | None, str | None]:
    """(canonical path, entry, error reason) for reading ``path``."""
    norm = ctx.resolve(path)
    if norm == DEV_NULL:
        return norm, FileNode(mode=statmod.S_IFCHR | 0o666, mtime=0, data=bytearray()), None
    reason = read_error(norm)
    entry = None if reason else ctx.phone.state.fs.lookup(norm)
    if reason is None and entry is None:
        reason = "No such file or directory"
    return norm, entry, reason


def _readable_file(ctx: Ctx, path: str) -> tuple[str, str | None]:
    """(canonical path, why ``path`` cannot be read as a file, or None)."""
    norm, entry, reason = _lookup(ctx, path)
    if entry is not None and entry.is_dir:
        reason = "Is a directory"
    return norm, reason


def _read(ctx: Ctx, norm: str) -> bytes:
    return b"" if norm == DEV_NULL else ctx.phone.state.fs.read(norm)


def _writable_parent(ctx: Ctx, norm: str) -> str | None:
    """Why ``norm`` may not be created or removed, or None."""
    parent = ctx.phone.state.fs.lookup(posixpath.dirname(norm))
    if parent is None:
        return "No such file or directory"
    if not parent.is_dir:
        return "Not a directory"
    return write_error(norm)


def _detach(ctx: Ctx, norm: str) -> FileNode:
    parent = ctx.phone.state.fs.lookup(posixpath.dirname(norm))
    assert parent is not None
    parent.mtime = int(ctx.phone.wall_clock())
    return parent.children.pop(posixpath.basename(norm))


def _remove(ctx: Ctx, norm: str) -> str | None:
    """Take ``norm`` out of its folder, or say why the shell user may not (nothing changes then)."""
    reason = _writable_parent(ctx, norm)
    if reason is None:
        _detach(ctx, norm)
    return reason


def _attach(ctx: Ctx, norm: str, entry: FileNode) -> None:
    parent = ctx.phone.state.fs.lookup(posixpath.dirname(norm))
    assert parent is not None
    parent.children[posixpath.basename(norm)] = entry
    parent.mtime = int(ctx.phone.wall_clock())


def _clone(entry: FileNode, mtime: int | None) -> FileNode:
    """A copy that keeps synthetic files lazy (no bytes materialised)."""
    return replace(
        entry,
        mtime=entry.mtime if mtime is None else mtime,
        data=bytearray(entry.data) if entry.data is not None else None,
        children={k: _clone(v, mtime) for k, v in entry.children.items()},
        on_read=None,
    )


# ----------------------------------------------------------------------------- listing
def _long_line(ctx: Ctx, norm: str, entry: FileNode, name: str, flags: set[str], widths: tuple[int, int]) -> str:
    user, group, _, _ = owner(norm)
    links = 2 + sum(1 for c in entry.children.values() if c.is_dir) if entry.is_dir else 1
    size = str(4096 if entry.is_dir else entry.size)
    if "h" in flags:
        size = human(int(size))
    when = local_time(ctx.phone, entry.mtime).strftime("%Y-%m-%d %H:%M")
    return (f"{statmod.filemode(entry.mode)} {links:>{widths[0]}} {user:<8} {group:<8} {size:>{widths[1]}} "
            f"{when} {name}")


def _ls_block(ctx: Ctx, items: list[tuple[str, str, FileNode]], flags: set[str]) -> None:
    """Print (display name, canonical path, entry) rows, one per line, optionally long."""
    if "t" in flags:
        items.sort(key=lambda it: -it[2].mtime)
    elif "S" in flags:
        items.sort(key=lambda it: -it[2].size)
    if "r" in flags:
        items.reverse()
    if "l" in flags:
        link_w = max((len(str(2 + len(e.children))) for _, _, e in items), default=1)
        size_w = max((len(human(e.size) if "h" in flags else str(4096 if e.is_dir else e.size)) for _, _, e in items),
                     default=1)
        for name, norm, entry in items:
            ctx.out(_long_line(ctx, norm, entry, name, flags, (link_w, size_w)) + "\n")
    else:
        for name, _, _ in items:
            ctx.out(name + "\n")


def ls(ctx: Ctx, args: list[str]) -> int:
    flags, paths = _flags(args, "laAR1dhtrsSnF", "ls")
    paths = paths or ["."]
    rc = 0
    files: list[tuple[str, str, FileNode]] = []
    dirs: list[tuple[str, str, FileNode]] = []
    for path in paths:
        norm, entry, reason = _lookup(ctx, path)
        if entry is None:
            ctx.err(f"ls: {path}: {reason}\n")
            rc = 1
        elif entry.is_dir and "d" not in flags:
            dirs.append((path, norm, entry))
        else:
            files.append((path, norm, entry))
    _ls_block(ctx, files, flags)
    headers = len(paths) > 1 or "R" in flags
    first = not files
    queue = list(dirs)
    while queue:
        path, norm, entry = queue.pop(0)
        if norm in LIST_DENIED:
            ctx.err(f"ls: {path}: Permission denied\n")
            rc = 1
            continue
        if headers:
            ctx.out(("" if first else "\n") + f"{path}:\n")
        first = False
        children = [(n, posixpath.join(norm, n), e) for n, e in sorted(entry.children.items())
                    if "a" in flags or "A" in flags or not n.startswith(".")]
        if "l" in flags:
            ctx.out(f"total {sum(_blocks_k(e) for _, _, e in children)}\n")
        rows = list(children)
        if "a" in flags:
            rows = [(".", norm, entry), ("..", posixpath.dirname(norm), entry)] + rows
        _ls_block(ctx, rows, flags)
        if "R" in flags:
            queue[0:0] = [(posixpath.join(path, n), p, e) for n, p, e in children if e.is_dir]
    return rc


def _stat_fields(ctx: Ctx, path: str, norm: str, entry: FileNode) -> dict[str, str]:
    user, group, uid, gid = owner(norm)
    mtime = local_time(ctx.phone, entry.mtime)
    human_time = mtime.strftime("%Y-%m-%d %H:%M:%S.000000000 %z")
    size = 4096 if entry.is_dir else entry.size
    return {
        "s": str(size), "Y": str(entry.mtime), "X": str(entry.mtime), "Z": str(entry.mtime), "n": path,
        "N": f"'{path}'", "F": "directory" if entry.is_dir else "regular file", "a": f"{statmod.S_IMODE(entry.mode):o}",
        "A": statmod.filemode(entry.mode), "U": user, "G": group, "u": str(uid), "g": str(gid),
        "h": str(2 if entry.is_dir else 1), "i": str(zlib.crc32(norm.encode()) % 900000 + 100000),
        "b": str(_blocks_k(entry) * 2), "B": "512", "o": "4096", "y": human_time, "x": human_time, "z": human_time,
        "f": f"{entry.mode:x}", "d": "58", "D": "3a", "%": "%",
    }


def stat(ctx: Ctx, args: list[str]) -> int:
    fmt = None
    paths: list[str] = []
    it = iter(args)
    for arg in it:
        if arg in ("-c", "--format"):
            fmt = next(it, "")
        elif arg.startswith("--format="):
            fmt = arg.split("=", 1)[1]
        elif arg.startswith("-c") and len(arg) > 2:
            fmt = arg[2:]
        elif arg in ("-L", "-t"):
            continue
        else:
            paths.append(arg)
    if not paths:
        raise CommandError("stat: Need 1 argument")

    def one(path: str) -> str | None:
        norm, entry, reason = _lookup(ctx, path)
        if entry is None:
            return f"stat: '{path}': {reason}"
        f = _stat_fields(ctx, path, norm, entry)
        if fmt is not None:
            out = []
            i = 0
            while i < len(fmt):
                if fmt[i] == "%" and i + 1 < len(fmt):
                    out.append(f.get(fmt[i + 1], "?"))
                    i += 2
                elif fmt[i] == "\\" and fmt[i + 1:i + 2] == "n":
                    out.append("\n")
                    i += 2
                else:
                    out.append(fmt[i])
                    i += 1
            ctx.out("".join(out) + "\n")
        else:
            ctx.out(f"  File: `{path}'\n  Size: {f['s']}\t Blocks: {f['b']}\t IO Blocks: 4096\t{f['F']}\n"
                    f"Device: 3ah/58d\t Inode: {f['i']}\t Links: {f['h']}\n"
                    f"Access: (0{f['a']}/{f['A']})\tUid: ({f['u']:>5}/{f['U']:>8})\tGid: ({f['g']:>5}/{f['G']:>8})\n"
                    f"Access: {f['x']}\nModify: {f['y']}\nChange: {f['z']}\n")
        return None

    return _each(ctx, paths, one)


def _size_test(spec: str, size: int) -> bool:
    sign = spec[0] if spec[:1] in "+-" else ""
    body = spec[len(sign):]
    unit = {"c": 1, "k": 1024, "M": 1024 ** 2, "G": 1024 ** 3}.get(body[-1:], 512)
    number = int(body.rstrip("ckMG") or 0)
    units = math.ceil(size / unit)
    return units > number if sign == "+" else units < number if sign == "-" else units == number


def find(ctx: Ctx, args: list[str]) -> int:
    starts: list[str] = []
    while args and not args[0].startswith("-") and args[0] != "!":
        starts.append(args.pop(0))
    starts = starts or ["."]
    tests: list[tuple[bool, str, str]] = []
    maxdepth, mindepth, end = 1 << 30, 0, "\n"
    negate = False
    it = iter(args)
    for arg in it:
        if arg in ("!", "-not"):
            negate = True
            continue
        if arg in ("-type", "-name", "-iname", "-size", "-path"):
            value = next(it, None)
            if value is None:
                raise CommandError(f"find: '{arg}' needs 1 arg")
            tests.append((negate, arg, value))
        elif arg == "-maxdepth":
            maxdepth = to_int(next(it, ""), "find")
        elif arg == "-mindepth":
            mindepth = to_int(next(it, ""), "find")
        elif arg == "-print":
            end = "\n"
        elif arg == "-print0":
            end = "\0"
        elif arg in ("-a", "-and", "-xdev", "-L", "-H", "-P", "-follow"):
            pass
        else:
            raise CommandError(f"find: bad arg '{arg}'")
        negate = False

    def matches(shown: str, entry: FileNode) -> bool:
        for neg, test, value in tests:
            name = posixpath.basename(shown.rstrip("/")) or shown
            if test == "-type":
                ok = (value == "d") == entry.is_dir and value in "fd"
            elif test == "-name":
                ok = fnmatch.fnmatchcase(name, value)
            elif test == "-iname":
                ok = fnmatch.fnmatchcase(name.lower(), value.lower())
            elif test == "-path":
                ok = fnmatch.fnmatchcase(shown, value)
            else:
                ok = not entry.is_dir and _size_test(value, entry.size)
            if ok == neg:
                return False
        return True

    rc = 0
    for start in starts:
        norm, entry, reason = _lookup(ctx, start)
        if entry is None:
            ctx.err(f"find: {start}: {reason}\n")
            rc = 1
            continue
        shown_root = start.rstrip("/") or "/"
        stack: list[tuple[str, str, FileNode, int]] = [(shown_root, norm, entry, 0)]
        while stack:
            shown, path, node, depth = stack.pop()
            if depth >= mindepth and matches(shown, node):
                ctx.out(shown + end)
            if node.is_dir and depth < maxdepth:
                if read_error(path) or (path in LIST_DENIED and depth):
                    ctx.err(f"find: {shown}: Permission denied\n")
                    rc = 1
                    continue
                for name, child in sorted(node.children.items(), reverse=True):
                    prefix = shown if shown.endswith("/") else shown + "/"
                    stack.append((prefix + name, posixpath.join(path, name), child, depth + 1))
    return rc


def du(ctx: Ctx, args: list[str]) -> int:
    flags, paths = _flags(args, "sakhmbcxLHld", "du")
    paths = paths or ["."]
    total = 0

    def fmt(kib: int, apparent: int) -> str:
        if "b" in flags:
            return str(apparent)
        if "h" in flags:
            return human(kib * 1024)
        if "m" in flags:
            return str(math.ceil(kib / 1024))
        return str(kib)

    def walk(shown: str, entry: FileNode, depth: int) -> tuple[int, int]:
        """Post-order like du: a directory's line comes after its contents'."""
        kib, apparent = _blocks_k(entry), 0 if entry.is_dir else entry.size
        for name, child in sorted(entry.children.items()):
            k, a = walk(shown.rstrip("/") + "/" + name, child, depth + 1)
            kib += k
            apparent += a
        if depth == 0 or ("s" not in flags and (entry.is_dir or "a" in flags)):
            ctx.out(f"{fmt(kib, apparent)}\t{shown}\n")
        return kib, apparent

    def one(path: str) -> str | None:
        nonlocal total
        _, entry, reason = _lookup(ctx, path)
        if entry is None:
            return f"du: {path}: {reason}"
        total += walk(path, entry, 0)[0]
        return None

    rc = _each(ctx, paths, one)
    if "c" in flags:
        ctx.out(f"{fmt(total, total * 1024)}\ttotal\n")
    return rc


def df(ctx: Ctx, args: list[str]) -> int:
    flags, paths = _flags(args, "hkPaiT", "df")
    used = ctx.phone.state.fs.usage("/")
    size_k = DISK_BYTES // 1024
    used_k = math.ceil(used / 1024)
    mounts = {
        "/": ("/dev/block/dm-6", 5_234_004, 5_218_940),
        "/dev": ("tmpfs", 5_674_016, 1_596),
        "/data": ("/dev/block/dm-48", size_k, used_k),
        "/storage/emulated": ("/dev/fuse", size_k, used_k),
    }
    chosen: list[str] = []

    def one(path: str) -> str | None:
        norm, entry, reason = _lookup(ctx, path)
        if entry is None:
            return f"df: '{path}': {reason}"
        chosen.append(max((m for m in mounts if under(norm, (m,)) or m == "/"), key=len))
        return None

    rc = _each(ctx, paths, one)
    if not paths:
        chosen = list(mounts)
    if "h" in flags:
        ctx.out("Filesystem        Size  Used Avail Use% Mounted on\n")
    else:
        ctx.out("Filesystem       1K-blocks     Used Available Use% Mounted on\n")
    for mount in chosen:
        dev, total, in_use = mounts[mount]
        avail = max(0, total - in_use)
        pct = math.ceil(in_use * 100 / total) if total else 0
        if "h" in flags:
            ctx.out(f"{dev:<16} {human(total * 1024):>5} {human(in_use * 1024):>5} {human(avail * 1024):>5} "
                    f"{pct:>3}% {mount}\n")
        else:
            ctx.out(f"{dev:<16} {total:>9} {in_use:>8} {avail:>9} {pct:>3}% {mount}\n")
    return rc


# ----------------------------------------------------------------------------- changing files
def rm(ctx: Ctx, args: list[str]) -> int:
    flags, paths = _flags(args, "rRfiv", "rm")
    recursive = bool(flags & {"r", "R"})
    force = "f" in flags
    fs = ctx.phone.state.fs

    def one(path: str) -> str | None:
        norm = ctx.resolve(path)
        entry = fs.lookup(norm)
        if entry is None:
            return None if force else f"rm: {path}: No such file or directory"
        if entry.is_dir and not recursive:
            return f"rm: {path}: Is a directory"
        if norm in WRITABLE_ROOTS:
            entry.children.clear()  # the contents go; the mount point itself stays
            return f"rm: {path}: Permission denied"
        reason = _remove(ctx, norm)
        return f"rm: {path}: {reason}" if reason else None

    return _each(ctx, paths, one)


def rmdir(ctx: Ctx, args: list[str]) -> int:
    def one(path: str) -> str | None:
        norm, entry, reason = _lookup(ctx, path)
        if entry is not None and not entry.is_dir:
            reason = "Not a directory"
        elif entry is not None and entry.children:
            reason = "Directory not empty"
        elif entry is not None:
            reason = _remove(ctx, norm)
        return f"rmdir: '{path}': {reason}" if reason else None

    return _each(ctx, args, one)


def mkdir(ctx: Ctx, args: list[str]) -> int:
    mode = 0o771
    rest: list[str] = []
    it = iter(args)
    parents = False
    for arg in it:
        if arg == "-m":
            mode = to_int("0o" + next(it, "771"), "mkdir", "mode")
        elif arg.startswith("-") and len(arg) > 1:
            parents = parents or "p" in arg
        else:
            rest.append(arg)
    fs = ctx.phone.state.fs

    def one(path: str) -> str | None:
        norm = ctx.resolve(path)
        entry = fs.lookup(norm)
        if entry is not None:
            return None if parents and entry.is_dir else f"mkdir: '{path}': File exists"
        reason = write_error(norm)
        if reason is None and not parents:
            reason = _writable_parent(ctx, norm)
        if reason:
            return f"mkdir: '{path}': {reason}"
        try:
            fs.mkdir(norm, parents=parents)
        except OSError as exc:
            return f"mkdir: '{path}': {exc.strerror}"
        created = fs.lookup(norm)
        if created is not None:
            created.mode = statmod.S_IFDIR | mode
        return None

    return _each(ctx, rest, one)


def cat(ctx: Ctx, args: list[str]) -> int:
    _, paths = _flags([a for a in args if a != "-"], "uvetAn", "cat")
    if not paths:
        ctx.out(ctx.stdin)
        return 0
    def one(path: str) -> str | None:
        norm, reason = _readable_file(ctx, path)
        if reason:
            return f"cat: {path}: {reason}"
        ctx.out(_read(ctx, norm))
        return None

    return _each(ctx, paths, one)


def touch(ctx: Ctx, args: list[str]) -> int:
    no_create = False
    paths: list[str] = []
    it = iter(args)
    for arg in it:
        if arg in ("-d", "-t", "-r"):
            next(it, None)
        elif arg.startswith("-"):
            no_create = no_create or "c" in arg
        else:
            paths.append(arg)
    fs = ctx.phone.state.fs
    now = int(ctx.phone.wall_clock())

    def one(path: str) -> str | None:
        norm = ctx.resolve(path)
        entry = fs.lookup(norm)
        reason = write_error(norm)
        if reason is None and entry is None:
            reason = _writable_parent(ctx, norm)
        if reason:
            return f"touch: '{path}': {reason}"
        if entry is not None:
            entry.mtime = now
        elif not no_create:
            fs.write(norm, b"", mtime=now)
        return None

    return _each(ctx, paths, one)


def _copy_or_move(ctx: Ctx, args: list[str], move: bool) -> int:
    name = "mv" if move else "cp"
    flags, paths = _flags(args, "rRafpnvdiFLPHlsTu", name)
    if len(paths) < 2:
        raise CommandError(f"{name}: Needs 2 arguments")
    fs = ctx.phone.state.fs
    *sources, dest = paths
    dest_norm = ctx.resolve(dest)
    dest_entry = fs.lookup(dest_norm)
    into_dir = dest_entry is not None and dest_entry.is_dir
    if len(sources) > 1 and not into_dir:
        raise CommandError(f"{name}: '{dest}' not directory")
    keep_time = move or bool(flags & {"a", "p"})

    def one(src: str) -> str | None:
        src_norm, entry, reason = _lookup(ctx, src)
        if entry is None:
            return f"{name}: bad '{src}': {reason}"
        target = posixpath.join(dest_norm, posixpath.basename(src_norm)) if into_dir else dest_norm
        if entry.is_dir and not move and not flags & {"r", "R", "a"}:
            return f"{name}: '{src}' is a directory (not copied)"
        if target == src_norm or under(target, (src_norm,)):
            return (f"{name}: '{src}' and '{dest}' are the same file" if target == src_norm
                    else f"{name}: cannot {name} '{src}' into itself")
        reason = _writable_parent(ctx, target) or (move and _writable_parent(ctx, src_norm)) or None
        existing = fs.lookup(target)
        if reason is None and existing is not None and existing.is_dir and not entry.is_dir:
            reason = "Is a directory"
        if reason:
            return f"{name}: '{dest}': {reason}"
        now = None if keep_time else int(ctx.phone.wall_clock())
        if move:
            _attach(ctx, target, _detach(ctx, src_norm))
        else:
            _attach(ctx, target, _clone(entry, now))
        return None

    return _each(ctx, sources, one)


def cp(ctx: Ctx, args: list[str]) -> int:
    return _copy_or_move(ctx, args, move=False)


def mv(ctx: Ctx, args: list[str]) -> int:
    return _copy_or_move(ctx, args, move=True)


def chmod(ctx: Ctx, args: list[str]) -> int:
    rest = [a for a in args if a not in ("-R", "-f", "-v")]
    if len(rest) < 2:
        raise CommandError("chmod: Needs 2 arguments")
    mode_text, *paths = rest

    def one(path: str) -> str | None:
        norm, entry, reason = _lookup(ctx, path)
        reason = reason or write_error(norm)
        if reason or entry is None:
            return f"chmod: {path}: {reason}"
        perms = statmod.S_IMODE(entry.mode)
        if mode_text.isdigit():
            perms = int(mode_text, 8)
        elif mode_text.endswith("+x"):
            perms |= 0o111
        elif mode_text.endswith("-x"):
            perms &= ~0o111
        else:
            raise CommandError(f"chmod: bad mode '{mode_text}'")
        entry.mode = statmod.S_IFMT(entry.mode) | perms
        return None

    return _each(ctx, paths, one)


def _hashsum(ctx: Ctx, args: list[str], algorithm: str) -> int:
    name = ctx.name
    _, paths = _flags(args, "bc", name)
    if not paths:
        ctx.out(f"{hashlib.new(algorithm, ctx.stdin).hexdigest()}  -\n")
        return 0
    def one(path: str) -> str | None:
        norm, reason = _readable_file(ctx, path)
        if reason:
            return f"{name}: {path}: {reason}"
        if norm == DEV_NULL:
            size, digest = 0, lambda: hashlib.new(algorithm, b"").hexdigest()
        else:  # of the bytes as they are now, hashed off the loop (see ShellResult in sim/shell.py)
            size, digest = ctx.phone.state.fs.hashed(norm, algorithm)
        ctx.session.elapsed += ctx.phone.timing.md5(size)  # the phone hashes at its own speed
        line = f"  {path}\n".encode("utf-8", "surrogateescape")
        ctx.out_later(lambda: digest().encode() + line)
        return None

    return _each(ctx, paths, one)


def md5sum(ctx: Ctx, args: list[str]) -> int:
    return _hashsum(ctx, args, "md5")


def sha1sum(ctx: Ctx, args: list[str]) -> int:
    return _hashsum(ctx, args, "sha1")


def sha256sum(ctx: Ctx, args: list[str]) -> int:
    return _hashsum(ctx, args, "sha256")


# Applets `toybox NAME` runs (a subset of Android's toybox that the simulator implements).
TOYBOX_APPLETS = frozenset({
    "basename", "cat", "chmod", "cp", "cut", "date", "df", "dirname", "du", "echo", "env", "false", "find",
    "getenforce", "grep", "egrep", "head", "id", "ls", "md5sum", "mkdir", "mv", "nohup", "pidof", "printenv",
    "printf", "ps", "pwd", "rm", "rmdir", "sha1sum", "sha256sum", "sleep", "sort", "stat", "tail", "test",
    "timeout", "touch", "true", "uname", "wc", "which", "whoami", "xargs", "[", "ifconfig", "kill", "nc", "netcat",
})


def toybox(ctx: Ctx, args: list[str]) -> int:
    if not args:
        ctx.out(" ".join(sorted(TOYBOX_APPLETS)) + "\n")
        return 0
    if args[0] not in TOYBOX_APPLETS:
        raise CommandError(f"toybox: Unknown command {args[0]}", 127)
    return ctx.session.run_argv(args, ctx)


COMMANDS = {
    "ls": ls, "stat": stat, "find": find, "du": du, "df": df, "rm": rm, "rmdir": rmdir, "mkdir": mkdir,
    "cat": cat, "touch": touch, "cp": cp, "mv": mv, "chmod": chmod, "md5sum": md5sum, "md5": md5sum,
    "sha1sum": sha1sum, "sha256sum": sha256sum, "toybox": toybox,
}
