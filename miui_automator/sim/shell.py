"""The simulated phone's ``/system/bin/sh``: runs one command line against the phone model.

The transport hands every ``shell:``/``shell,v2:``/``exec:`` command line to
:meth:`Shell.run` and gets back what a real Xiaomi phone would have printed, with the exit
status. Parsing lives in :mod:`.shell_parse` (sans-IO), the commands in :mod:`.commands`;
this module wires them together: expansion (``$?``, variables, ``$(...)``, globs against the
phone's file system), redirections, pipes and ``&&``/``||``.

Stdout and stderr are kept apart (shell v2 sends them as separate packets) *and* in their
real interleaved order (:attr:`ShellResult.combined`), because shell v1 mixes both into one
byte stream and adbutils' ``X4EXIT:$?`` trick breaks if an error message lands after the
marker.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from typing import Awaitable, Callable

from .commands import REGISTRY
from .commands.base import CommandError, Ctx, ExitShell, read_error, write_error
from .commands.procs import SHELL_PID
from .shell_parse import AndOr, Command, Lit, Pipeline, ShellSyntaxError, Sub, Var, Word, parse
from .vfs import normpath

SH = "/system/bin/sh"
BIN_DIRS = ("/system/bin", "/system/xbin", "/bin", "/vendor/bin", "/product/bin", "/system/bin/toybox")
_GLOB_MAGIC = re.compile(r"[*?\[]")
_IFS = re.compile(r"[ \t\n]+")

# The environment `adb shell` starts with on Android 11+.
BASE_ENV = {
    "PATH": "/product/bin:/apex/com.android.runtime/bin:/apex/com.android.art/bin:/system_ext/bin:/system/bin:"
            "/system/xbin:/odm/bin:/vendor/bin:/vendor/xbin",
    "HOME": "/",
    "USER": "shell",
    "LOGNAME": "shell",
    "SHELL": "/bin/sh",
    "HOSTNAME": "localhost",
    "TMPDIR": "/data/local/tmp",
    "ANDROID_DATA": "/data",
    "ANDROID_ROOT": "/system",
    "ANDROID_STORAGE": "/storage",
    "EXTERNAL_STORAGE": "/sdcard",
    "ASEC_MOUNTPOINT": "/mnt/asec",
}

class ShellResult:
    """What a command line printed, its exit status, and how long it takes on a phone.

    Some output costs real work to make (the hash of a file): a command leaves it to be computed
    later (:meth:`Ctx.out_later <.commands.base.Ctx.out_later>`), and :meth:`settle` computes it.
    The transport calls ``settle`` on a worker thread while the command's phone time runs, as a
    phone hashes on its own cores while adbd goes on serving the USB link; reading ``stdout``,
    ``stderr`` or ``combined`` settles the result first, so any other caller sees plain bytes.
    """

    def __init__(self, stdout: bytes = b"", stderr: bytes = b"", rc: int = 0,
                 hold: Callable[..., Awaitable[None]] | None = None, interleaved: bytes | None = None,
                 duration: float = 0.0, pending: list[tuple[int, bytes | Callable[[], bytes]]] | None = None) -> None:
        self._stdout, self._stderr, self._interleaved = stdout, stderr, interleaved
        self._pending = pending  # chunks in written order, some still to be computed
        self.rc = rc
        self.hold = hold
        # Seconds the command line occupies on a real phone (``sleep``, a 2 s ``input swipe``, md5sum
        # of a big file): the transport answers only after this long, and a host that hangs up first ends it.
        self.duration = duration

    def __repr__(self) -> str:
        return f"ShellResult(rc={self.rc}, duration={self.duration:.3f}, settled={self.settled})"

    @property
    def settled(self) -> bool:
        return self._pending is None

    def settle(self) -> None:
        """Compute the deferred output (thread-safe to call once from a worker thread)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            chunks = [(fd, data if isinstance(data, bytes) else data()) for fd, data in pending]
            self._stdout, self._stderr, self._interleaved = _joined(chunks)

    @property
    def stdout(self) -> bytes:
        self.settle()
        return self._stdout

    @property
    def stderr(self) -> bytes:
        self.settle()
        return self._stderr

    @property
    def interleaved(self) -> bytes | None:
        """stdout and stderr in the order they were written (what a shell v1 stream carries), when both hold bytes."""
        self.settle()
        return self._interleaved

    @property
    def combined(self) -> bytes:
        """Both streams as one byte string, in real order: write this on a v1/``exec:`` stream."""
        self.settle()
        return self._interleaved if self._interleaved is not None else self._stdout + self._stderr


class Shell:
    """One phone's shell. Stateless between calls: every command line starts a fresh ``sh``."""

    def __init__(self, phone) -> None:
        self.phone = phone

    def run(self, cmdline: str, stdin: bytes = b"") -> ShellResult:
        """Run ``cmdline`` to completion (or until its long-running command takes over)."""
        self.phone.state.shell_history.append(cmdline)
        self.phone.tick()
        chunks: list[tuple[int, bytes | Callable[[], bytes]]] = []
        out, err = _Stream(chunks, 1), _Stream(chunks, 2)
        session = _Session(self.phone, dict(BASE_ENV), "/", stdin)
        round_trip = self.phone.timing.shell()  # adbd forks sh and relays its output
        try:
            script = parse(cmdline)
        except ShellSyntaxError as exc:
            err.write(f"{SH}: {exc}\n".encode())
            return _result(chunks, 1, None, round_trip)
        rc = session.run_script(script, out, err)
        return _result(chunks, rc & 0xFF, session.hold, session.elapsed + round_trip)


def _joined(chunks: list[tuple[int, bytes]]) -> tuple[bytes, bytes, bytes | None]:
    stdout = b"".join(data for fd, data in chunks if fd == 1)
    stderr = b"".join(data for fd, data in chunks if fd == 2)
    interleaved = b"".join(data for _, data in chunks) if stdout and stderr else None
    return stdout, stderr, interleaved


def _result(chunks: list[tuple[int, bytes | Callable[[], bytes]]], rc: int, hold, duration: float) -> ShellResult:
    if any(not isinstance(data, bytes) for _, data in chunks):
        return ShellResult(rc=rc, hold=hold, duration=duration, pending=chunks)
    stdout, stderr, interleaved = _joined(chunks)  # type: ignore[arg-type]
    return ShellResult(stdout, stderr, rc, hold, interleaved, duration)


# ----------------------------------------------------------------------------- sinks
class _Stream:
    """The command line's stdout (1) or stderr (2); chunks keep the order they were written in."""

    def __init__(self, chunks: list[tuple[int, bytes | Callable[[], bytes]]], fd: int) -> None:
        self.chunks = chunks
        self.fd = fd

    def write(self, data: bytes) -> None:
        if data:
            self.chunks.append((self.fd, bytes(data)))

    def defer(self, compute: Callable[[], bytes]) -> None:
        """Output computed when the result is settled (see :class:`ShellResult`)."""
        self.chunks.append((self.fd, compute))


class _Capture:
    """A pipe or a ``$(...)``: collects bytes for the next reader."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        self.data += data


class _Null:
    def write(self, data: bytes) -> None:
        pass


class _FileSink:
    """``> file``/``>> file``: bytes land in the VFS when the command ends."""

    def __init__(self, path: str, initial: bytes) -> None:
        self.path = path
        self.data = bytearray(initial)

    def write(self, data: bytes) -> None:
        self.data += data


class _Redirected(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# ----------------------------------------------------------------------------- executor
class _Session:
    """One ``sh`` process: variables, cwd, ``$?``; satisfies :class:`commands.base.Session`.

    Commands run against the model at once; what takes time on a phone (``sleep``, gestures)
    adds to :attr:`elapsed`, which the transport then waits out before it answers.
    """

    def __init__(self, phone, variables: dict[str, str], cwd: str, stdin: bytes) -> None:
        self.phone = phone
        self.vars = variables
        self.cwd = cwd
        self.stdin = stdin
        self.status = 0
        self.elapsed = 0.0
        self.hold = None
        self._err = _Null()
        self._substituted: int | None = None

    # -- Session protocol
    def has_command(self, name: str) -> bool:
        return name in REGISTRY

    def run_nested(self, source: str, ctx: Ctx) -> int:
        """``sh -c``/``eval``: a child shell sharing this one's streams; its hold carries over."""
        child = _Session(self.phone, dict(self.vars), self.cwd, ctx.stdin)
        try:
            script = parse(source)
        except ShellSyntaxError as exc:
            ctx.err(f"{SH}: {exc}\n")
            return 1
        rc = child.run_script(script, ctx.stdout, ctx.stderr)
        self.elapsed += child.elapsed
        if child.hold is not None:
            ctx.hold = child.hold
        return rc

    def run_argv(self, argv: list[str], ctx: Ctx) -> int:
        """Run an already-expanded argv with ``ctx``'s streams (``xargs``, ``nohup``, ``toybox``)."""
        sub = Ctx(self.phone, self, argv[0], ctx.stdout, ctx.stderr, ctx.stdin, dict(ctx.env))
        rc = self._dispatch(sub, argv)
        if sub.hold is not None:
            ctx.hold = sub.hold
        return rc

    # -- running
    def run_script(self, script, out, err) -> int:
        self._err = err
        try:
            for item in script:
                self._and_or(item, out, err)
                if self.hold is not None:
                    break  # the long-running command owns the stream from here on
        except ExitShell as exc:
            self.status = exc.rc
        return self.status

    def _and_or(self, item: AndOr, out, err) -> None:
        self.status = self._pipeline(item.first, out, err)
        for op, pipeline in item.rest:
            if self.hold is not None:
                return
            if (op == "&&") == (self.status == 0):
                self.status = self._pipeline(pipeline, out, err)

    def _pipeline(self, pipeline: Pipeline, out, err) -> int:
        data = self.stdin
        rc = 0
        last = len(pipeline.commands) - 1
        for i, command in enumerate(pipeline.commands):
            sink = out if i == last else _Capture()
            rc = self._command(command, data, sink, err)
            if i != last:
                data = bytes(sink.data)  # type: ignore[union-attr]
            if self.hold is not None:
                break
        if pipeline.negated:
            rc = 0 if rc else 1
        return rc

    def _command(self, command: Command, stdin: bytes, out, err) -> int:
        self._substituted = None
        try:
            assigns = {name: self._expand_one(word) for name, word in command.assigns}
            argv = self._expand_words(command.words)
        except CommandError as exc:
            err.write((exc.message + "\n").encode())
            return exc.rc
        fds: dict[int, object] = {0: stdin, 1: out, 2: err}
        files: list[_FileSink] = []
        try:
            for redirect in command.redirects:
                self._redirect(redirect, fds, files)
        except _Redirected as exc:
            err.write(f"{SH}: {exc.message}\n".encode())
            return 1
        try:
            if not argv:
                self.vars.update(assigns)
                return self._substituted or 0  # `X=$(false)` has the substitution's status
            ctx = Ctx(self.phone, self, argv[0], fds[1], fds[2], fds[0], assigns)  # type: ignore[arg-type]
            rc = self._dispatch(ctx, argv)
            if ctx.hold is not None:
                self.hold = ctx.hold
            return rc
        finally:
            for f in files:
                self.phone.state.fs.write(f.path, bytes(f.data))

    def _dispatch(self, ctx: Ctx, argv: list[str]) -> int:
        name = argv[0]
        handler = REGISTRY.get(name)
        if "/" in name:
            directory, base = posixpath.split(ctx.abspath(name))
            handler = REGISTRY.get(base) if directory in BIN_DIRS else None
            if handler is None and self.phone.state.fs.exists(ctx.resolve(name)):
                ctx.err(f"{SH}: {name}: can't execute: Permission denied\n")
                return 126
        if handler is None:
            ctx.err(f"{SH}: {name}: inaccessible or not found\n")
            return 127
        ctx.name = posixpath.basename(name)
        try:
            return handler(ctx, argv[1:])
        except CommandError as exc:
            ctx.err(exc.message + "\n")
            return exc.rc

    def _redirect(self, redirect, fds: dict[int, object], files: list[_FileSink]) -> None:
        target = self._expand_one(redirect.target)
        fs = self.phone.state.fs
        if redirect.op in (">&", "<&"):
            if target == "-":
                fds[redirect.fd] = _Null() if redirect.fd else b""
            elif target in ("0", "1", "2"):
                fds[redirect.fd] = fds[int(target)]
            else:
                raise _Redirected(f"{target}: bad file descriptor")
            return
        if redirect.op == "<":
            norm = normpath(self._abspath(target))
            if norm == "/dev/null":
                fds[redirect.fd] = b""
                return
            reason = read_error(norm)
            entry = fs.lookup(norm)
            if reason is None and entry is None:
                reason = "No such file or directory"
            elif reason is None and entry is not None and entry.is_dir:
                reason = "Is a directory"
            if reason:
                raise _Redirected(f"can't open {target}: {reason}")
            fds[redirect.fd] = fs.read(norm)
            return
        sink = self._open_write(target, append=redirect.op == ">>", fds=fds, files=files)
        for fd in ((1, 2) if redirect.fd == -1 else (redirect.fd,)):
            fds[fd] = sink

    def _open_write(self, target: str, append: bool, fds, files: list[_FileSink]):
        special = {"/dev/null": _Null(), "/dev/stdout": fds[1], "/dev/stderr": fds[2], "/dev/tty": fds[1]}
        norm = normpath(self._abspath(target))
        if norm in special:
            return special[norm]
        fs = self.phone.state.fs
        parent = fs.lookup(posixpath.dirname(norm))
        entry = fs.lookup(norm)
        reason = None
        if parent is None or not parent.is_dir:
            reason = "No such file or directory" if parent is None else "Not a directory"
        elif entry is not None and entry.is_dir:
            reason = "Is a directory"
        else:
            reason = write_error(norm)
        if reason:
            raise _Redirected(f"can't create {target}: {reason}")
        for existing in files:
            if existing.path == norm:
                return existing
        initial = fs.read(norm) if append and entry is not None else b""
        fs.write(norm, initial)
        sink = _FileSink(norm, initial)
        files.append(sink)
        return sink

    def _abspath(self, path: str) -> str:
        return path if path.startswith("/") else posixpath.join(self.cwd, path)

    # -- expansion
    def _value(self, part: Var | Sub) -> str:
        if isinstance(part, Var):
            if part.name == "?":
                return str(self.status)
            if part.name == "$":
                return str(SHELL_PID)
            if part.name == "#":
                return "0"
            if part.name == "0":
                return "sh"
            return self.vars.get(part.name, "")
        capture = _Capture()
        child = _Session(self.phone, dict(self.vars), self.cwd, b"")
        try:
            script = parse(part.source)
        except ShellSyntaxError as exc:
            raise CommandError(f"{SH}: {exc}") from None
        child.run_script(script, capture, self._err)
        self.elapsed += child.elapsed
        self._substituted = child.status
        return bytes(capture.data).decode("utf-8", "surrogateescape").rstrip("\n")

    def _fields(self, word: Word) -> list[list[tuple[str, bool]]]:
        """Split ``word`` into fields of (text, quoted) pieces, POSIX field-splitting style."""
        fields: list[list[tuple[str, bool]]] = [[]]
        forced = [False]
        for part in word.parts:
            if isinstance(part, Lit):
                fields[-1].append((part.text, part.quoted))
                forced[-1] = forced[-1] or part.quoted
                continue
            value = self._value(part)
            if part.quoted:
                fields[-1].append((value, True))
                forced[-1] = True
                continue
            for j, piece in enumerate(_IFS.split(value)):
                if j:
                    fields.append([])
                    forced.append(False)
                if piece:
                    fields[-1].append((piece, False))
        return [f for f, force in zip(fields, forced) if f or force]

    def _expand_words(self, words: tuple[Word, ...]) -> list[str]:
        argv: list[str] = []
        for word in words:
            for pieces in self._fields(word):
                text = "".join(t for t, _ in pieces)
                if any(not q and _GLOB_MAGIC.search(t) for t, q in pieces):
                    pattern = "".join(t if not q else _glob_escape(t) for t, q in pieces)
                    matches = self._glob(pattern)
                    argv.extend(matches or [text])
                else:
                    argv.append(text)
        return argv

    def _expand_one(self, word: Word) -> str:
        """Expansion for assignments and redirection targets: no splitting, no globbing."""
        return "".join(p.text if isinstance(p, Lit) else self._value(p) for p in word.parts)

    def _glob(self, pattern: str) -> list[str]:
        fs = self.phone.state.fs
        absolute = pattern.startswith("/")
        prefixes = ["/" if absolute else ""]
        for comp in pattern.split("/"):
            if not comp:
                continue
            nxt: list[str] = []
            for prefix in prefixes:
                if _GLOB_MAGIC.search(comp):
                    directory = normpath(self._abspath(prefix or "."))
                    entry = fs.lookup(directory)
                    if entry is None or not entry.is_dir or read_error(directory):
                        continue
                    for name, _ in fs.listdir(directory):
                        if name.startswith(".") and not comp.startswith("."):
                            continue
                        if fnmatch.fnmatchcase(name, comp):
                            nxt.append(_join(prefix, name))
                else:
                    nxt.append(_join(prefix, _glob_unescape(comp)))
            prefixes = nxt
        return sorted(p for p in prefixes if fs.exists(normpath(self._abspath(p))))


def _join(prefix: str, name: str) -> str:
    if not prefix:
        return name
    return prefix + name if prefix.endswith("/") else prefix + "/" + name


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def _glob_unescape(text: str) -> str:
    return re.sub(r"\[([*?\[])\]", r"\1", text)
