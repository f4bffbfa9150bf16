"""What every simulated command receives, and the small helpers they share.

A command is a function ``(ctx, args) -> exit status``. It writes to ``ctx.out``/``ctx.err``
(so stdout and stderr keep their real interleaving), reads ``ctx.stdin``, may set
``ctx.hold`` when it keeps running after its first output (the uiautomator2 server,
``logcat``), leaves output that costs real work (a hash) to :meth:`Ctx.out_later`, and reaches the phone through ``ctx.phone`` — the same facade the transport and
the uiautomator2 server use.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import posixpath
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Awaitable, Callable, Protocol, Sequence

from ..vfs import STORAGE, normpath

if TYPE_CHECKING:
    from ..phone import Phone

Write = Callable[[bytes], Awaitable[None]]
# A long-running command's body: runs until it ends by itself or ``closed`` (the host hung up) is
# set; ``write`` sends more output on the command's stream (logcat lines, a relay's replies).
HoldFn = Callable[[asyncio.Event, Write], Awaitable[None]]

# Where uid 2000 (shell) may write on a user build; everything else is read-only or denied.
WRITABLE_ROOTS = (STORAGE, "/data/local/tmp")
READ_ONLY_ROOTS = ("/system", "/system_ext", "/vendor", "/product", "/odm", "/apex")
PRIVATE_ROOTS = ("/data/data", "/data/user", "/data/system", "/data/misc", "/data/app")

# Gate of MIUI's "USB debugging (Security settings)" toggle: 1 on, 0 off.
GATE_PROP = "persist.security.adbinput"


class Sink(Protocol):
    def write(self, data: bytes) -> None: ...


class Session(Protocol):
    """The running shell, as commands see it (cwd, variables, running other commands)."""

    cwd: str
    vars: dict[str, str]
    status: int  # $?
    elapsed: float  # seconds the command line has taken so far (sleeps, gestures)

    def run_nested(self, source: str, ctx: "Ctx") -> int: ...

    def run_argv(self, argv: list[str], ctx: "Ctx") -> int: ...

    def has_command(self, name: str) -> bool: ...


class CommandError(Exception):
    """End the command: print ``message`` (a full line) to stderr and exit with ``rc``."""

    def __init__(self, message: str, rc: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.rc = rc


class ExitShell(Exception):
    """``exit N``: stop the whole command line with status N."""

    def __init__(self, rc: int) -> None:
        super().__init__(rc)
        self.rc = rc


@dataclass
class Ctx:
    phone: "Phone"
    session: Session
    name: str
    stdout: Sink
    stderr: Sink
    stdin: bytes = b""
    env: dict[str, str] = field(default_factory=dict)
    hold: HoldFn | None = None

    def out(self, data: str | bytes) -> None:  # a phone name that is not UTF-8 is surrogateescape text
        self.stdout.write(data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data)

    def out_later(self, compute: Callable[[], bytes]) -> None:
        """Output that takes real work to make (a file's hash): on the command line's own stdout it is
        computed off the event loop while the command's phone time runs (see ``ShellResult`` in
        ``sim/shell.py``); into a pipe, a file or ``$(...)`` it is computed at once."""
        defer = getattr(self.stdout, "defer", None)
        if defer is None:
            self.stdout.write(compute())
        else:
            defer(compute)

    def err(self, data: str | bytes) -> None:
        self.stderr.write(data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data)

    def getenv(self, name: str, default: str = "") -> str:
        return self.env.get(name, self.session.vars.get(name, default))

    def abspath(self, path: str) -> str:
        """The path as the user spelled it, made absolute against the shell's cwd."""
        joined = path if path.startswith("/") else posixpath.join(self.session.cwd, path)
        norm = posixpath.normpath(joined)
        return "/" + norm.lstrip("/")

    def resolve(self, path: str) -> str:
        """The canonical VFS path (storage aliases resolved)."""
        return normpath(self.abspath(path))


def under(path: str, roots: Sequence[str]) -> bool:
    return any(path == r or path.startswith(r + "/") for r in roots)


def write_error(norm: str) -> str | None:
    """Why uid 2000 may not create/modify ``norm`` (a canonical path), or None when it may."""
    if under(norm, WRITABLE_ROOTS) or norm == "/dev/null":
        return None
    if under(norm, READ_ONLY_ROOTS) or "/" not in norm.strip("/"):
        return "Read-only file system"
    return "Permission denied"


def read_error(norm: str) -> str | None:
    """Why uid 2000 may not read ``norm``, or None."""
    return "Permission denied" if under(norm, PRIVATE_ROOTS) else None


def gate_open(phone: "Phone") -> bool:
    return phone.state.props.get(GATE_PROP, "0") == "1"


def java_exception(verb: str, exception: str, frames: Sequence[str]) -> str:
    """What a ``cmd``-style shell command prints when the service throws (exit status 255)."""
    lines = [f"Exception occurred while executing '{verb}':", exception] + [f"\tat {f}" for f in frames]
    return "\n".join(lines) + "\n"


def to_int(text: str, command: str, what: str = "number") -> int:
    try:
        return int(text, 0) if text.lower().startswith(("0x", "-0x")) else int(text)
    except ValueError:
        raise CommandError(f"{command}: bad {what}: '{text}'") from None


def to_float(text: str, command: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise CommandError(f"{command}: bad number: '{text}'") from None


def local_time(phone: "Phone", epoch: float) -> dt.datetime:
    """``epoch`` in the phone's time zone (``persist.sys.timezone``), UTC if unknown."""
    name = phone.state.props.get("persist.sys.timezone", "UTC")
    try:
        from zoneinfo import ZoneInfo

        zone: dt.tzinfo = ZoneInfo(name)
    except Exception:  # no tz database: UTC is still a valid answer
        zone = dt.timezone.utc
    return dt.datetime.fromtimestamp(epoch, zone)


def short_component(package: str, activity: str) -> str:
    """``pkg/.Act`` when the class lives in the package, as ActivityManager prints it."""
    if activity.startswith(package + "."):
        return f"{package}/{activity[len(package):]}"
    return f"{package}/{activity}"
