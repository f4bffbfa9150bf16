"""Pulling files with proof: every file is checked against the md5 the phone itself computes.

The phone's ``md5sum`` runs on batches of files (one shell call for up to a few hundred) on
:data:`MD5_WORKERS` shell calls at once, while the files stream over one shared sync stream (the
way ``adb pull`` copies a tree, but asking for the next files ahead) into staging files
(``state.staging_path``), md5 and sha256 computed on the way (on threads of their own where the host has
the cores, :class:`HashWorkers`); the files are created, written, renamed and journaled by writer
threads (:class:`~.local_copy.FileWriter`) while the next ones arrive. The copy never waits for the
phone: a copied file waits in its staging file until its batch's md5s are in, and only a copy whose
md5 equals the phone's is renamed into place and appended to the journal, so an interrupted backup
never counts a half-copied or unchecked file as done. The phone
hashes about as fast as USB 3 carries data and has cores to spare, so its md5s keep up with the
copy; the first batch is small and each next one twice as large, so the first files are checked
(and shown as done) at once.

A file whose copy does not match (it was being written while pulled) is pulled once more,
after the others, against a fresh md5; if it still differs it is reported by name and the rest of the files are
still pulled, so a resume has only those left to do.

adbutils sends shell commands as UTF-8, so a path that is not UTF-8 cannot appear on a command
line as it is: it is left out of the batches and hashed alone, its bytes spelt as ``printf``
octal escapes (:func:`shell_path`).
"""

from __future__ import annotations

import errno
import os
import re
import shlex
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

from ..device.driver import Driver
from ..errors import DeviceError, StepFailed
from ..private_files import private_dir
from .inventory import RemoteFile
from .local_copy import LOCAL_HASH_THREADS, WRITER_THREADS, FileSink, FileWriter, HashWorkers, disk_error
from .state import Journal, PulledFile, staging_path
from .sync import RecvFailed, SyncStream, is_utf8, path_bytes, printable

PIPELINE_DEPTH = 64  # files asked for ahead of the one being read ...
REQUEST_GROUP = 32  # ... topped up this many at a time (SyncStream.ask_ahead)
JOURNAL_SYNC_S = 1.0  # the journal reaches the disk this often (and at the end): a crash re-pulls at most this much
MAX_WAITING_FILES = 4096  # copies made, waiting for the phone's md5 to be kept: a crash re-pulls at most these
MAX_WAITING_BYTES = 1 << 30
MD5_BATCH_FILES = 256
MD5_BATCH_CHARS = 30_000  # command line length: far below what adbd and mksh accept
MD5_BATCH_BYTES = 64 << 20
MD5_FIRST_BATCH_BYTES = 1 << 20  # the first files checked; later batches double up to MD5_BATCH_BYTES
MD5_WORKERS = 2  # md5sum calls running on the phone at once: one phone core hashes slower than USB 3 carries
MD5_BASE_TIMEOUT_S = 30.0
MD5_BYTES_PER_S = 20e6  # a slow phone's md5sum; bounds the shell call's timeout
_MD5_LINE = re.compile(r"^([0-9a-f]{32}) [ *](.*)$")


# ---------------------------------------------------------------------- md5 on the phone (pure parts)
def md5_batches(files: Sequence[RemoteFile], max_files: int = MD5_BATCH_FILES, max_chars: int = MD5_BATCH_CHARS,
                max_bytes: int = MD5_BATCH_BYTES, first_bytes: int | None = None) -> Iterator[list[RemoteFile]]:
    """Consecutive groups small enough for one ``md5sum`` command line and a bounded wait.

    With ``first_bytes`` the first group holds at most that many bytes (or one file) and each next
    one may hold twice as many as the last, up to ``max_bytes``."""
    batch: list[RemoteFile] = []
    chars = size = 0
    cap = min(first_bytes, max_bytes) if first_bytes else max_bytes
    for f in files:
        quoted = len(shlex.quote(f.path)) + 1
        if batch and (len(batch) >= max_files or chars + quoted > max_chars or size + f.size > cap):
            yield batch
            batch, chars, size = [], 0, 0
            cap = min(cap * 2, max_bytes)
        batch.append(f)
        chars += quoted
        size += f.size
    if batch:
        yield batch


def md5_command(paths: Sequence[str]) -> str:
    return "md5sum " + " ".join(shlex.quote(p) for p in paths)


def parse_md5_output(output: str) -> dict[str, str]:
    """``<md5>  <path>`` lines of md5sum as {path: md5}; error lines (``md5sum: x: No such file``) are left out."""
    found = {}
    for line in output.replace("\r\n", "\n").split("\n"):
        m = _MD5_LINE.match(line)
        if m:
            found[m.group(2)] = m.group(1)
    return found


def md5_timeout(total_bytes: int) -> float:
    return MD5_BASE_TIMEOUT_S + total_bytes / MD5_BYTES_PER_S


def phone_md5s(driver: Driver, batch: Sequence[RemoteFile]) -> dict[str, str]:
    """md5s of a batch; paths that are not UTF-8 are left out (they get :func:`single_md5`)."""
    paths = [f.path for f in batch if is_utf8(f.path)]
    if not paths:
        return {}
    out = driver.shell(md5_command(paths), timeout_s=md5_timeout(sum(f.size for f in batch)))
    return parse_md5_output(out.output)


def shell_path(path: str) -> str:
    """``path`` as a shell word that is pure ASCII: quoted as is when it is UTF-8, otherwise rebuilt on the
    phone by ``printf`` from octal escapes of its bytes (a name ending in a newline loses it there, and fails
    its md5 instead of matching the wrong file)."""
    if is_utf8(path):
        return shlex.quote(path)
    spelt = "".join(chr(b) if 0x20 <= b < 0x7F and chr(b) not in "%\\'" else f"\\{b:03o}" for b in path_bytes(path))
    return f"\"$(printf '{spelt}')\""


def single_md5(driver: Driver, path: str, size: int) -> str | None:
    """md5 of one file read through stdin: works for names md5sum would print ambiguously (a newline in the name)."""
    out = driver.shell(f"md5sum < {shell_path(path)}", timeout_s=md5_timeout(size))
    m = re.match(r"^([0-9a-f]{32})\s", out.output)
    return m.group(1) if m else None


@dataclass
class PullOutcome:
    pulled: list[PulledFile] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # path -> why: gone or unreadable; warnings, not failures
    failed: list[str] = field(default_factory=list)  # could not be verified: the backup cannot be complete

    @property
    def skipped_lines(self) -> list[str]:
        return [f"{printable(path)}: {why}" for path, why in self.skipped.items()]

    @property
    def bytes(self) -> int:
        return sum(p.size for p in self.pulled)


@dataclass
class _Copy:
    """A file received into its staging file, waiting for the phone's md5 to be kept or thrown away."""

    file: RemoteFile
    local: str
    sink: FileSink  # its staging file (``sink.path``), written by one of the pull's writers
    size: int
    md5: str  # of the copy, as received
    sha256: str
    phone: "Future[dict[str, str]]"  # the md5s of the file's md5sum batch

    @property
    def part(self) -> Path:
        return self.sink.path


class Puller:
    """Pulls a list of files into a backup folder, verifying and journaling each one."""

    def __init__(self, driver: Driver, folder: Path, journal: Journal, *, kind: str = "file",
                 on_file: Callable[[PulledFile], None] | None = None,
                 on_bytes: Callable[[int], None] | None = None, ls_v2: bool | None = None) -> None:
        adb = getattr(driver, "adb", None)
        if adb is None:
            raise StepFailed(f"{driver.serial}: backing up needs a phone reached through adb")
        self.driver = driver
        self.adb = adb
        self.folder = folder
        self.journal = journal
        self.kind = kind
        self.on_file = on_file
        self.on_bytes = on_bytes
        self._stream: SyncStream | None = None
        self._ls_v2 = ls_v2  # known from the inventory's walk, or asked of the phone when the first stream opens
        self._dirs: set[Path] = set()
        self._hashers: HashWorkers | None = None
        self._writers = [FileWriter()]
        self._files = 0  # files received so far: file i goes to writer i % len(self._writers)
        self._journal_lock = threading.Lock()
        self._kept: deque[Future[object]] = deque()  # keep jobs handed to the writer, each giving a PulledFile
        self._synced = time.monotonic()

    def _sync(self) -> SyncStream:
        if self._stream is None or not self._stream.usable:
            self._stream = SyncStream(self.adb, self.driver.serial, ls_v2=self._ls_v2)
            self._ls_v2 = self._stream.ls_v2
        return self._stream

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def pull(self, files: Sequence[RemoteFile], local_of: Callable[[str], str]) -> PullOutcome:
        """Copy every file, then keep each copy whose md5 equals the phone's; one that differs is pulled once more.

        The copies never wait for the phone's md5sum: a copy waits in its staging file until its batch's md5s
        are in (at most :data:`MAX_WAITING_FILES` files or :data:`MAX_WAITING_BYTES` bytes of them), so the
        transfer runs at the cable's speed whatever the phone's hashing does meanwhile. File ``i`` is written,
        renamed and journaled by writer ``i % WRITER_THREADS``, its steps in order; a file counts as pulled
        (``outcome.pulled``, ``on_file``, in the order pulled) once its journal line is written."""
        outcome = PullOutcome()
        batches = list(md5_batches(files, first_bytes=MD5_FIRST_BATCH_BYTES))
        pool = ThreadPoolExecutor(MD5_WORKERS, thread_name_prefix="md5")
        self._hashers = HashWorkers() if LOCAL_HASH_THREADS else None
        self._writers = [FileWriter(threaded=WRITER_THREADS > 0) for _ in range(max(1, WRITER_THREADS))]
        waiting: deque[_Copy] = deque()
        again: list[RemoteFile] = []
        try:
            sums = {}
            for batch in batches:  # the pool runs MD5_WORKERS calls at once, in this order
                future = pool.submit(phone_md5s, self.driver, batch)
                sums.update((f.path, future) for f in batch)
            order = [f for batch in batches for f in batch]
            paths = [f.path for f in order]
            waiting_bytes = 0
            for i, f in enumerate(order):
                copy = self._copy(f, local_of(f.path), paths[i:i + PIPELINE_DEPTH], outcome, sums[f.path])
                if copy is not None:
                    waiting.append(copy)
                    waiting_bytes += copy.size
                while waiting and (waiting[0].phone.done() or len(waiting) > MAX_WAITING_FILES
                                   or waiting_bytes > MAX_WAITING_BYTES):
                    self._check(waiting[0], outcome, again)  # a copy leaves the queue once checked: if the
                    waiting_bytes -= waiting.popleft().size  # check fails, the cleanup below still removes it
                self._collect(outcome, wait=False)
            while waiting:
                self._check(waiting[0], outcome, again)
                waiting.popleft()
            for f in again:
                self._once_more(f, local_of(f.path), outcome)
            self._collect(outcome, wait=True)
        except StepFailed:
            self._keep_proven(waiting, outcome, wait=True)
            raise
        except DeviceError:
            self._keep_proven(waiting, outcome, wait=False)
            raise
        except BaseException:  # interrupted: what the writers journaled still counts, and is shown
            self._collect(outcome, wait=True, quiet=True)
            raise
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
            for writer in self._writers:
                writer.close()  # every file operation handed in has run: what is left in staging can go
            for copy in waiting:
                copy.part.unlink(missing_ok=True)
            if self._hashers is not None:
                self._hashers.close()
            self._hashers = None
            self.close()
        return outcome

    def _keep_proven(self, waiting: deque[_Copy], outcome: PullOutcome, wait: bool) -> None:
        """On the way out of a failed pull, keep the copies already made that the phone's md5 proves, so a resume
        pulls less: after a local error (a full disk) the phone still answers, so its md5s are waited for; after
        the phone is lost only those already in are used. Whatever fails here leaves the first error to report."""
        try:
            while waiting and (wait or (waiting[0].phone.done() and waiting[0].phone.exception() is None)):
                copy = waiting[0]
                md5 = copy.phone.result().get(copy.file.path)
                if self._proven(copy, md5):
                    self._keep(copy, md5)
                else:
                    copy.sink.discard()
                waiting.popleft()
        except Exception:  # noqa: BLE001 - see the docstring
            pass
        self._collect(outcome, wait=True, quiet=True)

    def _copy(self, f: RemoteFile, local: str, ahead: Sequence[str], outcome: PullOutcome,
              phone: "Future[dict[str, str]]") -> _Copy | None:
        """Receive ``f`` into its staging file; None when the phone refused it (noted in ``outcome.skipped``)."""
        for writer in self._writers:
            writer.check()  # a full disk stops the pull at once, not after every file has crossed the cable
        lane = self._files % len(self._writers)
        self._files += 1
        target = self.folder / local
        part = staging_path(self.folder, local)
        part = part.parent / str(lane) / part.name  # each writer creates files in a folder of its own
        for folder in (target.parent, part.parent):
            if folder not in self._dirs:
                try:
                    private_dir(folder)
                except OSError as err:
                    raise disk_error(err, folder) from None
                self._dirs.add(folder)
        try:
            sink, size = self._recv(f.path, part, ahead, self._writers[lane])
        except RecvFailed as failure:
            outcome.skipped[f.path] = "deleted from the phone during the backup" if failure.vanished else failure.reason
            return None
        return _Copy(f, local, sink, size, sink.md5.hexdigest(), sink.sha256.hexdigest(), phone)

    def _check(self, copy: _Copy, outcome: PullOutcome, again: list[RemoteFile]) -> None:
        """Keep the copy if its md5 is the phone's and its size the listed one; otherwise it is pulled again."""
        f = copy.file
        if not copy.phone.done():
            self._flush()  # the writers work while this waits for the phone
        md5 = copy.phone.result().get(f.path)
        if md5 is None:  # a name md5sum cannot take on its command line, or one it printed ambiguously
            md5 = single_md5(self.driver, f.path, f.size)
        if self._proven(copy, md5):
            self._keep(copy, md5)
        else:
            copy.sink.discard()
            again.append(f)

    def _proven(self, copy: _Copy, md5: str | None) -> bool:
        """Whether ``copy`` is the phone's file: its md5 is the phone's and its size the listed one. Without ls_v2
        the listing holds sizes modulo 4 GiB; the md5 still proves the copy."""
        size = copy.file.size
        same_size = copy.size == size or (not self._ls_v2 and copy.size % (1 << 32) == size)
        return md5 is not None and copy.md5 == md5 and same_size

    def _once_more(self, f: RemoteFile, local: str, outcome: PullOutcome) -> None:
        """The second try of a file whose copy did not match: a fresh md5 first, then a copy of its own."""
        md5 = single_md5(self.driver, f.path, f.size)
        done: Future[dict[str, str]] = Future()
        done.set_result({} if md5 is None else {f.path: md5})
        copy = self._copy(f, local, (f.path,), outcome, done)
        if copy is None:
            return
        if md5 is not None and copy.md5 == md5:
            self._keep(copy, md5)
            return
        copy.sink.discard()
        outcome.failed.append(
            f"{printable(f.path)}: the phone's md5sum gives no checksum for it" if md5 is None else
            f"{printable(f.path)} changed while being pulled, even on a second try (md5 on the phone {md5}, "
            f"pulled copy {copy.md5}; size listed {f.size} B, pulled {copy.size} B)")

    def _keep(self, copy: _Copy, md5: str) -> None:
        """Have the writer move a verified copy into place and journal it, after the copy's own writes."""
        self._kept.append(copy.sink.writer.submit(self.folder / copy.local, self._move_and_journal, copy, md5))

    def _move_and_journal(self, copy: _Copy, md5: str) -> PulledFile:
        """On the writer: rename the staging file into place, then its journal line (which reaches the disk every
        :data:`JOURNAL_SYNC_S`); a copy whose writes failed is never moved."""
        if copy.sink.failed:  # its own write error is the one reported
            raise OSError(errno.EIO, "the copy was not written whole")
        f = copy.file
        target = self.folder / copy.local
        os.replace(copy.part, target)
        os.utime(target, (f.mtime, f.mtime))
        record = PulledFile(f.path, copy.local, copy.size, f.mtime, md5, copy.sha256, self.kind, f.size)
        with self._journal_lock:
            self.journal.add(record)
            if time.monotonic() - self._synced >= JOURNAL_SYNC_S:
                self.journal.sync()
                self._synced = time.monotonic()
        return record

    def _flush(self) -> None:
        for writer in self._writers:
            writer.flush()

    def _collect(self, outcome: PullOutcome, wait: bool, quiet: bool = False) -> None:
        """Count the files the writers have journaled, in order (all of them with ``wait``); a disk error is raised
        as a clear one-line error unless ``quiet`` (on the way out of a pull that already failed)."""
        if wait:
            self._flush()
        while self._kept and (wait or self._kept[0].done()):
            future = self._kept.popleft()
            if future.exception() is not None:
                if quiet:
                    continue
                for writer in self._writers:
                    writer.check()
                raise future.exception()  # type: ignore[misc]
            record = future.result()
            assert isinstance(record, PulledFile)
            outcome.pulled.append(record)
            if self.on_file is not None:
                self.on_file(record)

    def _recv(self, remote: str, part: Path, ahead: Sequence[str], writer: FileWriter) -> tuple[FileSink, int]:
        """Receive ``remote`` into ``part``; ``ahead`` are the files to read from this one on, in order."""
        stream = self._sync()
        stream.ask_ahead(ahead, PIPELINE_DEPTH, REQUEST_GROUP)  # what is asked for already is a prefix of it
        sink = FileSink(part, self.on_bytes, self._hashers, writer)
        try:
            size = stream.recv(remote, sink.write)
            sink.close()
        except OSError as err:
            sink.discard()
            stream.close()  # the transfer stopped half-way: this stream cannot carry another request
            raise disk_error(err, part) from None
        except BaseException:
            sink.discard()
            stream.close()
            raise
        return sink, size
