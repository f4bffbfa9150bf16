"""Processes: ``ps``/``pidof`` (uiautomator2's ``app_wait`` reads ``ps -A``), ``kill``, ``logcat``
and ``reboot`` — plus the stable ids (pids, uids, window tokens) ``dumpsys`` shares with them,
so ``dumpsys activity top`` and ``ps -A`` agree on an app's pid.
"""

from __future__ import annotations

import asyncio
import zlib

from .base import CommandError, Ctx, local_time

SH = "/system/bin/sh"
# Apps a MIUI phone always has running, whatever is on screen.
ALWAYS_RUNNING = ("com.android.systemui", "com.miui.home", "com.miui.securitycenter", "com.android.phone")
SYSTEM_UID_PACKAGES = ("com.android.settings", "com.miui.securitycenter", "com.android.phone")
SHELL_PID = 28417
U2_PID = 28503

_SYSTEM_PROCESSES = [
    # user, pid, ppid, vsz, rss, wchan, name
    ("root", 1, 0, 10_901_436, 9_940, "do_epoll_wait", "init"),
    ("root", 2, 0, 0, 0, "kthreadd", "[kthreadd]"),
    ("logd", 412, 1, 10_985_200, 8_132, "__do_sys_rt_sigsuspend", "logd"),
    ("system", 588, 1, 10_912_008, 6_204, "binder_thread_read", "servicemanager"),
    ("root", 702, 1, 14_902_412, 101_224, "do_sys_poll", "zygote64"),
    ("root", 703, 1, 1_829_660, 87_412, "do_sys_poll", "zygote"),
    ("shell", 981, 1, 10_949_220, 6_804, "do_epoll_wait", "adbd"),
    ("system", 1406, 702, 22_761_536, 392_068, "do_epoll_wait", "system_server"),
]


def pid_of(name: str) -> int:
    return 2000 + zlib.crc32(name.encode()) % 24000


def app_user(package: str) -> str:
    if package in SYSTEM_UID_PACKAGES:
        return "system"
    return f"u0_a{50 + zlib.crc32(package.encode()) % 250}"


def app_uid(package: str) -> int:
    user = app_user(package)
    return 1000 if user == "system" else 10000 + int(user[len("u0_a"):])


def token(text: str) -> str:
    """A window/activity token: stable hex for one name, like the ids dumpsys prints."""
    return f"{zlib.crc32(text.encode()):08x}"[1:]


def running_packages(phone) -> list[str]:
    """Packages with a live process: system ones, every activity on the stack, popups."""
    names = list(ALWAYS_RUNNING) + [s.package for s in phone.stack]
    if phone.popup is not None:
        names.append(phone.popup.package)
    return [n for n in dict.fromkeys(names) if n]


def _rows(phone, everything: bool) -> list[tuple[str, int, int, int, int, str, str]]:
    rows = []
    if everything:
        rows += _SYSTEM_PROCESSES
        for pkg in running_packages(phone):
            rows.append((app_user(pkg), pid_of(pkg), 702, 15_102_344, 120_000 + pid_of(pkg) % 90_000,
                         "do_epoll_wait", pkg))
        if phone.u2_running:
            rows.append(("shell", U2_PID, SHELL_PID - 3, 13_940_224, 98_112, "do_epoll_wait", "app_process"))
    rows.append(("shell", SHELL_PID, 981, 10_902_912, 3_420, "__do_sys_wait4", "sh"))
    rows.append(("shell", SHELL_PID + 1, SHELL_PID, 10_939_676, 3_904, "0", "ps"))
    return sorted(rows, key=lambda r: r[1])


_PS_COLUMNS = {"USER": 0, "PID": 1, "PPID": 2, "VSZ": 3, "RSS": 4, "WCHAN": 5, "NAME": 6, "CMD": 6, "ARGS": 6,
               "CMDLINE": 6, "COMM": 6}


def _user_matches(user: str, wanted: set[str]) -> bool:
    uid = "2000" if user == "shell" else "1000" if user == "system" else "0" if user == "root" else ""
    return user in wanted or (uid != "" and uid in wanted)


def ps(ctx: Ctx, args: list[str]) -> int:
    everything = any(a in ("-A", "-e", "-ef", "-Af") for a in args)
    columns: list[str] | None = None
    pids: set[int] = set()
    users: set[str] = set()
    it = iter(args)
    for arg in it:
        if arg == "-o":
            columns = [c.strip().upper() for c in next(it, "").split(",") if c.strip()]
        elif arg == "-p":
            pids = {int(p) for p in next(it, "").split(",") if p.isdigit()}
            everything = True
        elif arg in ("-u", "-U"):
            users = {u for u in next(it, "").split(",") if u}
            everything = True
    rows = [r for r in _rows(ctx.phone, everything)
            if (not pids or r[1] in pids) and (not users or _user_matches(r[0], users))]
    if columns:
        unknown = [c for c in columns if c not in _PS_COLUMNS and c != "S"]
        if unknown:
            raise CommandError(f"ps: -o {unknown[0]} unknown")
        ctx.out(" ".join(columns) + "\n")
        for r in rows:
            ctx.out(" ".join("S" if c == "S" else str(r[_PS_COLUMNS[c]]) for c in columns) + "\n")
        return 0
    ctx.out(f"{'USER':<12}{'PID':>7}{'PPID':>7}{'VSZ':>9}{'RSS':>7} {'WCHAN':<24}{'ADDR':>5} S NAME\n")
    for user, pid, ppid, vsz, rss, wchan, name in rows:
        state = "R" if name == "ps" else "S"
        ctx.out(f"{user:<12}{pid:>7}{ppid:>7}{vsz:>9}{rss:>7} {wchan:<24}{0:>5} {state} {name}\n")
    return 0


def pidof(ctx: Ctx, args: list[str]) -> int:
    rows = _rows(ctx.phone, True)
    found = [str(r[1]) for name in args for r in rows if r[6] == name]
    if not found:
        return 1
    ctx.out(" ".join(found) + "\n")
    return 0


_SIGNALS = {"HUP": 1, "INT": 2, "QUIT": 3, "KILL": 9, "USR1": 10, "USR2": 12, "TERM": 15, "CONT": 18, "STOP": 19}


def kill(ctx: Ctx, args: list[str]) -> int:
    """mksh's builtin ``kill``: uid 2000 may signal its own processes (the uiautomator2 server,
    the shell) and no one else's, with the error lines mksh prints."""
    args = list(args)
    if args[:1] == ["-l"]:
        ctx.out(" ".join(_SIGNALS) + "\n")
        return 0
    if args[:1] == ["-s"]:
        args = args[2:]
    elif args and args[0].startswith("-") and len(args[0]) > 1 and not args[0][1:].isdigit() and \
            args[0][1:].upper().removeprefix("SIG") not in _SIGNALS:
        raise CommandError(f"{SH}: kill: {args[0][1:]}: bad signal", 1)
    elif args and args[0].startswith("-"):
        args = args[1:]
    if not args:
        raise CommandError(f"{SH}: kill: usage: kill [-s signame | -signum | -signame] {{job | pid | pgrp}} ...\n"
                           "       kill -l [exit_status ...]", 1)
    rows = {r[1]: r for r in _rows(ctx.phone, True)}
    rc = 0
    for target in args:
        pid = int(target) if target.lstrip("-").isdigit() else None
        if pid is None:
            ctx.err(f"{SH}: kill: {target}: arguments must be jobs or process IDs\n")
            rc = 1
        elif pid not in rows:
            ctx.err(f"{SH}: kill: {target}: No such process\n")
            rc = 1
        elif rows[pid][0] != "shell":
            ctx.err(f"{SH}: kill: {target}: Operation not permitted\n")
            rc = 1
        elif pid == U2_PID:
            ctx.phone.u2_running = False  # the launch stream ends, as when app_process dies
    return rc


LOGCAT_INTERVAL = 0.2  # seconds between the lines a streaming logcat prints


def _log_line(phone, fmt: str, pid: int, tid: int, level: str, tag: str, message: str) -> str:
    """One line in logcat's ``threadtime`` (default), ``time`` or ``brief`` format."""
    now = local_time(phone, phone.wall_clock())
    stamp = now.strftime("%m-%d %H:%M:%S.") + f"{now.microsecond // 1000:03d}"
    if fmt == "brief":
        return f"{level}/{tag}({pid:5d}): {message}\n"
    if fmt == "time":
        return f"{stamp} {level}/{tag}({pid:5d}): {message}\n"
    return f"{stamp} {pid:5d} {tid:5d} {level} {tag:<8}: {message}\n"


def _activity_lines(phone, fmt: str, n: int) -> list[str]:
    """What the system keeps logging: the focused window, the battery, the input dispatcher."""
    package, activity = phone.focus()
    lines = [
        (1406, 1502, "I", "ActivityTaskManager", f"Displayed {package}/{activity}: +{180 + n % 90}ms"),
        (1406, 1466, "D", "BatteryService", f"level:{phone.state.battery}, scale:100, status:2, health:2"),
        (pid_of("com.android.systemui"), pid_of("com.android.systemui"), "D", "InputDispatcher",
         f"Focus entered window in display 0: {package}"),
    ]
    pid, tid, level, tag, message = lines[n % len(lines)]
    return [_log_line(phone, fmt, pid, tid, level, tag, message)]


def logcat(ctx: Ctx, args: list[str]) -> int:
    """``logcat -d`` prints the buffer and ends; plain ``logcat`` keeps printing new lines for
    as long as the host keeps the stream open (adbutils' ``logcat()``, ``adb logcat``)."""
    if "-c" in args or "--clear" in args:
        return 0
    fmt = "threadtime"
    for i, arg in enumerate(args):
        if arg == "-v" and i + 1 < len(args):
            fmt = args[i + 1]
        elif arg.startswith("-v") and len(arg) > 2:
            fmt = arg[2:]
    phone = ctx.phone
    ctx.out("--------- beginning of main\n"
            + _log_line(phone, fmt, 1406, 1502, "I", "ActivityManager", "Start proc for top-activity")
            + _log_line(phone, fmt, 981, 981, "I", "adbd", "host-1: shell"))
    if "-d" in args:
        return 0

    async def follow(closed: asyncio.Event, write) -> None:
        n = 0
        while not closed.is_set():
            try:
                await asyncio.wait_for(closed.wait(), LOGCAT_INTERVAL)
            except asyncio.TimeoutError:
                await write("".join(_activity_lines(phone, fmt, n)).encode())
                n += 1

    ctx.hold = follow
    return 0


def reboot(ctx: Ctx, args: list[str]) -> int:
    """The phone drops off ADB, then comes back on the home screen (unless powered off)."""
    phone = ctx.phone
    phone.u2_running = False
    phone.unplug()
    if "-p" not in args:
        phone.go_home()
        phone.after(2.0, phone.replug)
    return 0


COMMANDS = {"ps": ps, "pidof": pidof, "kill": kill, "logcat": logcat, "reboot": reboot}
