"""Deadline: sockets opened under a call are shut when its time is up; nothing can be opened after."""

from __future__ import annotations

import socket
import threading

import adbutils
import pytest

from miui_automator.device.deadline import Deadline, DeadlineClient


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
        scope._timer.join(5)  # the timer thread has ended without firing
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
