"""Service routing and the shell/sync/reverse handlers, over an in-memory StreamIO (no sockets)."""

from __future__ import annotations

import asyncio
import struct

import pytest

from miui_automator.sim import shellproto
from miui_automator.sim.phone import Phone
from miui_automator.sim.services import DeviceServices, parse_shell_service, stdin_size
from miui_automator.sim.shell import ShellResult


class MemoryStream:
    """StreamIO fed from a list of host writes; the host closes after them unless ``keep_open``."""

    def __init__(self, chunks: list[bytes] = (), keep_open: bool = False) -> None:
        self._chunks = list(chunks)
        self._keep_open = keep_open
        self._closed = asyncio.Event()
        self.written: list[bytes] = []
        self.device_closed = False

    @property
    def closed(self) -> asyncio.Event:
        return self._closed

    async def read(self) -> bytes:
        if self._chunks:
            return self._chunks.pop(0)
        if not self._keep_open:
            self._closed.set()
        await self._closed.wait()
        return b""

    async def write(self, data: bytes) -> None:
        assert not self.device_closed, "write after close"
        self.written.append(bytes(data))

    async def close(self) -> None:
        self.device_closed = True
        self._closed.set()

    @property
    def output(self) -> bytes:
        return b"".join(self.written)


@pytest.fixture(scope="module")
def services() -> DeviceServices:
    return DeviceServices(Phone("hyperos1-en", media_files=0))


def run(services: DeviceServices, service: str, stream: MemoryStream) -> MemoryStream:
    handler = services.route(service)
    assert handler is not None, service
    asyncio.run(handler(stream))
    assert stream.device_closed
    return stream


@pytest.mark.parametrize("service", [
    "tcp:9008", "tcp:5555", "tcp:9008:10.0.0.2", "localabstract:minicap", "localfilesystem:/x", "dev:/dev/null",
    "root:", "unroot:", "remount:", "reboot:", "tcpip:5555", "usb:", "jdwp:1234", "track-jdwp",
    "abb:package\0list", "abb_exec:package", "sink:10", "source:10", "backup:all", "shellx:id", "bogus",
])
def test_refused_services(services, service):
    assert services.route(service) is None


def test_u2_port_accepts_only_while_the_server_runs(services):
    phone = services.phone
    phone.u2_running = True
    try:
        assert services.route("tcp:9008") is not None
        assert services.route("tcp:9008:localhost") is not None
    finally:
        phone.u2_running = False
    assert services.route("tcp:9008") is None


def test_parse_shell_service():
    assert parse_shell_service("shell,v2,TERM=xterm,raw:echo hi") == (["v2", "TERM=xterm", "raw"], "echo hi")
    assert parse_shell_service("shell:") == ([], "")
    assert parse_shell_service("shell:a:b") == ([], "a:b")
    assert parse_shell_service("shell") is None
    assert parse_shell_service("exec:id") is None


def test_shell_v1_sends_raw_output_then_closes(services):
    stream = run(services, "shell:getprop ro.product.model", MemoryStream())
    assert stream.output == b"23078PND5G\n"


def test_shell_v2_frames_output_and_sends_the_exit_code_last(services):
    stream = run(services, "shell,v2,raw:false", MemoryStream())
    assert shellproto.Decoder().feed(stream.output) == [(shellproto.EXIT, b"\x01")]
    stream = run(services, "shell,v2:echo hi", MemoryStream())
    assert shellproto.Decoder().feed(stream.output) == [(shellproto.STDOUT, b"hi\n"), (shellproto.EXIT, b"\x00")]


def test_shell_v2_pty_turns_newlines_into_crlf(services):
    stream = run(services, "shell,v2,pty:echo hi", MemoryStream())
    assert shellproto.Decoder().feed(stream.output)[0] == (shellproto.STDOUT, b"hi\r\n")


def test_raw_interactive_shell_runs_each_line_without_prompt(services):
    stream = run(services, "shell,v2,raw:", MemoryStream([
        shellproto.encode(shellproto.STDIN, b"echo one\necho t"),
        shellproto.encode(shellproto.STDIN, b"wo\nfalse\n") + shellproto.encode(shellproto.CLOSE_STDIN),
    ]))
    packets = shellproto.Decoder().feed(stream.output)
    assert b"".join(p for pid, p in packets if pid == shellproto.STDOUT) == b"one\ntwo\n"
    assert packets[-1] == (shellproto.EXIT, b"\x01")


def test_pty_interactive_shell_echoes_prompts_and_stops_at_exit(services):
    stream = run(services, "shell:", MemoryStream([b"echo hi\r", b"exit\r", b"echo never\r"], keep_open=True))
    text = stream.output.decode()
    assert text.startswith("corot:/ $ echo hi\r\n")
    assert "hi\r\ncorot:/ $ " in text and "never" not in text


def test_held_command_writes_output_first_and_closes_after_the_host_does(services, monkeypatch):
    async def hold(closed: asyncio.Event, write) -> None:
        await closed.wait()

    monkeypatch.setattr(services, "_shell", lambda command, stdin: ShellResult(stdout=b"started\n", hold=hold))

    async def scenario() -> MemoryStream:
        stream = MemoryStream(keep_open=True)
        task = asyncio.ensure_future(services.route("shell:app_process / com.wetest.uia2.Main")(stream))
        for _ in range(20):
            await asyncio.sleep(0)
        assert stream.output == b"started\n" and not stream.device_closed
        stream.closed.set()  # the host closes the launch stream
        await asyncio.wait_for(task, 1)
        return stream

    stream = asyncio.run(scenario())
    assert stream.device_closed


def test_streamed_install_reads_exactly_the_announced_stdin(services, monkeypatch):
    received = []
    monkeypatch.setattr(services, "_shell", lambda command, stdin: received.append(stdin) or ShellResult(b"Success\n"))
    assert stdin_size("cmd package 'install' -S 7") == 7
    assert stdin_size("echo -S 7") == 0
    # The host keeps the stream open: the handler must run once it has 7 bytes, not wait for EOF.
    stream = MemoryStream([b"APK", b"DATA", b"extra"], keep_open=True)
    asyncio.run(asyncio.wait_for(services.route("exec:cmd package 'install' -S 7")(stream), 2))
    assert received == [b"APKDATA"] and stream.output == b"Success\n"


def test_sync_service_answers_requests_until_quit(services):
    path = b"/sdcard"
    stream = run(services, "sync:", MemoryStream([b"STAT" + struct.pack("<I", len(path)) + path, b"QUIT\0\0\0\0"],
                                                 keep_open=True))
    assert len(stream.written) == 1 and stream.written[0][:4] == b"STAT"


def test_reverse_rules_are_added_listed_and_removed_with_adbd_replies():
    services = DeviceServices(Phone("hyperos1-en", media_files=0))

    async def dialer(service: str):
        return None

    def reverse(command: str) -> bytes:
        stream = MemoryStream()
        asyncio.run(services.route("reverse:" + command, dialer)(stream))
        return stream.output

    assert reverse("list-forward") == b"0000"
    assert reverse("forward:tcp:6100;tcp:7100") == b"OKAY"
    bound = reverse("forward:tcp:0;tcp:7200")
    assert bound[:4] == b"OKAY" and int(bound[4:8], 16) == len(bound) - 8 and int(bound[8:]) > 0
    listing = reverse("list-forward")
    lines = listing[4:].decode().splitlines()
    assert int(listing[:4], 16) == len(listing) - 4
    assert [line.split()[1:] for line in lines] == [["tcp:6100", "tcp:7100"], [f"tcp:{int(bound[8:])}", "tcp:7200"]]
    refused = reverse("forward:norebind:tcp:6100;tcp:7300")
    assert refused == b"FAIL" + f"{len(b'cannot rebind existing socket'):04x}".encode() + b"cannot rebind existing socket"
    assert reverse("killforward:tcp:6100") == b"OKAY"
    assert reverse("killforward:tcp:6100").startswith(b"FAIL")
    assert reverse("killforward-all") == b"OKAY" and reverse("list-forward") == b"0000"


def test_reverse_forward_without_a_host_connection_fails_in_stream(services):
    out = run(services, "reverse:forward:tcp:1234;tcp:1234", MemoryStream()).output
    assert out[:4] == b"FAIL" and int(out[4:8], 16) == len(out) - 8


def test_nc_to_a_reversed_port_reaches_the_host_and_prints_its_reply():
    phone = Phone("hyperos1-en", media_files=0)
    services = DeviceServices(phone)
    host_side = MemoryStream([b"HELLO\n"])
    opened: list[str] = []

    async def dialer(service: str):
        opened.append(service)
        return host_side

    asyncio.run(services.route("reverse:forward:tcp:6100;tcp:7100", dialer)(MemoryStream()))
    shell = run(services, "shell:echo hello | nc localhost 6100", MemoryStream(keep_open=True))
    assert opened == ["tcp:7100"] and host_side.output == b"hello\n" and shell.output == b"HELLO\n"
    refused = run(services, "shell,v2,raw:nc localhost 6200", MemoryStream())
    assert b"Connection refused" in refused.output


def test_framebuffer_sends_an_srgb_rgba_header_and_the_frame(services):
    out = run(services, "framebuffer:", MemoryStream(keep_open=True)).output
    version, bpp, colorspace, size, width, height, *channels = struct.unpack_from("<14I", out)
    assert (version, bpp, colorspace, width, height) == (2, 32, 1, 1080, 2400)
    assert channels == [0, 8, 16, 8, 8, 8, 24, 8] and size == width * height * 4 == len(out) - 56


class _GatedHash:
    """Stands in for hashlib in sim/vfs.py: each hash waits for ``release`` and notes its thread."""

    def __init__(self) -> None:
        import hashlib
        import threading

        self.release = threading.Event()
        self.threads: list[threading.Thread] = []
        self._hashlib = hashlib
        self._threading = threading

    def new(self, name, data=b""):
        self.threads.append(self._threading.current_thread())
        self.release.wait(5)
        return self._hashlib.new(name, data)


def test_md5sum_hashes_off_the_loop_while_the_phone_serves_other_streams(services, monkeypatch):
    # A phone hashes on its own cores while adbd goes on serving USB: a long md5sum must not stall a transfer.
    import hashlib
    import threading

    from miui_automator.sim import vfs

    gated = _GatedHash()
    monkeypatch.setattr(vfs, "hashlib", gated)
    services.phone.state.fs.write("/sdcard/a.bin", b"x" * 5000)
    md5_stream, echo_stream = MemoryStream(), MemoryStream()

    async def both() -> None:
        md5 = asyncio.ensure_future(services.route("shell:md5sum /sdcard/a.bin")(md5_stream))
        await asyncio.sleep(0)  # md5sum starts first
        await asyncio.wait_for(services.route("shell:echo served")(echo_stream), 2)
        assert not md5.done() and echo_stream.output == b"served\n"
        gated.release.set()
        await asyncio.wait_for(md5, 5)

    asyncio.run(both())
    assert gated.threads and gated.threads[0] is not threading.main_thread()
    assert md5_stream.output == f"{hashlib.md5(b'x' * 5000).hexdigest()}  /sdcard/a.bin\n".encode()


def test_deferred_hash_output_reads_the_same_from_every_caller(services):
    import hashlib

    from miui_automator.sim.shell import Shell

    services.phone.state.fs.write("/sdcard/b.bin", b"y" * 3000)
    digest = hashlib.sha256(b"y" * 3000).hexdigest()
    result = Shell(services.phone).run("sha256sum /sdcard/b.bin /sdcard/none; echo X4EXIT:$?")
    assert not result.settled  # left for the transport to compute off the loop
    assert result.combined.decode() == (f"{digest}  /sdcard/b.bin\nsha256sum: /sdcard/none: No such file or directory\n"
                                        "X4EXIT:1\n")
    piped = Shell(services.phone).run("sha256sum /sdcard/b.bin | cut -d' ' -f1")
    assert piped.settled and piped.stdout.decode() == digest + "\n"  # a pipe reads the bytes at once


def test_every_transfer_of_one_phone_runs_at_the_same_link_speed(monkeypatch):
    # adb pull and the backup compare on one cable: the link's jitter is drawn once per phone, not per session.
    from miui_automator.sim.timing import Timing

    phone = Phone("hyperos1-en", media_files=0, timing=Timing("instant", "usb3"))
    draws: list[float] = []
    real = phone.timing.sync_rate
    monkeypatch.setattr(phone.timing, "sync_rate", lambda: draws.append(real()) or draws[-1])
    services = DeviceServices(phone)
    for _ in range(3):
        run(services, "sync:", MemoryStream([b"QUIT\0\0\0\0"]))
    assert len(draws) == 1 and 200e6 <= draws[0] <= 300e6


def test_a_file_hashed_before_and_unchanged_is_not_hashed_again_but_a_changed_one_is(services, monkeypatch):
    # the host's CPU stands in for the phone's: a tree hashed twice costs it once; a change is always seen
    import hashlib

    from miui_automator.sim import vfs
    from miui_automator.sim.shell import Shell

    fs = services.phone.state.fs
    fs.write("/sdcard/c.bin", b"z" * 3000)
    calls: list[str] = []
    real_new = hashlib.new

    class Counting:
        @staticmethod
        def new(name, data=b""):
            calls.append(name)
            return real_new(name, data)

    monkeypatch.setattr(vfs, "hashlib", Counting)
    run = lambda: Shell(services.phone).run("md5sum /sdcard/c.bin").stdout.decode().split()[0]  # noqa: E731
    assert run() == run() == hashlib.md5(b"z" * 3000).hexdigest() and calls == ["md5"]
    fs.lookup("/sdcard/c.bin").content().extend(b"!")  # what the "changing" fault does: size and mtime move
    fs.lookup("/sdcard/c.bin").mtime += 1
    assert run() == hashlib.md5(b"z" * 3000 + b"!").hexdigest() and calls == ["md5", "md5"]
