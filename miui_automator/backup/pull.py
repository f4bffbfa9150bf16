"""Pulling files with proof: every file is checked against the md5 the phone itself computes.

The phone's ``md5sum`` runs on batches of files (one shell call for up to a few hundred) on
:data:`MD5_WORKERS` shell calls at once, while the files stream over one shared sync stream (the
way ``adb pull`` copies a tree) into staging files (``state.staging_path``), md5 and sha256
computed on the way (on threads of their own where the host has the cores, :class:`HashWorkers`).
The copy never waits for the phone: a copied file waits in its staging file until its batch's md5s
are in, and only a copy whose md5 equals the phone's is renamed into place and appended to the
journal, so an interrupted backup never counts a half-copied or unchecked file as done. The phone
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
import hashlib
import os
import re
import shlex
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

from ..device.driver import Driver
from ..errors import DeviceError, StepFailed
from ..private_files import private_dir, private_fd
from .inventory import RemoteFile
from .state import Journal, PulledFile, staging_path
from .sync import RecvFailed, SyncStream, is_utf8, path_bytes, printable

PIPELINE_DEPTH = 64  # files asked for ahead of the one being read ...
REQUEST_GROUP = 32  # ... topped up this many at a time (SyncStream.ask_ahead)
BLOCK_BYTES = 1 << 20  # what the local md5 and sha256 threads get at a time
BLOCKS_AHEAD = 8
# The digests get threads of their own only where they get cores of their own: on a 2-core host (the
# phone's adb server and the writer need the rest) bench/backup_bench.py measured them no faster inline.
LOCAL_HASH_THREADS = (os.cpu_count() or 1) >= 4
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


# ---------------------------------------------------------------------- local side
class HashWorkers:
    """md5 and sha256, each on a thread of its own, fed blocks of :data:`BLOCK_BYTES` in order.

    hashlib lets go of the GIL while it hashes a block, so the two digests and the receipt of the
    next chunk from the socket run at once: at USB 3 speed the host's md5 alone takes most of a
    core, and hashing inline made the copy wait on it. At most :data:`BLOCKS_AHEAD` blocks wait
    for a digest, so a slow hash holds the transfer back instead of filling the memory.
    """

    def __init__(self) -> None:
        self._md5 = ThreadPoolExecutor(1, thread_name_prefix="md5-local")
        self._sha256 = ThreadPoolExecutor(1, thread_name_prefix="sha256-local")
        self._pending: deque[Future] = deque()

    def feed(self, md5: "hashlib._Hash", sha256: "hashlib._Hash", block: bytes | bytearray) -> None:
        self._pending.append(self._md5.submit(md5.update, block))
        self._pending.append(self._sha256.submit(sha256.update, block))
        while len(self._pending) > 2 * BLOCKS_AHEAD:
            self._pending.popleft().result()

    def drain(self) -> None:
        """Wait until every block fed so far is in its digest."""
        while self._pending:
            self._pending.popleft().result()

    def close(self) -> None:
        self._pending.clear()
        self._md5.shutdown(wait=True)
        self._sha256.shutdown(wait=True)


class FileSink:
    """Writes a file while hashing it; the sync stream calls :meth:`write` with each chunk.

    Without ``workers`` each chunk is hashed inline; with them, chunks gather into blocks that are
    written and handed to the :class:`HashWorkers`, and :meth:`close` waits for the digests.
    """

    def __init__(self, path: Path, on_bytes: Callable[[int], None] | None = None,
                 workers: HashWorkers | None = None) -> None:
        self.path = path
        self._fd = private_fd(path)  # unbuffered: each chunk is written once, with no file object around it
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.sha256 = hashlib.sha256()
        self.on_bytes = on_bytes  # progress: called with each chunk's length
        self._workers = workers
        self._block = bytearray()

    def _write(self, data: memoryview | bytearray) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]

    def write(self, chunk: memoryview) -> None:
        if self._workers is None:
            self._write(chunk)
            self.md5.update(chunk)
            self.sha256.update(chunk)
        else:
            self._block += chunk  # the chunk is the stream's buffer, reused after this call: copied once here
            if len(self._block) >= BLOCK_BYTES:
                self._hand_off()
        if self.on_bytes is not None:
            self.on_bytes(len(chunk))

    def _hand_off(self) -> None:
        block, self._block = self._block, bytearray()
        self._write(block)
        assert self._workers is not None
        self._workers.feed(self.md5, self.sha256, block)

    def close(self) -> None:
        if self._workers is not None:
            if self._block:
                self._hand_off()
            self._workers.drain()
        fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)

    def discard(self) -> None:
        fd, self._fd = self._fd, -1
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass
        self.path.unlink(missing_ok=True)


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


def disk_error(err: OSError, target: Path) -> StepFailed:
    """A clear one-line error for a local write failure; the state stays resumable."""
    if err.errno == errno.ENOSPC:
        return StepFailed(f"disk full while writing {printable(str(target))}: free some space and run the backup "
                          f"again — it resumes where it stopped", path=printable(str(target)))
    return StepFailed(f"cannot write {printable(str(target))}: {err.strerror or err}", path=printable(str(target)))


@dataclass
class _Copy:
    """A file received into its staging file, waiting for the phone's md5 to be kept or thrown away."""

    file: RemoteFile
    local: str
    part: Path
    size: int
    md5: str  # of the copy, as received
    sha256: str
    phone: "Future[dict[str, str]]"  # the md5s of the file's md5sum batch


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
        transfer runs at the cable's speed whatever the phone's hashing does meanwhile."""
        outcome = PullOutcome()
        batches = list(md5_batches(files, first_bytes=MD5_FIRST_BATCH_BYTES))
        pool = ThreadPoolExecutor(MD5_WORKERS, thread_name_prefix="md5")
        self._hashers = HashWorkers() if LOCAL_HASH_THREADS else None
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
            while waiting:
                self._check(waiting[0], outcome, again)
                waiting.popleft()
            for f in again:
                self._once_more(f, local_of(f.path), outcome)
        except StepFailed:
            self._keep_proven(waiting, outcome, wait=True)
            raise
        except DeviceError:
            self._keep_proven(waiting, outcome, wait=False)
            raise
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
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
                if md5 is not None and md5 == copy.md5 and copy.size == copy.file.size:
                    self._keep(copy, md5, outcome)
                else:
                    copy.part.unlink(missing_ok=True)
                waiting.popleft()
        except Exception:  # noqa: BLE001 - see the docstring
            pass

    def _copy(self, f: RemoteFile, local: str, ahead: Sequence[str], outcome: PullOutcome,
              phone: "Future[dict[str, str]]") -> _Copy | None:
        """Receive ``f`` into its staging file; None when the phone refused it (noted in ``outcome.skipped``)."""
        target = self.folder / local
        part = staging_path(self.folder, local)
        for folder in (target.parent, part.parent):
            if folder not in self._dirs:
                try:
                    private_dir(folder)
                except OSError as err:
                    raise disk_error(err, folder) from None
                self._dirs.add(folder)
        try:
            size, md5, sha256 = self._recv(f.path, part, ahead)
        except RecvFailed as failure:
            outcome.skipped[f.path] = "deleted from the phone during the backup" if failure.vanished else failure.reason
            return None
        return _Copy(f, local, part, size, md5, sha256, phone)

    def _check(self, copy: _Copy, outcome: PullOutcome, again: list[RemoteFile]) -> None:
        """Keep the copy if its md5 is the phone's and its size the listed one; otherwise it is pulled again."""
        f = copy.file
        md5 = copy.phone.result().get(f.path)
        if md5 is None:  # a name md5sum cannot take on its command line, or one it printed ambiguously
            md5 = single_md5(self.driver, f.path, f.size)
        # without ls_v2 the listing holds sizes modulo 4 GiB; the md5 still proves the copy
        same_size = copy.size == f.size or (not self._ls_v2 and copy.size % (1 << 32) == f.size)
        if md5 is not None and copy.md5 == md5 and same_size:
            self._keep(copy, md5, outcome)
        else:
            copy.part.unlink(missing_ok=True)
            again.append(f)

    def _once_more(self, f: RemoteFile, local: str, outcome: PullOutcome) -> None:
        """The second try of a file whose copy did not match: a fresh md5 first, then a copy of its own."""
        md5 = single_md5(self.driver, f.path, f.size)
        done: Future[dict[str, str]] = Future()
        done.set_result({} if md5 is None else {f.path: md5})
        copy = self._copy(f, local, (f.path,), outcome, done)
        if copy is None:
            return
        if md5 is not None and copy.md5 == md5:
            self._keep(copy, md5, outcome)
            return
        copy.part.unlink(missing_ok=True)
        outcome.failed.append(
            f"{printable(f.path)}: the phone's md5sum gives no checksum for it" if md5 is None else
            f"{printable(f.path)} changed while being pulled, even on a second try (md5 on the phone {md5}, "
            f"pulled copy {copy.md5}; size listed {f.size} B, pulled {copy.size} B)")

    def _keep(self, copy: _Copy, md5: str, outcome: PullOutcome) -> None:
        """Move a verified copy into place and journal it (the journal reaches the disk every :data:`JOURNAL_SYNC_S`)."""
        f = copy.file
        target = self.folder / copy.local
        try:
            os.replace(copy.part, target)
            os.utime(target, (f.mtime, f.mtime))
            record = PulledFile(f.path, copy.local, copy.size, f.mtime, md5, copy.sha256, self.kind, f.size)
            self.journal.add(record)
            if time.monotonic() - self._synced >= JOURNAL_SYNC_S:
                self.journal.sync()
                self._synced = time.monotonic()
        except OSError as err:
            raise disk_error(err, target) from None
        outcome.pulled.append(record)
        if self.on_file is not None:
            self.on_file(record)

    def _recv(self, remote: str, part: Path, ahead: Sequence[str]) -> tuple[int, str, str]:
        """Receive ``remote`` into ``part``; ``ahead`` are the files to read from this one on, in order."""
        stream = self._sync()
        stream.ask_ahead(ahead, PIPELINE_DEPTH, REQUEST_GROUP)  # what is asked for already is a prefix of it
        try:
            sink = FileSink(part, self.on_bytes, self._hashers)
        except OSError as err:
            raise disk_error(err, part) from None
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
        return size, sink.md5.hexdigest(), sink.sha256.hexdigest()
