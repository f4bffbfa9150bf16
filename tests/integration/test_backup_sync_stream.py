"""Many small files asked for ahead on one ``sync:`` stream, through the real adb server: each arrives whole
and in order, and the client acks at once while files are asked for (so the adb server's Nagle never holds a
small file back for a delayed ACK)."""

from __future__ import annotations

import socket

import pytest

from miui_automator.backup.inventory import take_inventory
from miui_automator.backup.pull import PIPELINE_DEPTH, REQUEST_GROUP
from miui_automator.backup.sync import SyncStream
from miui_automator.device.android import AndroidDevice

pytestmark = pytest.mark.integration


class RecordingSocket:
    """The stream's socket, with the options set on it recorded."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.options: list[tuple[int, int, int]] = []

    def setsockopt(self, level: int, option: int, value: int) -> None:
        self.options.append((level, option, value))
        self._sock.setsockopt(level, option, value)

    def __getattr__(self, name: str):
        return getattr(self._sock, name)


def test_small_files_asked_for_in_groups_arrive_whole_and_in_order(make_phone):
    dev = make_phone(media_files=300, media_bytes=300 * 2048)
    driver = AndroidDevice(dev.serial)
    with SyncStream(driver.adb, dev.serial) as stream:
        paths = [f.path for f in take_inventory(stream).files]
        assert len(paths) >= 300
        recording = RecordingSocket(stream._sock)
        stream._sock = recording
        got = {}
        for i, path in enumerate(paths):
            stream.ask_ahead(paths[i:i + PIPELINE_DEPTH], PIPELINE_DEPTH, REQUEST_GROUP)
            assert stream.requested <= PIPELINE_DEPTH
            chunks: list[bytes] = []
            stream.recv(path, lambda chunk: chunks.append(bytes(chunk)))
            got[path] = b"".join(chunks)
        assert stream.requested == 0
    for path in paths:
        assert got[path] == dev.phone.state.fs.read(path), path
    if hasattr(socket, "TCP_QUICKACK"):
        assert (socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1) in recording.options
