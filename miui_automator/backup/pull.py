"""Pulling files with proof: every file is checked against the md5 the phone itself computes.

The phone's ``md5sum`` runs on batches of files (one shell call for up to a few hundred),
ahead of the transfer on :data:`MD5_WORKERS` shell calls at once, so the phone's hashing overlaps
the USB copy instead of adding to it: a phone hashes at about the speed USB 3 carries data, and it
has cores to spare. The first batch is small (the transfer waits for it) and each next one twice
as large, so the copy starts at once and no more than one small batch is ever waited for. Each file
streams over one shared sync stream into a staging file (``state.staging_path``) while md5 and
sha256 are computed on the way, each on a thread of its own (:class:`HashWorkers`); only a copy
whose md5 equals the phone's is renamed into place and appended to the journal, so an
interrupted backup never counts a half-copied file as done.

A file whose copy does not match (it was being written while pulled) is pulled once more
against a fresh md5; if it still differs it is reported by name and the rest of the files are
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
from ..errors import StepFailed
from ..private_files import open_private, private_dir
from .inventory import RemoteFile
from .state import Journal, PulledFile, staging_path
from .sync import RecvFailed, SyncStream, is_utf8, path_bytes, printable

PIPELINE_DEPTH = 16  # files asked for ahead of the one being read
BLOCK_BYTES = 1 << 20  # what the local md5 and sha256 threads get at a time
BLOCKS_AHEAD = 8
# The digests get threads of their own only where they get cores of their own: on a 2-core host (the
# phone's adb server and the writer need the rest) bench/backup_bench.py measured them no faster inline.
LOCAL_HASH_THREADS = (os.cpu_count() or 1) >= 4
JOURNAL_SYNC_S = 1.0  # the journal reaches the disk this often (and at the end): a crash re-pulls at most this much
MD5_BATCH_FILES = 256
MD5_BATCH_CHARS = 30_000  # command line length: far below what adbd and mksh accept
MD5_BATCH_BYTES = 64 << 20
MD5_FIRST_BATCH_BYTES = 1 << 20  # the batch the transfer waits for; later ones double up to MD5_BATCH_BYTES
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
        self._f = open_private(path, "wb")
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.sha256 = hashlib.sha256()
        self.on_bytes = on_bytes  # progress: called with each chunk's length
        self._workers = workers
        self._block = bytearray()

    def write(self, chunk: memoryview) -> None:
        if self._workers is None:
            self._f.write(chunk)
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
        self._f.write(block)
        assert self._workers is not None
        self._workers.feed(self.md5, self.sha256, block)

    def close(self) -> None:
        if self._workers is not None:
            if self._block:
                self._hand_off()
            self._workers.drain()
        self._f.close()

    def discard(self) -> None:
        try:
            self._f.close()
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


class Puller:
    """Pulls a list of files into a backup folder, verifying and journaling each one."""

    def __init__(self, driver: Driver, folder: Path, journal: Journal, *, kind: str = "file",
                 on_file: Callable[[PulledFile], None] | None = None,
                 on_bytes: Callable[[int], None] | None = None) -> None:
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
        self._ls_v2: bool | None = None  # asked of the phone once, when the first stream opens
        self._dirs: set[Path] = set()
        self._hashers: HashWorkers | None = None

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
        outcome = PullOutcome()
        batches = list(md5_batches(files, first_bytes=MD5_FIRST_BATCH_BYTES))
        pool = ThreadPoolExecutor(MD5_WORKERS, thread_name_prefix="md5")
        self._hashers = HashWorkers() if LOCAL_HASH_THREADS else None
        try:
            order = [f.path for batch in batches for f in batch]
            position = 0
            synced = time.monotonic()
            ahead: deque[Future] = deque(pool.submit(phone_md5s, self.driver, b) for b in batches[:MD5_WORKERS + 1])
            for i, batch in enumerate(batches):
                md5s = ahead.popleft().result()
                if i + MD5_WORKERS + 1 < len(batches):
                    ahead.append(pool.submit(phone_md5s, self.driver, batches[i + MD5_WORKERS + 1]))
                for f in batch:
                    position += 1
                    self._one(f, local_of(f.path), md5s.get(f.path), outcome, order[position:position + PIPELINE_DEPTH])
                if time.monotonic() - synced >= JOURNAL_SYNC_S:
                    self.journal.sync()
                    synced = time.monotonic()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
            if self._hashers is not None:
                self._hashers.close()
            self._hashers = None
            self.close()
        return outcome

    def _one(self, f: RemoteFile, local: str, md5: str | None, outcome: PullOutcome, upcoming: Sequence[str]) -> None:
        target = self.folder / local
        part = staging_path(self.folder, local)
        for folder in (target.parent, part.parent):
            if folder not in self._dirs:
                try:
                    private_dir(folder)
                except OSError as err:
                    raise disk_error(err, folder) from None
                self._dirs.add(folder)
        problem = ""
        for attempt in (1, 2):
            if attempt == 2:
                self.close()  # files asked for ahead would come first on this stream
            if md5 is None or attempt == 2:
                md5 = single_md5(self.driver, f.path, f.size)
            try:
                size, got_md5, sha256 = self._recv(f.path, part, upcoming if attempt == 1 else ())
            except RecvFailed as failure:
                why = "deleted from the phone during the backup" if failure.vanished else failure.reason
                outcome.skipped[f.path] = why
                return
            # without ls_v2 the listing holds sizes modulo 4 GiB; the md5 still proves the copy
            same_size = size == f.size or (not self._ls_v2 and size % (1 << 32) == f.size)
            if md5 is not None and got_md5 == md5 and (same_size or attempt == 2):
                try:
                    os.replace(part, target)
                    os.utime(target, (f.mtime, f.mtime))
                    record = PulledFile(f.path, local, size, f.mtime, md5, sha256, self.kind, f.size)
                    self.journal.add(record)
                except OSError as err:
                    raise disk_error(err, target) from None
                outcome.pulled.append(record)
                if self.on_file is not None:
                    self.on_file(record)
                return
            part.unlink(missing_ok=True)
            problem = (f"{printable(f.path)}: the phone's md5sum gives no checksum for it" if md5 is None else
                       f"{printable(f.path)} changed while being pulled, even on a second try (md5 on the phone {md5}, "
                       f"pulled copy {got_md5}; size listed {f.size} B, pulled {size} B)")
        outcome.failed.append(problem)

    def _recv(self, remote: str, part: Path, upcoming: Sequence[str]) -> tuple[int, str, str]:
        stream = self._sync()
        wanted = [remote, *upcoming]
        stream.request(wanted[stream.requested:])  # what is asked for already is always a prefix of this
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
