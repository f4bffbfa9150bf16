"""How many send()s carry the simulated adbd's messages: one per event-loop pass and connection.

The connection is driven with the ADB packets the adb server sends, over a transport that
records each write; the bytes and their order are what adbd sends, only how they are grouped is checked.
"""

from __future__ import annotations

import asyncio
import json

from miui_automator.sim import wire
from miui_automator.sim.http11 import CONTINUE
from miui_automator.sim.phone import Phone
from miui_automator.sim.transport import AdbdServer, _AdbdProtocol

HOST_ID = 7
WAIT_S = 5.0


class RecordingTransport(asyncio.Transport):
    """A socket that keeps every write apart: one entry per send()."""

    def __init__(self) -> None:
        super().__init__()
        self.sends: list[list[tuple[str, bytes]]] = []

    def get_extra_info(self, name, default=None):
        return default

    def set_write_buffer_limits(self, high=None, low=None) -> None:
        pass

    def write(self, data) -> None:
        self.sends.append([(m.name, m.data) for m in wire.MessageParser().feed(bytes(data))])

    def is_closing(self) -> bool:
        return False

    def abort(self) -> None:
        pass


async def until(condition) -> None:
    """Let the loop run until ``condition()`` holds (at most WAIT_S)."""
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.001)


async def open_u2(phone: Phone) -> tuple[AdbdServer, _AdbdProtocol, RecordingTransport, int]:
    """A connection past the handshake with tcp:9008 open; returns the device's stream id."""
    phone.u2_running = True
    server = AdbdServer(phone)
    link = _AdbdProtocol(server)
    pipe = RecordingTransport()
    link.connection_made(pipe)
    link.data_received(wire.pack_message(wire.A_CNXN, wire.A_VERSION, wire.MAX_PAYLOAD, b"host::\0"))
    await until(lambda: len(pipe.sends) == 1)
    link.data_received(wire.pack_message(wire.A_OPEN, HOST_ID, 0, b"tcp:9008\0"))
    await until(lambda: len(pipe.sends) == 2)
    [(name, _)] = pipe.sends[1]
    assert name == "OKAY"
    return server, link, pipe, link.conn.stream_ids[0]


def host_write(link: _AdbdProtocol, local_id: int, data: bytes) -> None:
    link.data_received(wire.pack_message(wire.A_WRTE, HOST_ID, local_id, data))


def host_okay(link: _AdbdProtocol, local_id: int) -> None:
    link.data_received(wire.pack_message(wire.A_OKAY, HOST_ID, local_id))


def rpc(method: str, *params) -> tuple[bytes, bytes]:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
    return f"POST /jsonrpc/0 HTTP/1.1\r\nContent-Length: {len(body)}\r\n\r\n".encode(), body


def test_the_okay_of_a_request_head_leaves_with_the_interim_answer_it_woke():
    """Old code: the OKAY went while the head was being received and the 100 Continue in a send of its own."""
    async def main():
        server, link, pipe, local_id = await open_u2(Phone("miui12.5-en"))
        head, _ = rpc("deviceInfo")
        host_write(link, local_id, head)
        await until(lambda: len(pipe.sends) == 3)
        assert pipe.sends[2] == [("OKAY", b""), ("WRTE", CONTINUE)]
        server.cancel_tasks()

    asyncio.run(main())


def test_an_answer_given_at_once_leaves_with_the_okay_of_its_request_and_the_clse():
    async def main():
        server, link, pipe, local_id = await open_u2(Phone("miui12.5-en"))
        host_write(link, local_id, b"GET /ping HTTP/1.1\r\n\r\n")
        await until(lambda: len(pipe.sends) == 3)
        [okay, (wrte, answer), clse] = pipe.sends[2]
        assert (okay, wrte, clse) == (("OKAY", b""), "WRTE", ("CLSE", b"")) and answer.endswith(b"\r\n\r\npong")

    asyncio.run(main())


def test_an_okay_is_not_held_for_an_answer_that_waits_on_the_phones_clock():
    """The host sends nothing more on the stream until that OKAY: it must leave in the pass that made it."""
    async def main():
        server, link, pipe, local_id = await open_u2(Phone("miui12.5-en", timing="phone"))
        head, body = rpc("dumpWindowHierarchy", False, 50)
        host_write(link, local_id, head)
        await until(lambda: len(pipe.sends) == 3)
        host_okay(link, local_id)
        host_write(link, local_id, body)
        await until(lambda: len(pipe.sends) == 4)
        assert pipe.sends[3] == [("OKAY", b"")]
        await until(lambda: len(pipe.sends) == 5)  # the phone's time to dump
        assert [name for name, _ in pipe.sends[4]] == ["WRTE", "CLSE"]

    asyncio.run(main())
