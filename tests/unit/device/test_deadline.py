"""Deadline: sockets opened under a call are shut when its time is up; nothing can be opened after."""

from __future__ import annotations

import socket
import threading
import time

import adbutils
import pytest

from miui_automator.device.deadline import _WATCHDOG, Deadline, DeadlineClient


@pytest.mark.timeout(10)
def test_an_expired_deadline_unblocks_a_read_and_refuses_new_sockets() -> None:
    a, b = socket.socketpair()
    late, _ = socket.socketpair()
    with a, b, late:
        scope = Deadline(0.2)
        scope.register(a)
        scope.start()
        assert a.recv(10) == b""  # blocked until the deadline shut the socket
        assert scope.expired
        with pytest.raises(adbutils.AdbTimeout, match="no answer within 0.2 s"):
            scope.register(late)
        with pytest.raises(adbutils.AdbTimeout):
            scope.check()


def test_a_deadline_that_is_met_leaves_its_sockets_alone() -> None:
    a, b = socket.socketpair()
    with a, b:
        scope = Deadline(0.05)
        scope.register(a)
        scope.start()
        scope.cancel()
        gone = time.monotonic() + 5  # bounded: the watchdog drops the met deadline once its time has come
        while any(entry[2] is scope for entry in _WATCHDOG._heap) and time.monotonic() < gone:
            time.sleep(0.01)
        assert not any(entry[2] is scope for entry in _WATCHDOG._heap)
        b.sendall(b"x")
        assert a.recv(1) == b"x" and not scope.expired


def test_deadlines_are_per_thread_and_nest() -> None:
    client = DeadlineClient(host="127.0.0.1", port=9)
    seen: list[object] = []
    with client.deadline(5) as outer:
        with client.deadline(1) as inner:
            assert client._local.scope is inner
            worker = threading.Thread(target=lambda: seen.append(getattr(client._local, "scope", None)))
            worker.start()
            worker.join()
        assert client._local.scope is outer
    assert client._local.scope is None and seen == [None]


def test_the_adb_servers_version_is_asked_once_per_client(monkeypatch) -> None:
    asked = []

    def version(self) -> int:
        asked.append(self)
        return 41

    monkeypatch.setattr(adbutils.AdbClient, "server_version", version)
    client = DeadlineClient(host="127.0.0.1", port=1)
    assert [client.server_version() for _ in range(5)] == [41] * 5
    assert len(asked) == 1


@pytest.mark.timeout(10)
def test_one_watchdog_thread_ends_many_deadlines_in_order() -> None:
    pairs = [socket.socketpair() for _ in range(3)]
    try:
        scopes = [Deadline(seconds) for seconds in (30, 0.1, 20)]
        for scope, (a, _) in zip(scopes, pairs):
            scope.register(a)
        before = threading.active_count()
        for scope in scopes:
            scope.start()
        assert threading.active_count() <= before + 1  # no thread per deadline
        assert pairs[1][0].recv(1) == b"" and scopes[1].expired  # the nearest ends ...
        assert not scopes[0].expired and not scopes[2].expired  # ... while the later ones still run
        for scope in scopes:
            scope.cancel()
    finally:
        for a, b in pairs:
            a.close()
            b.close()


@pytest.mark.timeout(10)
def test_a_connection_closes_without_adbutils_pause(monkeypatch) -> None:
    """adbutils sleeps 10 ms in every close (each shell call, each md5 batch of a backup); ours half-closes,
    so the server still reads an orderly end, and does not sleep."""
    ours, server = socket.socketpair()
    monkeypatch.setattr(adbutils.AdbConnection, "_safe_connect", lambda self: ours)
    pauses: list[float] = []
    monkeypatch.setattr(adbutils._adb.time, "sleep", pauses.append)
    conn = DeadlineClient(host="127.0.0.1", port=1).make_connection()
    conn.close()
    conn.close()  # a second close is harmless, as with adbutils
    assert pauses == []
    assert conn.closed
    assert server.recv(1) == b""  # the server's side ends cleanly
    server.close()


@pytest.mark.timeout(10)
def test_connections_send_each_write_at_once(monkeypatch) -> None:
    """uiautomator2's requests go out as a head and a body; with Nagle's algorithm the body waited for the
    adb server's delayed ACK, about 40 ms a call against a real uiautomator2 server."""
    listener = socket.create_server(("127.0.0.1", 0))
    ours = socket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    monkeypatch.setattr(adbutils.AdbConnection, "_safe_connect", lambda self: ours)
    conn = DeadlineClient(host="127.0.0.1", port=1).make_connection()
    try:
        assert conn.conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        conn.close()
        server.close()
        listener.close()
