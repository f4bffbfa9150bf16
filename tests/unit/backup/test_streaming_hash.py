"""Backup at the speed of the cable: the local md5 and sha256 are made while the file streams (on threads of
their own where the host has cores for them), the phone's md5sum runs beside the transfer on two calls at
once and the transfer never waits for it, and the first md5 batch — the first files shown done — is small."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import threading
from pathlib import Path

import pytest

from miui_automator.backup import local_copy, pull
from miui_automator.backup.inventory import RemoteFile
from miui_automator.backup.state import Journal
from miui_automator.backup.sync import SyncStream
from miui_automator.device.driver import ShellOutput
from miui_automator.errors import StepFailed

MB = 1 << 20


def files(*sizes: int) -> list[RemoteFile]:
    return [RemoteFile(f"/sdcard/DCIM/f{i}.jpg", size, 0) for i, size in enumerate(sizes)]


def test_the_first_md5_batch_is_small_and_each_next_twice_as_large():
    batches = list(pull.md5_batches(files(*[MB // 2] * 40), max_bytes=8 * MB, first_bytes=MB))
    assert [sum(f.size for f in b) // (MB // 2) for b in batches] == [2, 4, 8, 16, 10]
    assert sum(len(b) for b in batches) == 40
    big_first = list(pull.md5_batches(files(50 * MB, 1, 1), first_bytes=MB))
    assert [len(b) for b in big_first] == [1, 2]  # a big first file is a batch alone, as before
    assert [len(b) for b in pull.md5_batches(files(*[MB // 2] * 40), max_bytes=8 * MB)] == [16, 16, 8]


@pytest.mark.parametrize("size", [0, 1, local_copy.BLOCK_BYTES - 1, local_copy.BLOCK_BYTES, 3 * local_copy.BLOCK_BYTES + 12345])
def test_hash_threads_give_the_same_file_and_digests_as_inline(tmp_path, size):
    data = os.urandom(size)
    workers = pull.HashWorkers()
    try:
        sink = pull.FileSink(tmp_path / "x.part", workers=workers)
        for i in range(0, len(data), 65536):
            chunk = bytearray(data[i:i + 65536])
            sink.write(memoryview(chunk))
            chunk[:] = b"\0" * len(chunk)  # the stream reuses its buffer at once: the sink must have copied
        sink.close()
    finally:
        workers.close()
    assert (tmp_path / "x.part").read_bytes() == data
    assert sink.md5.hexdigest() == hashlib.md5(data).hexdigest()
    assert sink.sha256.hexdigest() == hashlib.sha256(data).hexdigest()


def test_a_slow_hash_holds_the_transfer_back_instead_of_filling_memory():
    release = threading.Event()

    class SlowHash:
        def update(self, block):
            release.wait(5)

    workers = pull.HashWorkers()
    fed = []
    feeder = threading.Thread(target=lambda: [fed.append(workers.feed(SlowHash(), SlowHash(), b"x"))
                                              for _ in range(local_copy.BLOCKS_AHEAD + 3)])
    feeder.start()
    feeder.join(0.5)
    try:
        assert feeder.is_alive() and len(fed) <= local_copy.BLOCKS_AHEAD + 1
    finally:
        release.set()
        feeder.join(5)
        workers.close()
    assert len(fed) == local_copy.BLOCKS_AHEAD + 3


class FakeStream:
    """A sync stream over a dict of file contents, enough for the Puller."""

    def __init__(self, contents: dict[str, bytes]) -> None:
        self.contents = contents
        self.ls_v2 = True
        self.usable = True
        self._asked: list[str] = []
        self.sends = 0

    @property
    def requested(self) -> int:
        return len(self._asked)

    ask_ahead = SyncStream.ask_ahead

    def request(self, paths):
        self.sends += bool(paths)
        self._asked.extend(paths)

    def recv(self, path, sink):
        assert self._asked.pop(0) == path
        data = self.contents[path]
        for i in range(0, len(data), 65536):
            sink(memoryview(data)[i:i + 65536])
        return len(data)

    def close(self):
        self.usable = False


class Md5Phone:
    """Answers md5sum like a phone; each call waits (bounded) for another to be in flight, to see overlap."""

    serial = "fake"
    adb = object()

    def __init__(self, contents: dict[str, bytes]) -> None:
        self.contents = contents
        self.cond = threading.Condition()
        self.in_flight = self.most = self.calls = 0

    def shell(self, command, timeout_s=None):
        paths = command.split()[1:]
        with self.cond:
            self.calls += 1
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            self.cond.notify_all()
            self.cond.wait_for(lambda: self.in_flight > 1, timeout=1.0)
            self.in_flight -= 1
        out = "".join(f"{hashlib.md5(self.contents[p]).hexdigest()}  {p}\n" for p in paths)
        return ShellOutput(command, out, 0)


def test_the_phones_md5_runs_on_two_calls_ahead_and_every_copy_is_still_checked(tmp_path, monkeypatch):
    contents = {f.path: os.urandom(f.size) for f in files(*[300_000] * 30)}
    listed = [RemoteFile(path, len(data), 0) for path, data in contents.items()]
    phone = Md5Phone(contents)
    stream = FakeStream(contents)
    monkeypatch.setattr(pull, "SyncStream", lambda adb, serial, ls_v2=None: stream)
    with Journal(tmp_path / "journal.jsonl") as journal:
        outcome = pull.Puller(phone, tmp_path, journal).pull(listed, lambda p: "files/" + p.rsplit("/", 1)[1])
    assert phone.calls >= 4 and phone.most == pull.MD5_WORKERS == 2
    assert stream.requested == 0 and stream.sends == 1  # every file asked for was read, all asked for at once
    assert not outcome.failed and len(outcome.pulled) == 30
    for record in outcome.pulled:
        data = contents[record.remote]
        assert record.md5 == hashlib.md5(data).hexdigest() and record.sha256 == hashlib.sha256(data).hexdigest()
        assert (tmp_path / record.local).read_bytes() == data


def test_files_are_asked_for_in_groups_ahead_not_one_request_per_file(tmp_path, monkeypatch):
    """Old code: one sync request (a socket write and a wake-up of the adb server) per small file read."""
    contents = {f.path: os.urandom(f.size) for f in files(*[100] * 200)}
    listed = [RemoteFile(path, len(data), 0) for path, data in contents.items()]
    stream = FakeStream(contents)
    most_asked = []
    real_request = stream.request
    stream.request = lambda paths: (real_request(paths), most_asked.append(stream.requested))
    monkeypatch.setattr(pull, "SyncStream", lambda adb, serial, ls_v2=None: stream)
    with Journal(tmp_path / "journal.jsonl") as journal:
        outcome = pull.Puller(Md5Phone(contents), tmp_path, journal).pull(listed, lambda p: "files/" + p.rsplit("/", 1)[1])
    assert len(outcome.pulled) == 200 and stream.requested == 0
    assert stream.sends <= 200 // pull.REQUEST_GROUP + 1
    assert max(most_asked) <= pull.PIPELINE_DEPTH


def test_a_copy_that_does_not_match_the_phones_md5_is_never_kept(tmp_path, monkeypatch):
    contents = {f.path: os.urandom(f.size) for f in files(1000, 2000, 3000)}
    listed = [RemoteFile(path, len(data), 0) for path, data in contents.items()]
    phone = Md5Phone(dict(contents))
    bad = listed[1].path
    phone.contents[bad] = b"what the phone hashed"  # the file changed between the md5 and the copy, twice
    monkeypatch.setattr(pull, "SyncStream", lambda adb, serial, ls_v2=None: FakeStream(contents))
    monkeypatch.setattr(pull, "single_md5", lambda driver, path, size: hashlib.md5(phone.contents[path]).hexdigest())
    with Journal(tmp_path / "journal.jsonl") as journal:
        outcome = pull.Puller(phone, tmp_path, journal).pull(listed, lambda p: "files/" + p.rsplit("/", 1)[1])
    assert [r.remote for r in outcome.pulled] == [listed[0].path, listed[2].path]
    assert len(outcome.failed) == 1 and "changed while being pulled" in outcome.failed[0]
    assert not (tmp_path / "files" / Path(bad).name).exists()


def test_closing_a_file_waits_for_its_digests(tmp_path):
    go = threading.Event()

    class Gated:
        def __init__(self, real) -> None:
            self.real = real

        def update(self, block) -> None:
            go.wait(5)
            self.real.update(block)

    class GatedWorkers(pull.HashWorkers):
        def feed(self, md5, sha256, block) -> None:
            super().feed(Gated(md5), Gated(sha256), block)

    data = os.urandom(2 * local_copy.BLOCK_BYTES + 5)
    workers = GatedWorkers()
    sink = pull.FileSink(tmp_path / "x.part", workers=workers)
    sink.write(memoryview(data))
    closing = threading.Thread(target=sink.close)
    closing.start()
    closing.join(0.3)
    try:
        assert closing.is_alive(), "close returned before the digests were complete"
    finally:
        go.set()
        closing.join(5)
        workers.close()
    assert sink.md5.hexdigest() == hashlib.md5(data).hexdigest()


def test_the_copy_never_waits_for_the_phones_md5_and_each_copy_is_kept_only_once_proven(tmp_path, monkeypatch):
    # The phone's md5sum answers only once every file has been copied: the copies wait in staging, not the cable.
    contents = {f.path: os.urandom(f.size) for f in files(*[50_000] * 12)}
    listed = [RemoteFile(path, len(data), 0) for path, data in contents.items()]
    all_copied = threading.Event()
    kept_before_md5: list[str] = []

    class AllCopiedStream(FakeStream):
        def recv(self, path, sink):
            size = super().recv(path, sink)
            if path == listed[-1].path:
                all_copied.set()
            return size

    class SlowMd5Phone(Md5Phone):
        def shell(self, command, timeout_s=None):
            assert all_copied.wait(5), "the transfer waited for the phone's md5sum"
            paths = command.split()[1:]
            return ShellOutput(command, "".join(f"{hashlib.md5(self.contents[p]).hexdigest()}  {p}\n" for p in paths), 0)

    phone = SlowMd5Phone(contents)
    monkeypatch.setattr(pull, "SyncStream", lambda adb, serial, ls_v2=None: AllCopiedStream(contents))
    with Journal(tmp_path / "journal.jsonl") as journal:
        puller = pull.Puller(phone, tmp_path, journal, on_file=lambda r: kept_before_md5.append(r.remote)
                             if not all_copied.is_set() else None)
        outcome = puller.pull(listed, lambda p: "files/" + p.rsplit("/", 1)[1])
    assert all_copied.is_set() and not kept_before_md5
    assert not outcome.failed and [r.remote for r in outcome.pulled] == [f.path for f in listed]
    assert not list(tmp_path.rglob("*.part"))
    for record in outcome.pulled:
        assert (tmp_path / record.local).read_bytes() == contents[record.remote]


def test_a_phone_lost_during_its_md5sum_leaves_no_copy_in_staging(tmp_path, monkeypatch):
    from miui_automator.errors import DeviceError

    contents = {f.path: os.urandom(f.size) for f in files(*[20_000] * 6)}
    listed = [RemoteFile(path, len(data), 0) for path, data in contents.items()]

    class GonePhone(Md5Phone):
        def shell(self, command, timeout_s=None):
            raise DeviceError("fake: the phone stopped answering", serial="fake")

    monkeypatch.setattr(pull, "SyncStream", lambda adb, serial, ls_v2=None: FakeStream(contents))
    with Journal(tmp_path / "journal.jsonl") as journal, pytest.raises(DeviceError):
        pull.Puller(GonePhone(contents), tmp_path, journal).pull(listed, lambda p: "files/" + p.rsplit("/", 1)[1])
    assert not list(tmp_path.rglob("*.part")) and not list(tmp_path.rglob("*.jpg"))


class InstantPhone:
    """Answers md5sum at once."""

    serial = "fake"
    adb = object()

    def __init__(self, contents: dict[str, bytes]) -> None:
        self.contents = contents

    def shell(self, command, timeout_s=None):
        paths = command.split()[1:]
        return ShellOutput(command, "".join(f"{hashlib.md5(self.contents[p]).hexdigest()}  {p}\n" for p in paths), 0)


def small_tree(n: int) -> tuple[dict[str, bytes], list[RemoteFile]]:
    contents = {f.path: os.urandom(100 + i) for i, f in enumerate(files(*[0] * n))}
    return contents, [RemoteFile(path, len(data), 1_700_000_000) for path, data in contents.items()]


def test_a_slow_file_creation_does_not_hold_back_the_transfer(tmp_path, monkeypatch):
    """Before, each file was created on the receiving thread (and with pull.WRITER_THREADS = 0 it still is):
    a disk slow to create files stalled the cable between files, as it stalls ``adb pull``."""
    contents, listed = small_tree(100)
    stream = FakeStream(contents)
    real_recv, served, all_served = stream.recv, [], threading.Event()

    def recv(path, sink):
        size = real_recv(path, sink)
        served.append(path)
        if len(served) == len(listed):
            all_served.set()
        return size

    stream.recv = recv
    real_fd, first_waited, first = local_copy.private_fd, [], threading.Lock()

    def slow_first_creation(path, *args):
        with first:
            if not first_waited:
                first_waited.append(all_served.wait(3))  # bounded: the old way this times out
        return real_fd(path, *args)

    monkeypatch.setattr(local_copy, "private_fd", slow_first_creation)
    monkeypatch.setattr(pull, "SyncStream", lambda adb, serial, ls_v2=None: stream)
    monkeypatch.setattr(pull, "WRITER_THREADS", 2)
    with Journal(tmp_path / "journal.jsonl") as journal:
        outcome = pull.Puller(InstantPhone(contents), tmp_path, journal).pull(listed, lambda p: "files/" + p[8:])
    assert first_waited == [True], "the transfer waited for the first file to be created"
    assert len(outcome.pulled) == 100
    for record in outcome.pulled:
        assert (tmp_path / record.local).read_bytes() == contents[record.remote]


def test_files_are_created_on_writer_threads_each_in_a_staging_folder_of_its_own(tmp_path, monkeypatch):
    """Creations in one folder wait for each other in the kernel: each writer has a folder of its own."""
    contents, listed = small_tree(40)
    real_fd, created = local_copy.private_fd, []

    def recording(path, *args):
        created.append((threading.current_thread().name, Path(path).parent))
        return real_fd(path, *args)

    monkeypatch.setattr(local_copy, "private_fd", recording)
    monkeypatch.setattr(pull, "SyncStream", lambda adb, serial, ls_v2=None: FakeStream(contents))
    monkeypatch.setattr(pull, "WRITER_THREADS", 2)
    with Journal(tmp_path / "journal.jsonl") as journal:
        outcome = pull.Puller(InstantPhone(contents), tmp_path, journal).pull(listed, lambda p: "files/" + p[8:])
    assert len(outcome.pulled) == 40 and len(created) == 40
    assert all(name.startswith("writer") for name, _ in created)
    lanes = {folder: {name for name, f in created if f == folder} for _, folder in created}
    assert len(lanes) == 2 and all(len(names) == 1 for names in lanes.values())
    assert not list(tmp_path.rglob("*.part"))


def test_a_full_disk_met_by_a_writer_thread_stops_the_pull_with_only_whole_files_counted(tmp_path, monkeypatch):
    contents, listed = small_tree(200)
    real_fd, calls = local_copy.private_fd, []

    def full_after_five(path, *args):
        calls.append(path)
        if len(calls) > 5:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fd(path, *args)

    monkeypatch.setattr(local_copy, "private_fd", full_after_five)
    monkeypatch.setattr(pull, "SyncStream", lambda adb, serial, ls_v2=None: FakeStream(contents))
    monkeypatch.setattr(pull, "WRITER_THREADS", 2)
    shown = []
    with pytest.raises(StepFailed, match="^disk full while writing "):
        with Journal(tmp_path / "journal.jsonl") as journal:
            pull.Puller(InstantPhone(contents), tmp_path, journal, on_file=shown.append).pull(
                listed, lambda p: "files/" + p[8:])
    journaled = [json.loads(line) for line in (tmp_path / "journal.jsonl").read_text().splitlines()]
    assert 0 < len(journaled) <= 5 and sorted(r["remote"] for r in journaled) == sorted(r.remote for r in shown)
    for record in journaled:  # what counts as done is whole
        assert (tmp_path / record["local"]).read_bytes() == contents[record["remote"]]
    assert not list(tmp_path.rglob("*.part"))
