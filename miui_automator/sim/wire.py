"""The ADB transport protocol as seen from the device side, with no I/O (sans-IO).

Bytes from the adb server go in through :meth:`DeviceConnection.receive`, which returns
events (a stream was requested, data arrived, the window opened, a stream closed); what the
device must send back accumulates in an outbox that the transport drains with
:meth:`DeviceConnection.data_to_send`. Keeping sockets out of this module lets the unit
tests drive the exact packet sequences the real adb server produces.

The rules follow what real adbd does and what the adb 36 server checks (the integration tests
in tests/integration/test_adb_wire.py drive the real server against them): answer the host's CNXN with ours, send OPEN only for
a ``reverse:forward`` target the host set up (the server aborts on any other device OPEN; the
caller, :mod:`.reverse`, keeps to that), at most one WRTE in flight per stream,
OKAY after every consumed host WRTE, and never a payload larger than the negotiated maximum.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

A_SYNC = 0x434E5953
A_CNXN = 0x4E584E43
A_AUTH = 0x48545541
A_OPEN = 0x4E45504F
A_OKAY = 0x59414B4F
A_CLSE = 0x45534C43
A_WRTE = 0x45545257
A_STLS = 0x534C5453

COMMAND_NAMES = {A_SYNC: "SYNC", A_CNXN: "CNXN", A_AUTH: "AUTH", A_OPEN: "OPEN", A_OKAY: "OKAY",
                 A_CLSE: "CLSE", A_WRTE: "WRTE", A_STLS: "STLS"}

A_VERSION_MIN = 0x01000000
A_VERSION_SKIP_CHECKSUM = 0x01000001
A_VERSION = A_VERSION_SKIP_CHECKSUM
MAX_PAYLOAD_V1 = 4096
MAX_PAYLOAD = 0x100000

AUTH_TOKEN = 1
AUTH_SIGNATURE = 2
AUTH_RSAPUBLICKEY = 3
TOKEN_SIZE = 20

# Only what the simulated device really implements. No delayed_ack (it changes flow control),
# no sendrecv_v2_{brotli,lz4,zstd} (the CLI would compress push/pull data), no abb.
FEATURES = ("shell_v2", "cmd", "stat_v2", "ls_v2", "fixed_push_mkdir", "fixed_push_symlink_timestamp", "sendrecv_v2")

HEADER = struct.Struct("<6I")
HEADER_SIZE = HEADER.size


class ProtocolError(Exception):
    """The peer broke the framing (bad magic, oversized payload): the connection must be dropped."""


@dataclass(frozen=True)
class Message:
    command: int
    arg0: int
    arg1: int
    data: bytes = b""

    @property
    def name(self) -> str:
        return COMMAND_NAMES.get(self.command, f"{self.command:08x}")

    def pack(self, with_checksum: bool = True) -> bytes:
        return pack_message(self.command, self.arg0, self.arg1, self.data, with_checksum)


def checksum(data: bytes) -> int:
    """ADB's "crc" field: a plain byte sum (hosts no longer verify it)."""
    return sum(data) & 0xFFFFFFFF


def pack_message(command: int, arg0: int, arg1: int, data: bytes = b"", with_checksum: bool = True) -> bytes:
    check = checksum(data) if with_checksum and data else 0
    return HEADER.pack(command, arg0, arg1, len(data), check, command ^ 0xFFFFFFFF) + data


class MessageParser:
    """Incremental parser: feed any slicing of the byte stream, get whole messages back."""

    def __init__(self, max_payload: int = MAX_PAYLOAD) -> None:
        self.max_payload = max_payload
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Message]:
        buf = self._buf
        buf += data
        out: list[Message] = []
        offset = 0
        end = len(buf)
        while end - offset >= HEADER_SIZE:
            command, arg0, arg1, length, _check, magic = HEADER.unpack_from(buf, offset)
            if magic != command ^ 0xFFFFFFFF:
                raise ProtocolError(f"bad magic {magic:08x} for command {command:08x}")
            if length > self.max_payload:
                raise ProtocolError(f"payload of {length} bytes is over the maximum {self.max_payload}")
            if end - offset - HEADER_SIZE < length:
                break
            start = offset + HEADER_SIZE
            out.append(Message(command, arg0, arg1, bytes(buf[start:start + length])))
            offset = start + length
        if offset:
            del buf[:offset]
        return out


# ----------------------------------------------------------------------------- events
@dataclass(frozen=True)
class Online:
    """The handshake finished: the host now sees the device in state ``device``."""


@dataclass(frozen=True)
class AuthRequired:
    """The host presented its public key: the device shows as ``unauthorized`` until authorized."""


@dataclass(frozen=True)
class Reset:
    """A new CNXN restarted the connection: these streams are gone."""

    local_ids: tuple[int, ...]


@dataclass(frozen=True)
class OpenRequest:
    """The host wants a service; answer with :meth:`DeviceConnection.accept` or ``refuse``."""

    host_id: int
    service: str


@dataclass(frozen=True)
class StreamData:
    local_id: int
    data: bytes


@dataclass(frozen=True)
class StreamReady:
    """The host OKAYed: one more WRTE may be sent on this stream."""

    local_id: int


@dataclass(frozen=True)
class StreamClosed:
    """The host closed the stream (CLSE)."""

    local_id: int


Event = Online | AuthRequired | Reset | OpenRequest | StreamData | StreamReady | StreamClosed


@dataclass
class _Stream:
    local_id: int
    host_id: int  # 0 while a device-opened stream waits for the host's OKAY
    can_send: bool = True


# Connection states.
WAIT_CNXN = "wait-cnxn"
AUTHENTICATING = "authenticating"
UNAUTHORIZED = "unauthorized"
ONLINE = "online"


class DeviceConnection:
    """Protocol state of one TCP connection from the adb server to the simulated adbd.

    ``require_auth`` makes the device answer CNXN with AUTH(TOKEN) like a phone that has not
    trusted this computer yet; signatures are never checked, so until :meth:`authorize` the host
    ends up sending its public key and shows the device as ``unauthorized``. Once ``trusted``,
    a signature is accepted like adbd does for a key in its keystore.
    """

    def __init__(self, banner: str, require_auth: bool = False, trusted: bool = False) -> None:
        if len(banner.encode()) > MAX_PAYLOAD_V1:
            raise ValueError("the CNXN banner must fit in 4096 bytes")
        self.banner = banner
        self.require_auth = require_auth
        self.trusted = trusted
        self.state = WAIT_CNXN
        self.version = A_VERSION_MIN
        self.max_payload = MAX_PAYLOAD_V1
        self._streams: dict[int, _Stream] = {}
        self._next_id = 1
        self._outbox: list[bytes] = []
        self._parser = MessageParser()

    # ------------------------------------------------------------------ output
    def data_to_send(self) -> bytes:
        """Everything queued for the host since the last call."""
        out = self._outbox
        if not out:
            return b""
        self._outbox = []
        return out[0] if len(out) == 1 else b"".join(out)

    def _send(self, command: int, arg0: int, arg1: int, data: bytes = b"") -> None:
        with_checksum = self.version < A_VERSION_SKIP_CHECKSUM or command in (A_CNXN, A_AUTH)
        self._outbox.append(pack_message(command, arg0, arg1, data, with_checksum))

    # ------------------------------------------------------------------ input
    def receive(self, data: bytes) -> list[Event]:
        """Feed bytes from the host; raises :class:`ProtocolError` when the connection must drop."""
        events: list[Event] = []
        for msg in self._parser.feed(data):
            self._handle(msg, events)
        return events

    def _handle(self, msg: Message, events: list[Event]) -> None:
        cmd = msg.command
        if cmd == A_CNXN:
            self._on_cnxn(msg, events)
        elif cmd == A_AUTH:
            self._on_auth(msg, events)
        elif self.state != ONLINE:
            return
        elif cmd == A_OPEN:
            self._on_open(msg, events)
        elif cmd == A_WRTE:
            stream = self._streams.get(msg.arg1)
            if stream is not None and stream.host_id == msg.arg0:
                events.append(StreamData(stream.local_id, msg.data))
        elif cmd == A_OKAY:
            stream = self._streams.get(msg.arg1)
            if stream is not None and stream.host_id == 0 and msg.arg0:
                stream.host_id = msg.arg0  # the host accepted a stream we opened
            if stream is not None and stream.host_id == msg.arg0:
                stream.can_send = True
                events.append(StreamReady(stream.local_id))
        elif cmd == A_CLSE:
            stream = self._streams.get(msg.arg1)
            if stream is not None and msg.arg0 in (0, stream.host_id):
                del self._streams[stream.local_id]
                events.append(StreamClosed(stream.local_id))
        # Anything else (SYNC, STLS, unknown) is ignored, like the real handle_packet does.

    def _on_cnxn(self, msg: Message, events: list[Event]) -> None:
        if self._streams:
            dropped = tuple(self._streams)
            self._streams.clear()
            events.append(Reset(dropped))
        self.version = min(msg.arg0, A_VERSION)
        self.max_payload = max(1, min(msg.arg1, MAX_PAYLOAD))
        if self.require_auth:
            self.state = AUTHENTICATING
            self._send_token()
        else:
            self._go_online(events)

    def _on_auth(self, msg: Message, events: list[Event]) -> None:
        if not self.require_auth or self.state not in (AUTHENTICATING, UNAUTHORIZED):
            return
        if msg.arg0 == AUTH_SIGNATURE:
            if self.trusted:
                self._go_online(events)
            else:
                self._send_token()
        elif msg.arg0 == AUTH_RSAPUBLICKEY and self.state == AUTHENTICATING:
            self.state = UNAUTHORIZED
            events.append(AuthRequired())

    def _send_token(self) -> None:
        self._send(A_AUTH, AUTH_TOKEN, 0, os.urandom(TOKEN_SIZE))

    def _go_online(self, events: list[Event]) -> None:
        self.state = ONLINE
        self._send(A_CNXN, A_VERSION, MAX_PAYLOAD, self.banner.encode())
        events.append(Online())

    def authorize(self) -> list[Event]:
        """The user tapped "Allow" on the phone: trust the host and finish a pending handshake."""
        self.trusted = True
        events: list[Event] = []
        if self.state in (AUTHENTICATING, UNAUTHORIZED):
            self._go_online(events)
        return events

    def _on_open(self, msg: Message, events: list[Event]) -> None:
        host_id = msg.arg0
        if host_id == 0:
            return
        if msg.arg1 != 0:
            # arg1 is the delayed-ack window; we never advertise delayed_ack, so refuse like adbd.
            self.refuse(host_id)
            return
        service = msg.data.rstrip(b"\0").decode("utf-8", "replace")
        events.append(OpenRequest(host_id, service))

    # ------------------------------------------------------------------ stream control
    def accept(self, host_id: int) -> int:
        """Accept an OPEN: allocate a device stream id and send OKAY; the window starts open."""
        local_id = self._allocate_id()
        self._streams[local_id] = _Stream(local_id, host_id)
        self._send(A_OKAY, local_id, host_id)
        return local_id

    def open(self, service: str) -> int:
        """Open a stream to the host (a reverse connection); it is usable after the host's OKAY
        (a :class:`StreamReady`) and refused if a :class:`StreamClosed` comes first."""
        local_id = self._allocate_id()
        self._streams[local_id] = _Stream(local_id, 0, can_send=False)
        self._send(A_OPEN, local_id, 0, service.encode() + b"\0")
        return local_id

    def refuse(self, host_id: int) -> None:
        """Refuse an OPEN the way adbd does for an unknown or failing service."""
        self._send(A_CLSE, 0, host_id)

    def _allocate_id(self) -> int:
        while True:
            local_id = self._next_id
            self._next_id = local_id + 1 if local_id < 0xFFFFFFFF else 1
            if local_id not in self._streams:
                return local_id

    def is_open(self, local_id: int) -> bool:
        return local_id in self._streams

    def can_send(self, local_id: int) -> bool:
        stream = self._streams.get(local_id)
        return stream is not None and stream.can_send

    def write(self, local_id: int, data: bytes) -> None:
        """Send one WRTE. The caller must wait for :meth:`can_send` and split to ``max_payload``."""
        stream = self._streams.get(local_id)
        if stream is None:
            raise KeyError(f"stream {local_id} is not open")
        if not stream.can_send:
            raise RuntimeError(f"stream {local_id}: a WRTE is already in flight")
        if not data or len(data) > self.max_payload:
            raise ValueError(f"WRTE payload must be 1..{self.max_payload} bytes, got {len(data)}")
        stream.can_send = False
        self._send(A_WRTE, local_id, stream.host_id, data)

    def ack(self, local_id: int) -> None:
        """OKAY a consumed host WRTE so the host sends the next one."""
        stream = self._streams.get(local_id)
        if stream is not None:
            self._send(A_OKAY, local_id, stream.host_id)

    def close(self, local_id: int) -> None:
        """Close a stream from the device side; closing twice or after the host did is a no-op."""
        stream = self._streams.pop(local_id, None)
        if stream is not None:
            self._send(A_CLSE, local_id, stream.host_id)

    @property
    def stream_ids(self) -> tuple[int, ...]:
        return tuple(self._streams)


def device_banner(phone_banner: str) -> str:
    """The CNXN payload: the phone's ``device::<props>;`` part plus the features we implement."""
    return f"{phone_banner}features={','.join(FEATURES)}"
