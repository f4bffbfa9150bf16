"""U2Server over an in-memory stream: routes, the dead-server behaviour and the u2crash fault."""

import asyncio
import json

from miui_automator.sim.http11 import CONTINUE
from miui_automator.sim.phone import Phone
from miui_automator.sim.u2server import U2Server


class MemoryStream:
    """The StreamIO interface backed by lists: the request arrives in the given chunks, then EOF."""

    def __init__(self, *chunks: bytes, hang_up_after: int | None = None) -> None:
        self._chunks = list(chunks)
        self.written = bytearray()
        self.closed = asyncio.Event()
        self.close_calls = 0
        self._hang_up_after = hang_up_after

    async def read(self) -> bytes:
        if self._chunks:
            data = self._chunks.pop(0)
            if not self._chunks and self._hang_up_after is not None:
                asyncio.get_running_loop().call_later(self._hang_up_after, self.closed.set)
            return data
        return b""  # the host closed its side

    async def write(self, data: bytes) -> None:
        self.written += data

    async def close(self) -> None:
        self.close_calls += 1
        self.closed.set()


def post(method, *params):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params) if params else {}}).encode()
    head = f"POST /jsonrpc/0 HTTP/1.1\r\nHost: localhost:9008\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    return head, body


def exchange(server, *chunks, **kw):
    stream = MemoryStream(*chunks, **kw)
    asyncio.run(server.serve(stream))
    assert stream.close_calls >= 1
    return bytes(stream.written)


def split(raw):
    """(status line, headers, body) of the final response, after any interim 100 Continue."""
    while raw.startswith(CONTINUE):
        raw = raw[len(CONTINUE):]
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert int(headers["Content-Length"]) == len(body)
    return lines[0], headers, body


def running_phone(**kw):
    phone = Phone("miui12.5-en", **kw)
    phone.u2_running = True
    return phone


def test_ping_is_exactly_pong():
    status, headers, body = split(exchange(U2Server(running_phone()), b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"))
    assert status == "HTTP/1.1 200 OK" and body == b"pong" and headers["Connection"] == "close"


def test_jsonrpc_request_split_across_chunks_gets_one_interim_continue():
    head, body = post("deviceInfo")
    raw = exchange(U2Server(running_phone()), head[:10], head[10:] + body[:5], body[5:])
    assert raw.startswith(CONTINUE) and raw.count(b"HTTP/1.1 ") == 2
    status, headers, raw = split(raw)
    assert status == "HTTP/1.1 200 OK" and headers["Content-Type"] == "application/json"
    assert json.loads(raw)["result"]["displayHeight"] == 2400


def test_no_interim_answer_when_the_body_came_with_the_head():
    head, body = post("ping")
    raw = exchange(U2Server(running_phone()), head + body)
    assert raw.startswith(b"HTTP/1.1 200 OK\r\n")


def test_rpc_errors_are_still_http_200():
    status, _, raw = split(exchange(U2Server(running_phone()), *post("makeToast", "hi", 1000)))
    assert status == "HTTP/1.1 200 OK" and json.loads(raw)["error"]["code"] == -32601


def test_unknown_path_is_404_and_garbage_is_400():
    assert split(exchange(U2Server(running_phone()), b"GET /nope HTTP/1.1\r\n\r\n"))[0] == "HTTP/1.1 404 Not Found"
    assert split(exchange(U2Server(running_phone()), b"BROKEN\r\n\r\n"))[0] == "HTTP/1.1 400 Bad Request"


def test_screenshot_route_serves_png():
    _, headers, body = split(exchange(U2Server(running_phone()), b"GET /screenshot/0?scale=0.5&quality=50 HTTP/1.1\r\n\r\n"))
    assert headers["Content-Type"] == "image/png" and body.startswith(b"\x89PNG")


def test_a_dead_server_answers_nothing():
    phone = Phone("miui12.5-en")
    assert phone.u2_running is False
    server = U2Server(phone)
    assert exchange(server, b"GET /ping HTTP/1.1\r\n\r\n") == b""
    assert exchange(server, *post("ping")) == b""


def test_client_hanging_up_mid_request_closes_quietly():
    head, body = post("ping")
    assert exchange(U2Server(running_phone()), head) == CONTINUE
    assert exchange(U2Server(running_phone()), head[:20]) == b""


def test_u2crash_drops_the_call_and_leaves_the_server_down():
    phone = running_phone(faults="u2crash=2")
    events = []
    phone.subscribe(events.append)
    server = U2Server(phone)
    assert json.loads(split(exchange(server, *post("ping")))[2])["result"] == "pong"
    assert exchange(server, *post("ping")) == b""  # not even an interim answer
    assert phone.u2_running is False and events == ["u2crash"]
    phone.u2_running = True  # the client relaunches app_process
    assert json.loads(split(exchange(server, *post("ping")))[2])["result"] == "pong"


def test_a_wait_ends_early_when_the_client_hangs_up():
    sel = {"mask": 1, "childOrSibling": [], "childOrSiblingSelector": [], "text": "never"}
    head, body = post("waitForExists", sel, 60_000)

    async def scenario():
        stream = MemoryStream(head + body, hang_up_after=0.2)
        await asyncio.wait_for(U2Server(running_phone()).serve(stream), timeout=5)
        return stream

    stream = asyncio.run(scenario())
    assert stream.written == b""


def test_waits_do_not_block_the_event_loop():
    sel = {"mask": 1, "childOrSibling": [], "childOrSiblingSelector": [], "text": "never"}
    server = U2Server(running_phone())

    async def scenario():
        waiting = asyncio.create_task(server.serve(MemoryStream(*post("waitForExists", sel, 400))))
        pings = [MemoryStream(b"GET /ping HTTP/1.1\r\n\r\n") for _ in range(3)]
        for stream in pings:
            await server.serve(stream)
            assert not waiting.done()
        await waiting
        return [bytes(s.written) for s in pings]

    assert all(raw.endswith(b"pong") for raw in asyncio.run(scenario()))
