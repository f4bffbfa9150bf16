"""The toybox text tools real callers chain onto phone commands: ``grep``, ``head``, ``tail``,
``wc``, ``sort``, ``cut``, ``basename``, ``dirname``; each reads files or standard input."""

from __future__ import annotations

import re
from typing import Callable, Sequence

from .base import CommandError, Ctx, to_int


def _inputs(ctx: Ctx, files: list[str]) -> list[tuple[str, bytes | None]]:
    """(name, bytes) per input; bytes None when the file could not be read (error printed)."""
    if not files or files == ["-"]:
        return [("(standard input)", ctx.stdin)]
    fs = ctx.phone.state.fs
    result: list[tuple[str, bytes | None]] = []
    for name in files:
        entry = fs.lookup(ctx.resolve(name))
        if entry is None:
            ctx.err(f"{ctx.name}: {name}: No such file or directory\n")
            result.append((name, None))
        elif entry.is_dir:
            ctx.err(f"{ctx.name}: {name}: Is a directory\n")
            result.append((name, None))
        else:
            result.append((name, fs.read(ctx.resolve(name))))
    return result


def _lines(data: bytes) -> list[str]:
    return data.decode("utf-8", "replace").splitlines()


def _bre_to_python(pattern: str) -> str:
    """POSIX basic regex to Python: ``\\(``, ``\\|``, ``\\{`` are the operators, bare ones literals."""
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "(){}|+?":
            out.append(pattern[i + 1])
            i += 2
            continue
        if c == "\\" and i + 1 < len(pattern):
            out.append(pattern[i:i + 2])
            i += 2
            continue
        out.append("\\" + c if c in "(){}|+?" else c)
        i += 1
    return "".join(out)


def grep(ctx: Ctx, args: list[str]) -> int:
    flags: set[str] = set()
    patterns: list[str] = []
    rest: list[str] = []
    it = iter(args)
    for arg in it:
        if arg == "-e":
            patterns.append(next(it, ""))
        elif arg.startswith("-") and len(arg) > 1 and not rest:
            flags.update(arg[1:])
        else:
            rest.append(arg)
    if ctx.name == "egrep":
        flags.add("E")
    if not patterns:
        if not rest:
            raise CommandError("grep: no pattern", 2)
        patterns.append(rest.pop(0))
    if "F" in flags:
        regexes = [re.escape(p) for p in patterns]
    elif "E" in flags:
        regexes = patterns
    else:
        regexes = [_bre_to_python(p) for p in patterns]
    if "w" in flags:
        regexes = [rf"\b(?:{r})\b" for r in regexes]
    if "x" in flags:
        regexes = [rf"^(?:{r})$" for r in regexes]
    try:
        rx = re.compile("|".join(f"(?:{r})" for r in regexes), re.IGNORECASE if "i" in flags else 0)
    except re.error as exc:
        raise CommandError(f"grep: bad regex: {exc}", 2) from None
    inputs = _inputs(ctx, rest)
    show_name = len(inputs) > 1 and "h" not in flags
    found = False
    failed = False
    for name, data in inputs:
        if data is None:
            failed = True
            continue
        count = 0
        for n, line in enumerate(_lines(data), 1):
            hit = rx.search(line) is not None
            if hit == ("v" in flags):
                continue
            count += 1
            found = True
            if "q" in flags or "c" in flags or "l" in flags:
                continue
            prefix = (f"{name}:" if show_name else "") + (f"{n}:" if "n" in flags else "")
            if "o" in flags and "v" not in flags:
                for m in rx.finditer(line):
                    ctx.out(f"{prefix}{m.group(0)}\n")
            else:
                ctx.out(f"{prefix}{line}\n")
        if "c" in flags:
            ctx.out((f"{name}:" if show_name else "") + f"{count}\n")
        elif "l" in flags and count:
            ctx.out(f"{name}\n")
    if "q" in flags and found:
        return 0
    return 2 if failed and not found else (0 if found else 1)


def _count_arg(args: list[str], command: str) -> tuple[str, int, list[str]]:
    """(mode, n, files) for head/tail: ``-n N``, ``-N``, ``-c N``, ``-n +N``."""
    mode, n, files = "n", 10, []
    it = iter(args)
    for arg in it:
        if arg in ("-n", "-c"):
            mode = arg[1]
            value = next(it, "")
            if value.startswith("+"):
                mode += "+"
                value = value[1:]
            n = to_int(value, command)
        elif re.fullmatch(r"-[nc]\+?\d+", arg):
            mode = arg[1] + ("+" if "+" in arg else "")
            n = int(arg[2:].lstrip("+"))
        elif re.fullmatch(r"-\d+", arg):
            n = int(arg[1:])
        else:
            files.append(arg)
    return mode, n, files


def _slice_inputs(ctx: Ctx, args: list[str], command: str, pick: Callable[[Sequence, str, int], Sequence]) -> int:
    """head and tail: ``pick(items, mode, n)`` chooses the bytes (``-c``) or lines of each input."""
    mode, n, files = _count_arg(args, command)
    rc = 0
    for _, data in _inputs(ctx, files):
        if data is None:
            rc = 1
        elif mode.startswith("c"):
            ctx.out(pick(data, mode, n))
        else:
            ctx.out(b"".join(pick(data.splitlines(keepends=True), mode, n)))
    return rc


def head(ctx: Ctx, args: list[str]) -> int:
    return _slice_inputs(ctx, args, "head", lambda items, mode, n: items[:n])


def tail(ctx: Ctx, args: list[str]) -> int:
    return _slice_inputs(ctx, args, "tail",
                         lambda items, mode, n: items[n - 1:] if mode.endswith("+") else items[-n:] if n else items[:0])


def wc(ctx: Ctx, args: list[str]) -> int:
    flags = "".join(a[1:] for a in args if a.startswith("-") and len(a) > 1) or "lwc"
    files = [a for a in args if not (a.startswith("-") and len(a) > 1)]
    rc = 0
    for name, data in _inputs(ctx, files):
        if data is None:
            rc = 1
            continue
        counts = {"l": data.count(b"\n"), "w": len(data.split()), "c": len(data), "m": len(data.decode("utf-8", "replace"))}
        values = [counts[k] for k in "lwcm" if k in flags]
        text = " ".join(str(v) for v in values) if len(values) == 1 else " ".join(f"{v:7d}" for v in values)
        ctx.out(text + (f" {name}" if files else "") + "\n")
    return rc


def sort(ctx: Ctx, args: list[str]) -> int:
    flags = "".join(a[1:] for a in args if a.startswith("-") and len(a) > 1)
    files = [a for a in args if not (a.startswith("-") and len(a) > 1)]
    lines: list[str] = []
    for _, data in _inputs(ctx, files):
        if data is not None:
            lines += _lines(data)

    def numeric(line: str) -> float:
        m = re.match(r"\s*-?\d+(\.\d+)?", line)
        return float(m.group(0)) if m else 0.0

    lines.sort(key=numeric if "n" in flags else None, reverse="r" in flags)
    if "u" in flags:
        lines = list(dict.fromkeys(lines))
    ctx.out("".join(line + "\n" for line in lines))
    return 0


def cut(ctx: Ctx, args: list[str]) -> int:
    delim, fields, files = "\t", "", []
    it = iter(args)
    for arg in it:
        if arg == "-d":
            delim = next(it, "\t")
        elif arg.startswith("-d"):
            delim = arg[2:]
        elif arg == "-f":
            fields = next(it, "")
        elif arg.startswith("-f"):
            fields = arg[2:]
        else:
            files.append(arg)
    if not fields:
        raise CommandError("cut: needs -f")
    wanted: list[int] = []
    for spec in fields.split(","):
        if "-" in spec:
            lo, _, hi = spec.partition("-")
            wanted += range(int(lo or 1), int(hi or 64) + 1)
        else:
            wanted.append(to_int(spec, "cut"))
    for _, data in _inputs(ctx, files):
        for line in _lines(data or b""):
            parts = line.split(delim)
            if len(parts) == 1:
                ctx.out(line + "\n")
            else:
                ctx.out(delim.join(parts[i - 1] for i in wanted if i <= len(parts)) + "\n")
    return 0


def basename(ctx: Ctx, args: list[str]) -> int:
    if not args:
        raise CommandError("basename: needs 1 argument")
    name = args[0].rstrip("/").rsplit("/", 1)[-1] or "/"
    if len(args) > 1 and name.endswith(args[1]) and name != args[1]:
        name = name[: -len(args[1])]
    ctx.out(name + "\n")
    return 0


def dirname(ctx: Ctx, args: list[str]) -> int:
    if not args:
        raise CommandError("dirname: needs 1 argument")
    path = args[0].rstrip("/")
    ctx.out((path.rsplit("/", 1)[0] if "/" in path else ".") or "/")
    ctx.out("\n")
    return 0


COMMANDS = {
    "grep": grep, "egrep": grep, "head": head, "tail": tail, "wc": wc, "sort": sort, "cut": cut,
    "basename": basename, "dirname": dirname,
}
