"""The simulated phone's uiautomator2 server: what u2.jar (``com.wetest.uia2.Main``) serves on 9008.

uiautomator2 opens a fresh ``tcp:9008`` stream for every HTTP request, so :meth:`U2Server.serve`
handles exactly one request and closes the stream. Routes mirror ``AutomatorHttpServer``:
``/ping`` -> ``pong``, ``POST /jsonrpc/0`` -> JSON-RPC (always HTTP 200, errors inside the
body), ``/screenshot/0`` -> PNG, anything else 404. While the server is dead (never launched,
or just crashed by the ``u2crash`` fault) a request gets no answer at all: the stream closes,
which the client sees as a dropped connection and answers by relaunching the jar.

Keep one :class:`U2Server` per phone: named UiObjects and half-finished touches
(``injectInputEvent`` down ... up) live across requests, as they do in the real server process.
"""

from __future__ import annotations

from . import frames
from .http11 import CONTINUE, HttpError, Request, RequestParser, response
from .jsonrpc import Hold, JsonRpc
from .phone import Phone
from .streamio import StreamIO

RPC_PATH = "/jsonrpc/0"


class U2Server:
    def __init__(self, phone: Phone) -> None:
        self.phone = phone
        self.rpc = JsonRpc(phone)

    async def serve(self, stream: StreamIO) -> None:
        """Read one request from ``stream``, answer it (unless the server is dead), close."""
        try:
            reply = await self._exchange(stream)
            if reply is not None:
                await stream.write(reply)
        finally:
            await stream.close()

    async def _exchange(self, stream: StreamIO) -> bytes | None:
        parser = RequestParser()
        counted = False
        try:
            while True:
                data = await stream.read()
                if not data:
                    return None  # the client went away before finishing its request
                request = parser.feed(data)
                if request is not None:
                    break
                if parser.head is not None and not counted:
                    # Head in, body still coming: a dead server says nothing; a live one says 100.
                    counted = True
                    if not self._alive(parser.head):
                        return None
                    await stream.write(CONTINUE)
        except HttpError as exc:
            return response(exc.status, str(exc).encode())
        if not counted and not self._alive(request):
            return None
        return await self._answer(request, stream)

    def _alive(self, request: Request) -> bool:
        """Whether the server process is up; every JSON-RPC call counts toward the u2crash fault."""
        if request.path != RPC_PATH:
            return self.phone.u2_running
        if self.phone.u2_call():
            return True
        self.rpc = JsonRpc(self.phone)  # the process died: its relaunch starts with no named objects
        return False

    async def _answer(self, request: Request, stream: StreamIO) -> bytes | None:
        path = request.path
        if path == RPC_PATH:
            if not request.body:
                return response(500, b"Invalid http post data!")
            return await self._jsonrpc(request.body, stream)
        if path == "/ping":
            return response(200, b"pong", "text/html")
        if path == "/screenshot/0":
            query = request.query
            try:
                scale, quality = float(query.get("scale", 1.0)), int(query.get("quality", 100))
            except ValueError:
                scale, quality = 1.0, 100
            png = self.phone.screenshot("png", quality, scale)
            await frames.pause(self.phone.timing.screenshot())  # the phone's capture time (timing.py)
            return response(200, png, "image/png")
        return response(404, b"Not Found!!!")

    async def _jsonrpc(self, body: bytes, stream: StreamIO) -> bytes | None:
        """Drive the sans-IO call, sleeping where it polls or works (on the frame clock, frames.py);
        give up if the client hangs up meanwhile."""
        call = self.rpc.handle(body)
        try:
            delay = next(call)
            while True:
                await frames.pause(delay, early=not isinstance(delay, Hold))
                if stream.closed.is_set():
                    call.close()
                    return None
                delay = call.send(None)
        except StopIteration as done:
            return response(200, done.value, "application/json")
