"""The host side of a pull: a file's bytes hashed (md5 and sha256) as they arrive and written by a writer thread.

Pure bookkeeping and I/O on this host, no phone: :class:`FileSink` takes the chunks the sync stream hands over,
:class:`HashWorkers` hash big files on threads of their own where the host has the cores, and :class:`FileWriter`
creates, writes, renames and journals the files in order on a thread of its own. ``pull.py`` decides which copies
are kept (the phone's md5) and drives these.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Callable

from ..errors import StepFailed
from ..private_files import private_fd
from .sync import printable

BLOCK_BYTES = 1 << 20  # what the local md5 and sha256 threads get at a time
BLOCKS_AHEAD = 8
# The digests get threads of their own only where they get cores of their own: on a 2-core host (the
# phone's adb server and the writer need the rest) bench/backup_bench.py measured them no faster inline.
LOCAL_HASH_THREADS = (os.cpu_count() or 1) >= 4
# Writer threads of a pull, each creating its files in a staging folder of its own (file creations in one folder
# wait for each other in the kernel; in two they run at once). None on a 1-core host: the work is done inline.
WRITER_THREADS = 2 if (os.cpu_count() or 1) >= 2 else 0
WRITE_BATCH_JOBS = 32
WRITE_AHEAD_BYTES = 32 << 20  # received, waiting for a writer thread: a slow disk holds the transfer back


def disk_error(err: OSError, target: Path) -> StepFailed:
    """A clear one-line error for a local write failure; the state stays resumable."""
    if err.errno == errno.ENOSPC:
        return StepFailed(f"disk full while writing {printable(str(target))}: free some space and run the backup "
                          f"again — it resumes where it stopped", path=printable(str(target)))
    return StepFailed(f"cannot write {printable(str(target))}: {err.strerror or err}", path=printable(str(target)))


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


class FileWriter:
    """Does the local file work of a pull — write, close, rename into place, journal, remove — in the order handed in.

    Creating a file is most of what a small file costs this host (bench/backup_bench.py: on ext4 up to 0.5 ms of
    kernel time, against tens of microseconds for its bytes and digests), and ``adb pull`` pays it between one
    file's end and the next request. With ``threaded`` the work runs on a thread of its own (the kernel works without
    the GIL) while the next files are received and hashed; one thread keeps each file's steps in order. Jobs reach
    the thread :data:`WRITE_BATCH_JOBS` at a time (one wake-up per batch, not per job: handing over each job alone
    cost more than it saved) and :meth:`flush` hands over the rest before anyone waits for them. At most
    :data:`WRITE_AHEAD_BYTES` wait to be written, so a slow disk holds the transfer back instead of filling the
    memory. Without ``threaded`` each job runs at once and its error is raised to the caller.
    """

    def __init__(self, threaded: bool = False) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="writer") if threaded else None
        self._batch: list[tuple[Future[object], Path, Callable[..., object], tuple]] = []
        self._batch_bytes = 0
        self._pending: deque[tuple[Future[None], int]] = deque()  # batches handed over, and their bytes
        self._bytes = 0
        self.error: tuple[OSError, Path] | None = None  # the first job that failed, and the file it was about

    def submit(self, path: Path, fn: Callable[..., object], *args: object, nbytes: int = 0) -> "Future[object]":
        """Run ``fn(*args)`` after every job handed in before; ``path`` names the file in a disk error."""
        future: Future[object] = Future()
        if self._pool is None:
            future.set_result(self._run(path, fn, args))
            return future
        self._batch.append((future, path, fn, args))
        self._batch_bytes += nbytes
        if len(self._batch) >= WRITE_BATCH_JOBS or self._batch_bytes >= BLOCK_BYTES:
            self.flush()
        return future

    def flush(self) -> None:
        """Hand the jobs gathered so far to the thread (a no-op without one)."""
        if not self._batch or self._pool is None:
            return
        batch, nbytes = self._batch, self._batch_bytes
        self._batch, self._batch_bytes = [], 0
        self._pending.append((self._pool.submit(self._run_batch, batch), nbytes))
        self._bytes += nbytes
        while self._pending and (self._pending[0][0].done() or self._bytes > WRITE_AHEAD_BYTES):
            wait((self._pending[0][0],))
            self._bytes -= self._pending.popleft()[1]

    def _run(self, path: Path, fn: Callable[..., object], args: tuple) -> object:
        try:
            return fn(*args)
        except OSError as err:
            if self.error is None:
                self.error = (err, path)
            raise

    def _run_batch(self, batch: list[tuple[Future[object], Path, Callable[..., object], tuple]]) -> None:
        for future, path, fn, args in batch:
            try:
                future.set_result(self._run(path, fn, args))
            except BaseException as err:  # noqa: BLE001 - each job's error goes to its own future
                future.set_exception(err)

    def check(self) -> None:
        """Raise the first disk error any job met (a full disk), as the clear one-line error."""
        if self.error is not None:
            raise disk_error(*self.error)

    def drain(self) -> None:
        """Wait until every job handed in has run."""
        self.flush()
        wait([future for future, _ in self._pending])
        self._pending.clear()
        self._bytes = 0

    def close(self) -> None:
        self.drain()
        if self._pool is not None:
            self._pool.shutdown(wait=True)


class FileSink:
    """Hashes a file while the sync stream hands over its chunks, and has it written by a :class:`FileWriter`.

    The chunks (the stream's buffer, reused after each call: copied once here) gather into blocks of up to
    :data:`BLOCK_BYTES`, so a small file is created and written whole by one job. Without ``workers`` each chunk is
    hashed at once; with them each block goes to the :class:`HashWorkers` too, and :meth:`close` waits for the
    digests. The file is whole once the writer has run the job :meth:`close` hands in."""

    def __init__(self, path: Path, on_bytes: Callable[[int], None] | None = None,
                 workers: HashWorkers | None = None, writer: FileWriter | None = None) -> None:
        self.path = path
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.sha256 = hashlib.sha256()
        self.on_bytes = on_bytes  # progress: called with each chunk's length
        self._workers = workers
        self.writer = writer or FileWriter()
        self._block = bytearray()
        self._fd = -1  # the writer's: opened by the first block, closed by the last
        self.failed = False  # a write failed: the file must never be kept

    def write(self, chunk: memoryview) -> None:
        if self._workers is None:
            self.md5.update(chunk)
            self.sha256.update(chunk)
        self._block += chunk
        if len(self._block) >= BLOCK_BYTES:
            self._hand_off(last=False)
        if self.on_bytes is not None:
            self.on_bytes(len(chunk))

    def _hand_off(self, last: bool) -> None:
        block, self._block = self._block, bytearray()
        if self._workers is not None and block:
            self._workers.feed(self.md5, self.sha256, block)
        self.writer.submit(self.path, self._put, block, last, nbytes=len(block))

    def _put(self, block: bytearray, last: bool) -> None:
        """On the writer: the file is created (0600) by its first block, unbuffered, and closed after its last."""
        if self.failed:
            return
        try:
            if self._fd < 0:
                self._fd = private_fd(self.path)
            view = memoryview(block)
            while view:
                view = view[os.write(self._fd, view):]
            if last:
                fd, self._fd = self._fd, -1
                os.close(fd)
        except OSError:
            self.failed = True
            self._close_fd()
            with contextlib.suppress(OSError):  # the write's own error is the one to report
                self.path.unlink(missing_ok=True)  # never kept now: nothing half-written stays behind
            raise

    def _close_fd(self) -> None:
        fd, self._fd = self._fd, -1
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass

    def close(self) -> None:
        """Hand in the last block (an empty file is created too) and wait for the digests."""
        self._hand_off(last=True)
        if self._workers is not None:
            self._workers.drain()

    def discard(self) -> None:
        """Have the file removed, after whatever of it the writer still has to write."""
        self._block = bytearray()

        def remove() -> None:
            self.failed = True
            self._close_fd()
            self.path.unlink(missing_ok=True)

        self.writer.submit(self.path, remove)
