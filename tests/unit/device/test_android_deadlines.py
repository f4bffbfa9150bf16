"""Deadlines on real sockets: a tiny fake adb server on a free local port that stalls or drip-feeds.

It speaks just enough of the adb server protocol (``host:version``, ``host:devices``, transport
selection, ``shell:`` and ``tcp:9008``) for adbutils and uiautomator2's HTTP client to reach it
unchanged, so the test exercises the real path a stalled phone takes. Without the deadlines
these calls would hang for adbutils' 600 s socket timeout; ``pytest.mark.timeout`` bounds them.
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Iterator

import pytest
import uiautomator2.core as u2core

from miui_automator.device.android import AndroidDevice, Deadlines
from miui_automator.errors import DeviceError

SERIAL = "STALL01"
SHORT = Deadlines(shell_s=0.5, rpc_s=0.5, start_s=0.5)


class FakeAdbServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.released = threading.Event()  # set at teardown: stalled handlers end
        self.shell_mode = "answer"  # answer | stall | drip
        self.http_mode = "answer"  # answer | stall | garbage
        self.http_requests = 0


def _block(sock: socket.socket, text: str) -> None:
    data = text.encode()
    sock.sendall(b"OKAY" + f"{len(data):04x}".encode() + data)


class _Handler(socketserver.BaseRequestHandler):
    server: FakeAdbServer

    def _command(self) -> str:
        size = int(self._read(4), 16)
        return self._read(size).decode()

    def _read(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.request.recv(n - len(data))
            if not chunk:
                raise ConnectionError("client went away")
            data += chunk
        return data

    def handle(self) -> None:
        try:
            command = self._command()
            if command == "host:version":
                _block(self.request, "0029")
            elif command.startswith("host:devices"):
                _block(self.request, f"{SERIAL}\tdevice\n")
            elif command == f"host:tport:serial:{SERIAL}":
                self.request.sendall(b"OKAY" + b"\x01" + b"\x00" * 7)
                self._transport(self._command())
        except (ConnectionError, OSError, ValueError):
            pass

    def _transport(self, command: str) -> None:
        self.request.sendall(b"OKAY")
        if command.startswith("shell:"):
            mode = self.server.shell_mode
            if mode == "stall":
                self.server.released.wait(30)
            elif mode == "drip":  # a byte every 0.1 s: no single read ever waits long, the call never ends
                while not self.server.released.is_set():
                    self.request.sendall(b".")
                    time.sleep(0.1)
            else:
                self.request.sendall(b"hello\nX4EXIT:0\n")
        elif command == "tcp:9008":
            self._http()

    def _http(self) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            head += chunk
        self.server.http_requests += 1
        mode = self.server.http_mode
        if mode == "stall":
            self.server.released.wait(30)
            return
        body = b'{"jsonrpc": "2.0", "id": 1, "result": "<?xml' if mode == "garbage" else (
            b'{"jsonrpc": "2.0", "id": 1, "result": "<hierarchy rotation=\\"0\\"><node text=\\"ok\\" /></hierarchy>"}')
        length = len(body) + (100 if mode == "garbage" else 0)  # garbage: the body is cut off mid-way
        self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             + f"Content-Length: {length}\r\n\r\n".encode() + body)


@pytest.fixture
def adb_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAdbServer]:
    # uiautomator2 would push and launch its server over shell and sync: here it is simply "already running"
    monkeypatch.setattr(u2core.BasicUiautomatorServer, "start_uiautomator", lambda self: None)
    monkeypatch.setattr(u2core.BasicUiautomatorServer, "stop_uiautomator", lambda self, wait=True: None)
    server = FakeAdbServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.released.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def phone(server: FakeAdbServer) -> AndroidDevice:
    return AndroidDevice(SERIAL, server=f"127.0.0.1:{server.server_address[1]}", deadlines=SHORT)


def test_the_fake_server_answers_when_nothing_is_wrong(adb_server: FakeAdbServer) -> None:
    device = phone(adb_server)
    assert device.shell("echo hello").output == "hello\n"
    assert device.hierarchy().first(text="ok") is not None


@pytest.mark.timeout(10)
@pytest.mark.parametrize("mode", ["stall", "drip"])
def test_a_shell_command_that_never_finishes_ends_at_its_deadline(adb_server: FakeAdbServer, mode: str) -> None:
    adb_server.shell_mode = mode
    with pytest.raises(DeviceError, match=rf"^{SERIAL}: shell dumpsys: no answer within 0.5 s$"):
        phone(adb_server).shell("dumpsys window", timeout_s=0.5)


@pytest.mark.timeout(10)
def test_a_stalled_json_rpc_reply_ends_at_its_deadline(adb_server: FakeAdbServer) -> None:
    adb_server.http_mode = "stall"
    with pytest.raises(DeviceError, match=rf"^{SERIAL}: reading the UI hierarchy: no answer within 0.5 s$"):
        phone(adb_server).hierarchy()
    assert adb_server.http_requests == 2  # the read was repeated once, after restarting uiautomator2


@pytest.mark.timeout(10)
def test_a_json_rpc_body_cut_off_mid_way_is_a_device_error(adb_server: FakeAdbServer) -> None:
    adb_server.http_mode = "garbage"
    with pytest.raises(DeviceError, match=rf"^{SERIAL}: reading the UI hierarchy: (JSONDecodeError|IncompleteRead)"):
        phone(adb_server).hierarchy()


@pytest.mark.timeout(10)
def test_a_stalled_tap_is_reported_not_repeated(adb_server: FakeAdbServer) -> None:
    adb_server.http_mode = "stall"
    with pytest.raises(DeviceError, match="tap at 5,6: no answer within 0.5 s; uiautomator2 was restarted"):
        phone(adb_server).tap(5, 6)
    assert adb_server.http_requests == 1
