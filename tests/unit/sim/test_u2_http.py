"""The HTTP/1.1 request parser and response builder behind the simulated uiautomator2 server."""

import pytest

from miui_automator.sim.http11 import CONTINUE, MAX_HEAD, HttpError, RequestParser, response

POST = (b"POST /jsonrpc/0 HTTP/1.1\r\nHost: localhost:9008\r\nAccept-Encoding: \r\nUser-Agent: uiautomator2\r\n"
        b"Content-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"a\": [1, 2]}")


def test_parses_a_request_fed_byte_by_byte():
    parser = RequestParser()
    results = [parser.feed(POST[i:i + 1]) for i in range(len(POST))]
    assert results[:-1] == [None] * (len(POST) - 1)
    request = results[-1]
    assert (request.method, request.path, request.version) == ("POST", "/jsonrpc/0", "HTTP/1.1")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept-encoding"] == ""
    assert request.body == b'{"a": [1, 2]}'


def test_body_is_cut_at_content_length_and_query_is_split_from_path():
    request = RequestParser().feed(b"GET /screenshot/0?scale=0.5&quality=30 HTTP/1.1\r\nContent-Length: 2\r\n\r\nokEXTRA")
    assert request.path == "/screenshot/0"
    assert request.query == {"scale": "0.5", "quality": "30"}
    assert request.body == b"ok"


def test_get_without_content_length_has_empty_body():
    request = RequestParser().feed(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
    assert request.method == "GET" and request.body == b""


@pytest.mark.parametrize("raw, status", [
    (b"NONSENSE\r\n\r\n", 400),
    (b"GET /ping HTTP/1.1\r\nno colon here\r\n\r\n", 400),
    (b"POST /x HTTP/1.1\r\nContent-Length: ten\r\n\r\n", 400),
    (b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411),
    (b"POST /x HTTP/1.1\r\nContent-Length: 999999999999\r\n\r\n", 413),
])
def test_malformed_requests_carry_the_status_to_answer(raw, status):
    with pytest.raises(HttpError) as info:
        RequestParser().feed(raw)
    assert info.value.status == status


def test_oversized_head_is_refused():
    with pytest.raises(HttpError):
        RequestParser().feed(b"GET / HTTP/1.1\r\nX: " + b"a" * MAX_HEAD)


def test_only_one_request_per_connection():
    parser = RequestParser()
    assert parser.feed(b"GET /ping HTTP/1.1\r\n\r\n") is not None
    with pytest.raises(HttpError):
        parser.feed(b"GET /ping HTTP/1.1\r\n\r\n")


def test_response_has_content_length_and_closes():
    raw = response(200, "pong".encode(), "text/html")
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "HTTP/1.1 200 OK"
    assert "Content-Length: 4" in lines and "Connection: close" in lines and "Content-Type: text/html" in lines
    assert not any(line.lower().startswith("content-encoding") for line in lines)
    assert body == b"pong"
    assert response(404, b"").startswith(b"HTTP/1.1 404 Not Found\r\n")


def test_head_is_available_while_the_body_is_still_coming():
    parser = RequestParser()
    head, body = POST.split(b"\r\n\r\n")
    assert parser.feed(head[:20]) is None and parser.head is None
    assert parser.feed(head[20:] + b"\r\n\r\n") is None
    assert parser.head.path == "/jsonrpc/0" and parser.head.body == b""
    assert parser.feed(body).body == body


def test_interim_continue_is_a_bare_1xx():
    assert CONTINUE == b"HTTP/1.1 100 Continue\r\n\r\n"
