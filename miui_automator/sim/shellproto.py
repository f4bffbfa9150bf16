"""Shell protocol v2 framing (``shell,v2,…:`` streams), with no I/O.

Each packet is ``id:u8 + length:u32 LE + payload``. The adb CLI only learns a command's exit
status through this framing (packet 3), which is why ``adb shell false`` exits 1. Packets are a
byte stream on top of WRTEs: the host may split one packet over several WRTEs or put several in
one, so the decoder buffers.
"""

from __future__ import annotations

import struct

STDIN = 0
STDOUT = 1
STDERR = 2
EXIT = 3
CLOSE_STDIN = 4
WINDOW_SIZE = 5

HEADER = struct.Struct("<BI")
HEADER_SIZE = HEADER.size

# Keep each packet inside one 1 MiB WRTE so a reader never waits on a half packet.
MAX_PACKET_DATA = 0x100000 - HEADER_SIZE


def encode(packet_id: int, data: bytes = b"", max_data: int = MAX_PACKET_DATA) -> bytes:
    """One or more packets carrying ``data``; empty data gives one empty packet."""
    if len(data) <= max_data:
        return HEADER.pack(packet_id, len(data)) + data
    view = memoryview(data)
    parts: list[bytes | memoryview] = []
    for start in range(0, len(data), max_data):
        piece = view[start:start + max_data]
        parts.append(HEADER.pack(packet_id, len(piece)))
        parts.append(piece)
    return b"".join(parts)


def encode_exit(rc: int) -> bytes:
    """The exit packet: one byte, the status masked to 8 bits, sent last."""
    return HEADER.pack(EXIT, 1) + bytes((rc & 0xFF,))


class Decoder:
    """Incremental packet decoder: feed any slicing of the stream, get whole ``(id, payload)`` packets."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        buf = self._buf
        buf += data
        out: list[tuple[int, bytes]] = []
        offset = 0
        end = len(buf)
        while end - offset >= HEADER_SIZE:
            packet_id, length = HEADER.unpack_from(buf, offset)
            start = offset + HEADER_SIZE
            if end - start < length:
                break
            out.append((packet_id, bytes(buf[start:start + length])))
            offset = start + length
        if offset:
            del buf[:offset]
        return out

    @property
    def pending(self) -> int:
        """Bytes of an incomplete packet still buffered."""
        return len(self._buf)
