"""AdbStream buffers both ways as adbd's socket pair to a service does (no sockets: a fake link)."""

from __future__ import annotations

import asyncio

from miui_automator.sim import transport
from miui_automator.sim.transport import AdbStream


class FakeLink:
    """What an AdbStream asks of its connection; WRTEs and OKAYs are recorded, one WRTE in flight at a time."""

    def __init__(self, max_payload: int = 100) -> None:
        self.max_payload = max_payload
        self.can_write = True
        self.sent: list[bytes] = []
        self.acks = 0
        self.closed = False
        self._can_send = True

    def can_send(self, local_id: int) -> bool:
        return self._can_send and not self.closed

    def write(self, local_id: int, data: bytes) -> None:
        assert self._can_send, "a second WRTE while one is in flight"
        assert len(data) <= self.max_payload
        self._can_send = False
        self.sent.append(bytes(data))

    def ack(self, local_id: int) -> None:
        self.acks += 1

    def close_stream(self, local_id: int) -> None:
        self.closed = True

    def okay(self, stream: AdbStream, times: int = 1) -> None:
        """The host's OKAY for the WRTE in flight; the adb server may send two for one (one per partial flush),
        and both are in the connection's state before the stream hears of the first."""
        self._can_send = True
        for _ in range(times):
            stream._open_window()


def run(coro):
    return asyncio.run(coro)


def test_host_writes_are_okayed_on_arrival_while_the_service_buffer_has_room():
    """Old code: OKAY only when the service read, so a client's pipelined requests waited for the service."""
    async def main():
        link = FakeLink()
        stream = AdbStream(link, 1)
        stream._feed(b"RECV one")
        stream._feed(b"RECV two")
        assert link.acks == 2  # nothing read yet
        stream._feed(b"x" * transport.SERVICE_BUFFER)  # the buffer is full: this one waits for the reader
        assert link.acks == 2
        assert await stream.read() == b"RECV one"
        assert link.acks == 2
        assert await stream.read() == b"RECV two"  # room again for what waits
        assert link.acks == 3

    run(main())


def test_writes_made_while_a_wrte_is_in_flight_leave_together_never_split():
    """Old code: one WRTE per write, each waiting for the host's OKAY of the last: a round trip per small file."""
    async def main():
        link = FakeLink(max_payload=100)
        stream = AdbStream(link, 1)
        await stream.write(b"a" * 10)  # goes at once
        for part in (b"b" * 30, b"c" * 30, b"d" * 50):
            await asyncio.wait_for(stream.write(part), 1)  # queued, not waiting for the OKAY
        assert link.sent == [b"a" * 10]
        link.okay(stream, times=2)  # two OKAYs for one WRTE let one WRTE go, not two
        assert link.sent == [b"a" * 10, b"b" * 30 + b"c" * 30]  # d would not fit whole: it waits
        link.okay(stream)
        assert link.sent[2:] == [b"d" * 50]

    run(main())


def test_a_write_larger_than_the_payload_is_split_and_the_writer_waits_while_the_buffer_is_full():
    async def main():
        link = FakeLink(max_payload=transport.SERVICE_BUFFER)
        stream = AdbStream(link, 1)
        big = bytes(range(256)) * (3 * transport.SERVICE_BUFFER // 256)
        writer = asyncio.ensure_future(stream.write(big))
        await asyncio.sleep(0)
        assert not writer.done() and link.sent == [big[:transport.SERVICE_BUFFER]]
        link.okay(stream)
        await asyncio.sleep(0)
        assert writer.done()  # one payload left queued: the service may go on
        link.okay(stream)
        assert b"".join(link.sent) == big

    run(main())


def test_close_sends_what_is_queued_before_the_clse():
    async def main():
        link = FakeLink(max_payload=10)
        stream = AdbStream(link, 1)
        await stream.write(b"first")
        await asyncio.wait_for(stream.write(b"last"), 1)
        closing = asyncio.ensure_future(stream.close())
        await asyncio.sleep(0)
        assert not closing.done() and not link.closed
        link.okay(stream)
        await asyncio.wait_for(closing, 1)
        assert link.sent == [b"first", b"last"] and link.closed and stream.closed.is_set()

    run(main())


def test_a_stream_the_host_closed_drops_what_is_queued():
    async def main():
        link = FakeLink(max_payload=10)
        stream = AdbStream(link, 1)
        await stream.write(b"first")
        await asyncio.wait_for(stream.write(b"never"), 1)
        stream._mark_closed()
        await asyncio.wait_for(stream.close(), 1)
        await stream.write(b"after")
        assert link.sent == [b"first"] and not link.closed  # the host closed it: no CLSE of ours
        assert await stream.read() == b""

    run(main())
