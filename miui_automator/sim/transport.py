"""Sockets for the simulated adbd: the only module of the simulator that does I/O.

One :class:`AdbdServer` per phone listens on a loopback TCP port (the adb server attaches with
``adb connect 127.0.0.1:PORT``). Every accepted socket gets its own sans-IO
:class:`~miui_automator.sim.wire.DeviceConnection`; each accepted OPEN becomes an
:class:`AdbStream` handed to the service the phone routes it to. Everything runs on one asyncio
loop, the same thread that owns the phone model.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections import deque

from . import wire
from .reverse import table_for
from .services import DeviceServices, Handler

log = logging.getLogger(__name__)

# Let the kernel queue a few full-size WRTEs before the socket counts as congested.
WRITE_BUFFER_HIGH = 4 * wire.MAX_PAYLOAD
# adbd joins a service to its ADB stream with a socket pair, whose kernel buffer holds about this much each way.
SERVICE_BUFFER = 256 * 1024


class AdbStream:
    """:class:`~miui_automator.sim.streamio.StreamIO` over one ADB stream, buffered as adbd's socket pair is.

    adbd hands a host WRTE to its service by writing it into a socket pair and OKAYs it as soon as
    the write went through, so the host's next WRTE (a client's pipelined requests) never waits for
    the service to read: here a host WRTE is OKAYed at once while at most :data:`SERVICE_BUFFER`
    bytes wait unread, and otherwise when the reader takes it, so a service that stops reading
    stalls only its own stream. The other way, adbd sends one WRTE at a time (one in flight until
    the host's OKAY) holding whatever the service has written meanwhile, up to the max payload:
    :meth:`write` queues its bytes and returns while at most :data:`SERVICE_BUFFER` wait, and each
    WRTE carries all the queued writes that fit whole (never splitting one that fits, since
    adbutils reads a sync reply with a bare ``recv(n)``). Writing to a closed stream discards the
    data; :meth:`close` sends what is queued first, as adbd drains the socket pair before CLSE.
    """

    def __init__(self, link: "_AdbdProtocol", local_id: int) -> None:
        self._link = link
        self.local_id = local_id
        self._closed = asyncio.Event()
        self._window = asyncio.Event()  # set by the host's OKAY: what dial() waits for
        self._window.set()
        self._readable = asyncio.Event()
        self._inbox: deque[bytes] = deque()
        self._inbox_bytes = 0
        self._ack_owed = False  # a host WRTE waits for its OKAY until the reader makes room
        self._outbox: deque[bytes] = deque()
        self._outbox_bytes = 0
        self._room = asyncio.Event()  # at most SERVICE_BUFFER bytes wait to be sent
        self._room.set()
        self._drained = asyncio.Event()  # nothing waits to be sent
        self._drained.set()

    @property
    def closed(self) -> asyncio.Event:
        return self._closed

    async def read(self) -> bytes:
        while not self._inbox:
            if self._closed.is_set():
                return b""
            self._readable.clear()
            await self._readable.wait()
        data = self._inbox.popleft()
        self._inbox_bytes -= len(data)
        if self._ack_owed and self._inbox_bytes <= SERVICE_BUFFER:
            self._ack_owed = False
            self._link.ack(self.local_id)
        return data

    async def write(self, data: bytes) -> None:
        total = len(data)
        if not total or self._closed.is_set():
            return
        size = self._link.max_payload
        if total <= size:
            self._outbox.append(data if isinstance(data, bytes) else bytes(data))
        else:
            view = memoryview(data)
            self._outbox.extend(bytes(view[start:start + size]) for start in range(0, total, size))
        self._outbox_bytes += total
        self._drained.clear()
        self._pump()
        while self._outbox_bytes > SERVICE_BUFFER and not self._closed.is_set():
            self._room.clear()
            await self._room.wait()

    async def close(self) -> None:
        if self._closed.is_set():
            return
        try:
            await self._drained.wait()
        finally:  # a cancelled service still closes its stream
            if not self._closed.is_set():
                self._link.close_stream(self.local_id)
                self._mark_closed()

    def _pump(self) -> None:
        """Send the next WRTE if the host's OKAY for the last one is in and the connection is not congested."""
        # The connection's own flag, not the window event: one packet can hold two OKAYs for one WRTE (the adb
        # server sends one per partial flush), and the second must not let a second WRTE go.
        if self._outbox and self._link.can_send(self.local_id) and self._link.can_write:
            limit = self._link.max_payload
            parts = [self._outbox.popleft()]
            size = len(parts[0])
            while self._outbox and size + len(self._outbox[0]) <= limit:
                parts.append(self._outbox.popleft())
                size += len(parts[-1])
            self._outbox_bytes -= size
            self._link.write(self.local_id, parts[0] if len(parts) == 1 else b"".join(parts))
        if self._outbox_bytes <= SERVICE_BUFFER:
            self._room.set()
        if not self._outbox:
            self._drained.set()

    # Called by the connection.
    def _feed(self, data: bytes) -> None:
        self._inbox.append(data)
        self._inbox_bytes += len(data)
        self._readable.set()
        if self._inbox_bytes <= SERVICE_BUFFER:
            self._link.ack(self.local_id)
        else:
            self._ack_owed = True

    def _open_window(self) -> None:
        self._window.set()
        self._pump()

    def _mark_closed(self) -> None:
        self._outbox.clear()
        self._outbox_bytes = 0
        self._closed.set()
        self._readable.set()
        self._window.set()
        self._room.set()
        self._drained.set()


class _AdbdProtocol(asyncio.Protocol):
    """One TCP connection from the adb server."""

    def __init__(self, server: "AdbdServer") -> None:
        self.server = server
        self.conn = wire.DeviceConnection(
            banner=wire.device_banner(server.phone.banner()),
            require_auth=server.require_auth,
            trusted=server.trusted,
        )
        self.transport: asyncio.Transport | None = None
        self.streams: dict[int, AdbStream] = {}
        self._can_write = True  # False while the socket is congested (asyncio's pause_writing)

    # ------------------------------------------------------------------ asyncio callbacks
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        transport.set_write_buffer_limits(high=WRITE_BUFFER_HIGH)
        self.server.connections.add(self)

    def data_received(self, data: bytes) -> None:
        try:
            events = self.conn.receive(data)
        except wire.ProtocolError as e:
            log.warning("%s: dropping connection: %s", self.server.name, e)
            self.abort()
            return
        for event in events:
            self._dispatch(event)
        self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)
        table_for(self.server.phone).drop(self.dial)
        self._drop_streams(tuple(self.streams))

    def pause_writing(self) -> None:
        self._can_write = False

    def resume_writing(self) -> None:
        self._can_write = True
        for stream in list(self.streams.values()):
            stream._pump()

    # ------------------------------------------------------------------ events
    def _dispatch(self, event: wire.Event) -> None:
        if isinstance(event, wire.StreamData):
            stream = self.streams.get(event.local_id)
            if stream is not None:
                stream._feed(event.data)
        elif isinstance(event, wire.StreamReady):
            stream = self.streams.get(event.local_id)
            if stream is not None:
                stream._open_window()
        elif isinstance(event, wire.OpenRequest):
            self._open(event)
        elif isinstance(event, wire.StreamClosed):
            self._drop_streams((event.local_id,))
        elif isinstance(event, wire.Reset):
            self._drop_streams(event.local_ids)
            table_for(self.server.phone).drop(self.dial)  # a new transport starts with no reverse rules
        elif isinstance(event, wire.AuthRequired):
            log.info("%s: host key presented, waiting for authorization", self.server.name)

    def _open(self, request: wire.OpenRequest) -> None:
        handler = self.server.services.route(request.service, self.dial)
        if handler is None:
            log.debug("%s: refused %r", self.server.name, request.service)
            self.conn.refuse(request.host_id)
            return
        local_id = self.conn.accept(request.host_id)
        stream = AdbStream(self, local_id)
        self.streams[local_id] = stream
        self.server.spawn(self._serve(handler, stream, request.service))

    async def _serve(self, handler: Handler, stream: AdbStream, service: str) -> None:
        try:
            await handler(stream)
        except Exception:
            log.exception("%s: service %r failed", self.server.name, service)
        finally:
            await stream.close()

    def _drop_streams(self, local_ids: tuple[int, ...]) -> None:
        for local_id in local_ids:
            stream = self.streams.pop(local_id, None)
            if stream is not None:
                stream._mark_closed()

    async def dial(self, service: str) -> AdbStream | None:
        """Open a stream to the host (a ``reverse:forward`` target); None if the host refuses."""
        local_id = self.conn.open(service)
        stream = AdbStream(self, local_id)
        stream._window.clear()  # nothing may be written before the host's OKAY
        self.streams[local_id] = stream
        self._flush()
        await stream._window.wait()  # opened by that OKAY, or by the CLSE of a refusal
        return None if stream.closed.is_set() else stream

    # ------------------------------------------------------------------ used by AdbStream
    @property
    def max_payload(self) -> int:
        return self.conn.max_payload

    @property
    def can_write(self) -> bool:
        return self._can_write

    def can_send(self, local_id: int) -> bool:
        return self.conn.can_send(local_id)

    def write(self, local_id: int, data: bytes) -> None:
        if self.conn.is_open(local_id):
            self.conn.write(local_id, data)
            self._flush()

    def ack(self, local_id: int) -> None:
        self.conn.ack(local_id)
        self._flush()

    def close_stream(self, local_id: int) -> None:
        self.streams.pop(local_id, None)
        self.conn.close(local_id)
        self._flush()

    def authorize(self) -> None:
        self.conn.authorize()
        self._flush()

    def _flush(self) -> None:
        data = self.conn.data_to_send()
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


class AdbdServer:
    """The simulated adbd of one phone: a listening socket and its connections.

    ``stop()`` is like killing adbd or pulling the cable (listener closed, connections dropped);
    ``start()`` listens again on the same port, and the adb server re-attaches by itself.
    """

    def __init__(self, phone, host: str = "127.0.0.1", port: int = 0, require_auth: bool = False) -> None:
        self.phone = phone
        self.host = host
        self.port = port
        self.require_auth = require_auth
        self.trusted = False
        self.services = DeviceServices(phone)
        self.connections: set[_AdbdProtocol] = set()
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task] = set()

    @property
    def name(self) -> str:
        return f"adbd@{self.host}:{self.port}"

    @property
    def listening(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        if self._server is not None:
            return
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _AdbdProtocol(self), self.host, self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        """Stop listening and drop every connection at once (synchronous, so it is safe from callbacks)."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for link in list(self.connections):
            link.abort()

    def authorize(self) -> None:
        """Trust the host: pending connections come online, later ones are accepted after AUTH."""
        self.trusted = True
        for link in list(self.connections):
            link.authorize()

    def spawn(self, coro) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def cancel_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()
