"""The one interface between the transport and the device services.

The transport turns an ADB stream (OPEN/WRTE/OKAY/CLSE with flow control) into this small
async byte-pipe; services (shell, sync, the uiautomator2 HTTP server) only see this, so they
can be tested without sockets and the transport stays the only module that does I/O.
"""

from __future__ import annotations

import asyncio
from typing import Protocol


class StreamIO(Protocol):
    @property
    def closed(self) -> asyncio.Event:
        """Set once the host closed the stream (CLSE) or the connection dropped."""

    async def read(self) -> bytes:
        """The next chunk the host wrote; ``b""`` once the host has closed the stream."""

    async def write(self, data: bytes) -> None:
        """Send bytes to the host, split to the negotiated max payload, honouring OKAY flow control."""

    async def close(self) -> None:
        """Close the stream from the device side (CLSE); idempotent."""
