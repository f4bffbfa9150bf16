"""What the simulated adbd does with an OPEN: map the service string to a handler.

A handler is a coroutine working on one :class:`~miui_automator.sim.streamio.StreamIO`, so the
services never touch sockets. :meth:`DeviceServices.route` returns ``None`` for a service the
phone refuses; the transport then answers ``CLSE(0, host_id)``, which the adb server reports
to its client as ``FAIL closed`` — exactly what a real adbd does for an unknown service or a
``tcp:`` port nobody listens on.
"""

from __future__ import annotations

import asyncio
import io
import re
import struct
from typing import Awaitable, Callable

from . import frames, shellproto
from .reverse import Dialer, ReverseError, table_for
from .shell import Shell, ShellResult
from .streamio import StreamIO
from .sync import SyncSession
from .timing import Pacer
from .u2server import U2Server

Handler = Callable[[StreamIO], Awaitable[None]]

U2_PORT = "9008"
_LOCALHOST = ("", "localhost", "127.0.0.1")

# Streamed installs (`adb install` with the `cmd` feature: `exec:cmd package 'install' -S <size>`,
# or `pm install-write -S <size> …`) send exactly <size> bytes of APK on stdin; no other command
# the phone models reads the host's stdin, and waiting for stdin EOF would hang the adb CLI.
_STDIN_SIZE = re.compile(r"\binstall(?:-write)?\b.*?(?:^|\s)-S\s+(\d+)")


def stdin_size(command: str) -> int:
    """How many stdin bytes ``command`` consumes before it runs."""
    m = _STDIN_SIZE.search(command)
    return int(m.group(1)) if m else 0


def mixed_output(result: ShellResult) -> bytes:
    """stdout and stderr as one stream (shell v1, exec:, a pty) in the order they were written."""
    if result.interleaved is not None:
        return result.interleaved
    return result.stderr + result.stdout


async def occupy(stream: StreamIO, seconds: float) -> bool:
    """Let a command take ``seconds``; False if the host hung up first (the command is killed)."""
    return await frames.pause_unless(stream.closed, seconds)


async def complete(stream: StreamIO, result: ShellResult) -> bool:
    """Let a command take its phone time while the work it left (hashing files) runs on a worker thread,
    so the loop keeps serving the phone's other streams (a file transfer) meanwhile, as a phone hashes on
    its own cores while adbd serves USB; False if the host hung up first."""
    if result.settled:
        return await occupy(stream, result.duration)
    work = asyncio.ensure_future(asyncio.to_thread(result.settle))
    alive = await occupy(stream, result.duration)
    await work
    return alive and not stream.closed.is_set()


FB_VERSION = 2
FB_SRGB = 1  # the colorSpace field adbd fills from the display's dataspace


def framebuffer_frame(png: bytes) -> bytes:
    """The ``framebuffer:`` reply: LE u32 version, bpp, colorSpace, size, width, height, the
    red/blue/green/alpha offset+length pairs (framebuffer_service.cpp's order), then pixels."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGBA")
    pixels = image.tobytes()
    header = struct.pack("<14I", FB_VERSION, 32, FB_SRGB, len(pixels), image.width, image.height,
                         0, 8, 16, 8, 8, 8, 24, 8)
    return header + pixels


def parse_shell_service(service: str) -> tuple[list[str], str] | None:
    """``shell[,arg…]:[command]`` -> (args, command); None if it is not a shell service."""
    head, colon, command = service.partition(":")
    if not colon:
        return None
    name, *args = head.split(",")
    if name != "shell":
        return None
    return args, command


class DeviceServices:
    """The service table of one phone; a fresh handler per stream, the phone model shared."""

    def __init__(self, phone) -> None:
        self.phone = phone
        self.u2 = U2Server(phone)  # one server process: named UiObjects and touches span requests
        self._link_rate: float | None = None

    def route(self, service: str, dialer: Dialer | None = None) -> Handler | None:
        """The handler for ``service``; ``dialer`` opens streams to the host over the same adb
        connection (what ``reverse:forward`` rules use), None where there is no such connection."""
        shell = parse_shell_service(service)
        if shell is not None:
            args, command = shell
            v2 = "v2" in args
            pty = "pty" in args or (not command and "raw" not in args)
            if not command:
                return lambda stream: self._interactive(stream, v2=v2, pty=pty)
            if v2:
                return lambda stream: self._run_v2(stream, command, pty=pty)
            return lambda stream: self._run_raw(stream, command)
        if service.startswith("exec:"):
            command = service[len("exec:"):]
            return lambda stream: self._run_raw(stream, command)
        if service == "sync:":
            return self._sync
        if service == "framebuffer:":
            return self._framebuffer
        if service.startswith("tcp:"):
            port, _, host = service[len("tcp:"):].partition(":")
            if port == U2_PORT and host in _LOCALHOST and self.phone.u2_running:
                return self.u2.serve
            return None
        if service.startswith("reverse:"):
            command = service[len("reverse:"):]
            return lambda stream: self._reverse(stream, command, dialer)
        return None

    # ------------------------------------------------------------------ shell
    def _shell(self, command: str, stdin: bytes) -> ShellResult:
        return Shell(self.phone).run(command, stdin)

    async def _run_raw(self, stream: StreamIO, command: str) -> None:
        """``shell:cmd`` (v1) and ``exec:cmd``: stdout and stderr on one raw stream, then CLSE.

        There is no exit status on such a stream; adbutils appends ``; echo X4EXIT:$?`` and
        parses what follows the last marker, so the output keeps the order in which stdout and
        stderr were written: an error message must land before the marker, as on a real phone.
        """
        need = stdin_size(command)
        stdin = bytearray()
        while len(stdin) < need:
            chunk = await stream.read()
            if not chunk:
                break
            stdin += chunk
        result = self._shell(command, bytes(stdin))
        if not await complete(stream, result):
            return
        output = mixed_output(result)
        if output:
            await stream.write(output)
        if result.hold is not None:
            await result.hold(stream.closed, stream.write)
        await stream.close()

    async def _run_v2(self, stream: StreamIO, command: str, pty: bool) -> None:
        """``shell,v2,…:cmd``: framed stdout/stderr, the exit packet last, then CLSE."""
        need = stdin_size(command)
        stdin = bytearray()
        decoder = shellproto.Decoder()
        while len(stdin) < need:
            chunk = await stream.read()
            if not chunk:
                break
            packets = decoder.feed(chunk)
            stdin += b"".join(data for pid, data in packets if pid == shellproto.STDIN)
            if any(pid == shellproto.CLOSE_STDIN for pid, _ in packets):
                break
        result = self._shell(command, bytes(stdin))
        if not await complete(stream, result):
            return

        async def more(data: bytes) -> None:
            if pty:
                data = data.replace(b"\n", b"\r\n")
            await stream.write(shellproto.encode(shellproto.STDOUT, data))

        if pty:
            # A pty merges the streams and turns "\n" into "\r\n" (onlcr).
            out = shellproto.encode(shellproto.STDOUT, mixed_output(result).replace(b"\n", b"\r\n"))
        else:
            out = shellproto.encode(shellproto.STDOUT, result.stdout) if result.stdout else b""
            if result.stderr:
                out += shellproto.encode(shellproto.STDERR, result.stderr)
        if result.hold is not None:
            if out:
                await stream.write(out)
            await result.hold(stream.closed, more)
            out = b""
        await stream.write(out + shellproto.encode_exit(result.rc))
        await stream.close()

    async def _interactive(self, stream: StreamIO, v2: bool, pty: bool) -> None:
        """A shell with no command: run each line read from the stream; ``exit`` or EOF ends it.

        With a pty (a terminal on the host) the shell echoes what is typed, prints a prompt and
        ends lines with "\r\n"; without one (``echo cmd | adb shell``) it only prints output.
        """
        shell = Shell(self.phone)
        decoder = shellproto.Decoder() if v2 else None
        rc = 0

        async def send(text: bytes) -> None:
            if pty:
                text = text.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            if text:
                await stream.write(shellproto.encode(shellproto.STDOUT, text) if v2 else text)

        async def prompt() -> None:
            if pty:
                device = self.phone.state.props.get("ro.product.device", "android")
                await send((f"{rc}|" if rc else "").encode() + f"{device}:/ $ ".encode())

        await prompt()
        pending = b""
        eof = False
        while not eof:
            chunk = await stream.read()
            eof = not chunk
            if decoder is not None and chunk:
                packets = decoder.feed(chunk)
                eof = any(pid == shellproto.CLOSE_STDIN for pid, _ in packets)
                chunk = b"".join(data for pid, data in packets if pid == shellproto.STDIN)
            if pty and not pending and chunk.startswith(b"\x04"):  # Ctrl-D on an empty line
                break
            typed = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")  # the tty's icrnl
            if pty and typed:
                await send(typed)  # terminal echo
            pending += typed
            *lines, pending = pending.split(b"\n")
            if eof and pending.strip():
                lines.append(pending)  # sh runs an unterminated last line at end of input
            for line in lines:
                command = line.decode("utf-8", "replace").strip()
                if command == "exit":
                    eof = True
                    break
                if command:
                    result = shell.run(command, b"")
                    rc = result.rc
                    if not await complete(stream, result):
                        return
                    await send(mixed_output(result))
                await prompt()
        if v2:
            await stream.write(shellproto.encode_exit(rc))
        await stream.close()

    # ------------------------------------------------------------------ sync
    async def _sync(self, stream: StreamIO) -> None:
        """One sync session, held to the USB link's throughput (``--link``) in both directions.

        The throughput (the link's figure with the phone's jitter) is drawn once per phone: one cable
        and one phone carry every transfer at about the same speed, so two ways of pulling the same
        files (``adb pull`` and the backup) compare on equal terms."""
        session = SyncSession(self.phone.state.fs)
        if self._link_rate is None:
            self._link_rate = self.phone.timing.sync_rate()
        pacer = Pacer(self._link_rate, asyncio.get_running_loop().time)
        while not session.finished:
            data = await stream.read()
            if not data:
                break
            await frames.pause(pacer.spend(len(data)))
            for out in session.feed(data):
                if stream.closed.is_set():
                    break
                await stream.write(out)
                await frames.pause(pacer.spend(len(out)))
        await stream.close()

    # ------------------------------------------------------------------ framebuffer
    async def _framebuffer(self, stream: StreamIO) -> None:
        """adbd's framebuffer service: a version-2 header (sRGB, RGBA_8888), then the raw frame."""
        frame = framebuffer_frame(self.phone.screenshot("png"))
        await frames.pause(self.phone.timing.screenshot())
        await stream.write(frame)
        await stream.close()

    # ------------------------------------------------------------------ reverse
    async def _reverse(self, stream: StreamIO, command: str, dialer: Dialer | None) -> None:
        """adbd's reverse service: run one forward command on the phone's listener table and
        answer inside the stream (OKAY, or FAIL + hex4 length + message), as adbd does."""
        table = table_for(self.phone)
        if command == "list-forward":
            lines = "".join(f"host {remote} {local}\n" for remote, local in table.listing()).encode()
            await stream.write(f"{len(lines):04x}".encode() + lines)
            await stream.close()
            return
        reply = b"OKAY"
        try:
            if command == "killforward-all":
                table.clear()
            elif command.startswith("killforward:"):
                table.remove(command[len("killforward:"):])
            elif command.startswith("forward:"):
                rule = command[len("forward:"):]
                norebind = rule.startswith("norebind:")
                remote, sep, local = rule[len("norebind:") if norebind else 0:].partition(";")
                if not sep:
                    raise ReverseError("bad forward: missing ';'")
                if dialer is None:
                    raise ReverseError("cannot bind listener: no connection to the host")
                bound = table.forward(remote, local, dialer, norebind)
                if remote == "tcp:0":
                    port = bound[len("tcp:"):].encode()
                    reply += f"{len(port):04x}".encode() + port
            else:
                raise ReverseError(f"unknown reverse command '{command}'")
        except ReverseError as exc:
            message = str(exc).encode()
            reply = b"FAIL" + f"{len(message):04x}".encode() + message
        await stream.write(reply)
        await stream.close()
