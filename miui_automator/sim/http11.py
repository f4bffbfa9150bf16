"""Just enough HTTP/1.1 for the uiautomator2 server, without I/O.

uiautomator2 opens one ``tcp:9008`` stream per request, sends one request (``http.client``,
``Content-Length`` body) and reads the reply until ``Content-Length``/EOF. So the parser
takes bytes as they arrive and yields one :class:`Request`; the builder always sends
``Content-Length`` and ``Connection: close`` and never compresses (the client sends an empty
``Accept-Encoding`` precisely because NanoHTTPD's gzip leaked).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from urllib.parse import parse_qs, urlsplit

MAX_HEAD = 64 * 1024
MAX_BODY = 16 * 1024 * 1024

REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 411: "Length Required", 413: "Payload Too Large",
           500: "Internal Server Error"}


class HttpError(Exception):
    """The request cannot be parsed; ``status`` is what to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    version: str
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names
    body: bytes = b""

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.target).query).items()}


class RequestParser:
    """Incremental parser: :meth:`feed` bytes until it returns the request."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._length = 0
        self.head: Request | None = None  # the request line and headers, once they are in (body empty)
        self.done = False

    def feed(self, data: bytes) -> Request | None:
        if self.done:
            raise HttpError(400, "one request per connection")
        self._buf += data
        if self.head is None:
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buf) > MAX_HEAD:
                    raise HttpError(400, "request head too large")
                return None
            self.head = Request(*_parse_head(bytes(self._buf[:end])))
            del self._buf[:end + 4]
            self._length = _body_length(self.head.headers)
        if len(self._buf) < self._length:
            return None
        self.done = True
        return replace(self.head, body=bytes(self._buf[:self._length]))


def _parse_head(head: bytes) -> tuple[str, str, str, dict[str, str]]:
    try:
        text = head.decode("iso-8859-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
        raise HttpError(400, "undecodable request head") from None
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        raise HttpError(400, f"bad request line {lines[0]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise HttpError(400, f"bad header line {line!r}")
        headers[name.lower()] = value.strip()
    return parts[0].upper(), parts[1], parts[2], headers


def _body_length(headers: dict[str, str]) -> int:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise HttpError(411, "chunked request bodies are not supported")
    raw = headers.get("content-length", "0")
    if not raw.isdigit():
        raise HttpError(400, f"bad Content-Length {raw!r}")
    length = int(raw)
    if length > MAX_BODY:
        raise HttpError(413, f"body of {length} bytes is too large")
    return length


# An interim answer sent while a request body is still on its way. ``http.client`` writes the
# head and the body with two ``send()`` calls; without TCP_NODELAY, Nagle holds the body back
# until the adb server ACKs the head, and its delayed ACK costs ~40 ms per JSON-RPC call. Any
# bytes flowing back carry that ACK at once, and every HTTP/1.1 client must skip 1xx responses.
# A real uiautomator2 server sends no such answer, so against a phone that stall is real for a client
# without TCP_NODELAY; the tool's own adb connections set it (device/deadline.py) and never wait on it.
# The simulator keeps the interim answer so that plain uiautomator2 clients in tests stay fast.
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def response(status: int, body: bytes, content_type: str = "text/plain") -> bytes:
    """A complete HTTP/1.1 response that closes the connection."""
    head = (f"HTTP/1.1 {status} {REASONS.get(status, 'Unknown')}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    return head.encode("ascii") + body
