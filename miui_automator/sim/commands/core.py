"""Shell built-ins real callers chain onto phone commands (``echo``, ``test``, ``cd``, ``exit``,
``xargs``, ``id``, ``date``, ...); the text tools (``grep``, ``head``, ``wc``, ...) are in text.py."""

from __future__ import annotations

import datetime as dt
import re
import shlex

from .base import CommandError, Ctx, ExitShell, local_time, to_int

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v", "e": "\x1b"}


def _unescape(text: str) -> tuple[str, bool]:
    """Backslash escapes of ``echo -e``/``printf``; the flag is True when ``\\c`` stops output."""
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            n = text[i + 1]
            if n == "c":
                return "".join(out), True
            if n in _ESCAPES:
                out.append(_ESCAPES[n])
                i += 2
                continue
            if n == "0" or n.isdigit():
                m = re.match(r"0?([0-7]{1,3})", text[i + 1:])
                if m:
                    value = int(m.group(1), 8) & 0xFF
                    out.append(chr(value) if value < 0x80 else chr(0xDC00 + value))  # a byte, as the shell's are
                    i += 1 + m.end()
                    continue
        out.append(c)
        i += 1
    return "".join(out), False


def echo(ctx: Ctx, args: list[str]) -> int:
    newline, escapes = True, False
    while args and re.fullmatch(r"-[neE]+", args[0]):
        flags = args.pop(0)
        newline = newline and "n" not in flags
        if "e" in flags:
            escapes = True
        if "E" in flags:
            escapes = False
    text = " ".join(args)
    if escapes:
        text, stop = _unescape(text)
        newline = newline and not stop
    ctx.out(text + ("\n" if newline else ""))
    return 0


def printf(ctx: Ctx, args: list[str]) -> int:
    if not args:
        raise CommandError("printf: needs 1 argument")
    fmt, values = args[0], args[1:]
    spec = re.compile(r"%([-+ 0#]*\d*(?:\.\d+)?)([sdioxXcfgeb%])")
    out = []
    while True:
        used = 0

        def conv(m: re.Match) -> str:
            nonlocal used
            flags, kind = m.group(1), m.group(2)
            if kind == "%":
                return "%"
            value = values[used] if used < len(values) else ""
            used += 1
            if kind in "dioxX":
                return ("%" + flags + ("d" if kind == "i" else kind)) % (to_int(value, "printf") if value else 0)
            if kind in "feg":
                return ("%" + flags + kind) % float(value or 0)
            if kind == "c":
                return value[:1]
            if kind == "b":
                return _unescape(value)[0]
            return ("%" + flags + "s") % value

        text, _ = _unescape(spec.sub(conv, fmt))
        out.append(text)
        values = values[used:]
        if not values or not used:
            break
    ctx.out("".join(out))
    return 0


def true(ctx: Ctx, args: list[str]) -> int:
    return 0


def false(ctx: Ctx, args: list[str]) -> int:
    return 1


def _test_expr(ctx: Ctx, args: list[str]) -> bool:
    if not args:
        return False
    if args[0] == "!":
        return not _test_expr(ctx, args[1:])
    for joiner in ("-o", "-a"):
        if joiner in args[1:-1]:
            i = args.index(joiner, 1)
            left, right = _test_expr(ctx, args[:i]), _test_expr(ctx, args[i + 1:])
            return (left or right) if joiner == "-o" else (left and right)
    if len(args) == 1:
        return args[0] != ""
    if len(args) == 2:
        op, operand = args
        if op == "-z":
            return operand == ""
        if op == "-n":
            return operand != ""
        entry = ctx.phone.state.fs.lookup(ctx.resolve(operand)) if operand else None
        checks = {
            "-e": entry is not None,
            "-f": entry is not None and not entry.is_dir,
            "-d": entry is not None and entry.is_dir,
            "-s": entry is not None and entry.size > 0,
            "-r": entry is not None,
            "-w": entry is not None,
            "-x": entry is not None and entry.is_dir,
            "-L": False,
            "-h": False,
        }
        if op not in checks:
            raise CommandError(f"{ctx.name}: {op}: unknown operand", 2)
        return checks[op]
    if len(args) == 3:
        a, op, b = args
        if op in ("=", "=="):
            return a == b
        if op == "!=":
            return a != b
        numeric = {"-eq": int.__eq__, "-ne": int.__ne__, "-lt": int.__lt__, "-le": int.__le__,
                   "-gt": int.__gt__, "-ge": int.__ge__}
        if op in numeric:
            return numeric[op](to_int(a, ctx.name, "integer"), to_int(b, ctx.name, "integer"))
    raise CommandError(f"{ctx.name}: syntax error", 2)


def test(ctx: Ctx, args: list[str]) -> int:
    if ctx.name == "[":
        if not args or args[-1] != "]":
            raise CommandError("[: missing ]", 2)
        args = args[:-1]
    return 0 if _test_expr(ctx, args) else 1


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds(text: str, command: str) -> float:
    """toybox's duration syntax: ``1.5``, ``2s``, ``3m``, ``1h``, ``1d``."""
    number, unit = (text[:-1], text[-1]) if text[-1:] in _UNITS else (text, "s")
    try:
        value = float(number)
    except ValueError:
        raise CommandError(f"{command}: bad number '{text}'") from None
    if value < 0:
        raise CommandError(f"{command}: bad number '{text}'")
    return value * _UNITS[unit]


def sleep(ctx: Ctx, args: list[str]) -> int:
    """Takes its time: the transport answers after it, and the host may hang up meanwhile."""
    if not args:
        raise CommandError("sleep: Needs 1 argument")
    ctx.session.elapsed += sum(seconds(arg, "sleep") for arg in args)
    return 0


def exit_(ctx: Ctx, args: list[str]) -> int:
    rc = to_int(args[0], "exit") if args else ctx.session.status
    raise ExitShell(rc & 0xFF)


def cd(ctx: Ctx, args: list[str]) -> int:
    target = args[0] if args else "/"
    entry = ctx.phone.state.fs.lookup(ctx.resolve(target))
    if entry is None:
        raise CommandError(f"/system/bin/sh: cd: {target}: No such file or directory", 2)
    if not entry.is_dir:
        raise CommandError(f"/system/bin/sh: cd: {target}: Not a directory", 2)
    ctx.session.cwd = ctx.abspath(target)
    return 0


def pwd(ctx: Ctx, args: list[str]) -> int:
    ctx.out(ctx.session.cwd + "\n")
    return 0


def export(ctx: Ctx, args: list[str]) -> int:
    for arg in args:
        name, eq, value = arg.partition("=")
        if eq:
            ctx.session.vars[name] = value
    return 0


def unset(ctx: Ctx, args: list[str]) -> int:
    for name in args:
        ctx.session.vars.pop(name, None)
    return 0


def env(ctx: Ctx, args: list[str]) -> int:
    while args and "=" in args[0]:
        name, _, value = args.pop(0).partition("=")
        ctx.env[name] = value
    if args:
        return ctx.session.run_argv(args, ctx)
    merged = dict(ctx.session.vars, **ctx.env)
    ctx.out("".join(f"{k}={v}\n" for k, v in sorted(merged.items())))
    return 0


def sh(ctx: Ctx, args: list[str]) -> int:
    if len(args) >= 2 and args[0] == "-c":
        return ctx.session.run_nested(args[1], ctx)
    if not args:
        return ctx.session.run_nested(ctx.stdin.decode("utf-8", "replace"), ctx)
    raise CommandError(f"/system/bin/sh: {args[0]}: can't open script: not supported by the simulated shell", 127)


def eval_(ctx: Ctx, args: list[str]) -> int:
    return ctx.session.run_nested(" ".join(args), ctx)


def run_next(ctx: Ctx, args: list[str]) -> int:
    """``exec``/``nohup``/``timeout``/``command``: run the rest as a command (no real process tricks).

    ``timeout N cmd`` cuts a command that would take longer than N seconds: the command line
    then takes N seconds and the status is 124, as toybox's timeout reports.
    """
    limit = None
    if ctx.name == "timeout":
        while args and args[0].startswith("-"):
            args = args[2:] if args[0] in ("-s", "-k") else args[1:]
        if not args:
            raise CommandError("timeout: Needs 2 arguments")
        limit, args = seconds(args[0], "timeout"), args[1:]
    if ctx.name == "command" and args and args[0] == "-v":
        return which(ctx, args[1:])
    if not args:
        return 0
    started = ctx.session.elapsed
    rc = ctx.session.run_argv(args, ctx)
    if limit and ctx.session.elapsed - started > limit:
        ctx.session.elapsed = started + limit
        return 124
    return rc


def which(ctx: Ctx, args: list[str]) -> int:
    rc = 0
    for name in args:
        if ctx.session.has_command(name):
            ctx.out(f"/system/bin/{name}\n")
        else:
            rc = 1
    return rc


def xargs(ctx: Ctx, args: list[str]) -> int:
    per_call = 0
    nul = False
    while args and args[0].startswith("-") and len(args[0]) > 1:
        flag = args.pop(0)
        if flag == "-0":
            nul = True
        elif flag == "-n":
            per_call = to_int(args.pop(0), "xargs")
        elif flag.startswith("-n"):
            per_call = to_int(flag[2:], "xargs")
        else:
            raise CommandError(f"xargs: Unknown option '{flag}'")
    data = ctx.stdin.decode("utf-8", "replace")
    items = [s for s in data.split("\0")] if nul else shlex.split(data)
    items = [s for s in items if s]
    command = args or ["echo"]
    if not items:
        return 0 if args else ctx.session.run_argv(command, ctx)
    batches = [items[i:i + per_call] for i in range(0, len(items), per_call)] if per_call else [items]
    rc = 0
    for batch in batches:
        rc = ctx.session.run_argv(command + batch, ctx) or rc
    return 123 if rc else 0


def id_(ctx: Ctx, args: list[str]) -> int:
    if "-u" in args:
        ctx.out("2000\n")
    elif "-un" in args or ("-u" in args and "-n" in args):
        ctx.out("shell\n")
    else:
        ctx.out("uid=2000(shell) gid=2000(shell) groups=2000(shell),1004(input),1007(log),1011(adb),1015(sdcard_rw),"
                "1028(sdcard_r),1078(ext_data_rw),1079(ext_obb_rw),3001(net_bt_admin),3002(net_bt),3003(inet),"
                "3006(net_bw_stats),3009(readproc),3011(uhid),3012(readtracefs) context=u:r:shell:s0\n")
    return 0


def whoami(ctx: Ctx, args: list[str]) -> int:
    ctx.out("shell\n")
    return 0


_KERNELS = {"30": "4.19.157-perf-g8a3b2c1", "33": "5.4.210-qgki-g2d7e5f9", "34": "5.15.94-android13-8-o-g1c6f2b7",
            "35": "6.1.57-android14-11-o-g4e9a1d2"}


def uname(ctx: Ctx, args: list[str]) -> int:
    props = ctx.phone.state.props
    release = _KERNELS.get(props.get("ro.build.version.sdk", ""), "5.10.177-android12-9-g0a1b2c3")
    fields = {"s": "Linux", "n": "localhost", "r": release, "v": "#1 SMP PREEMPT Tue Mar 5 10:21:34 CST 2024",
              "m": "aarch64", "o": "Toybox"}
    flags = "".join(a.lstrip("-") for a in args if a.startswith("-")) or "s"
    order = "snrvmo" if "a" in flags else "".join(k for k in "snrvmo" if k in flags)
    ctx.out(" ".join(fields[k] for k in order) + "\n")
    return 0


def date(ctx: Ctx, args: list[str]) -> int:
    now = local_time(ctx.phone, ctx.phone.wall_clock())
    fmt = "%a %b %e %H:%M:%S %Z %Y"
    for arg in args:
        if arg.startswith("+"):
            fmt = arg[1:]
        elif arg == "-u":
            now = now.astimezone(dt.timezone.utc)
    ctx.out(now.strftime(fmt.replace("%s", str(int(now.timestamp())))) + "\n")
    return 0


def getenforce(ctx: Ctx, args: list[str]) -> int:
    ctx.out("Enforcing\n")
    return 0


COMMANDS = {
    "echo": echo, "printf": printf, "true": true, "false": false, "test": test, "[": test, "sleep": sleep,
    "exit": exit_, "cd": cd, "pwd": pwd, "export": export, "unset": unset, "env": env, "printenv": env,
    "sh": sh, "mksh": sh, "eval": eval_, "exec": run_next, "nohup": run_next, "timeout": run_next,
    "command": run_next, "which": which, "xargs": xargs, "id": id_, "whoami": whoami, "uname": uname,
    "date": date, "getenforce": getenforce,
}
