"""The on-disk cache of resolved strings, one file per (package, versionCode, locale).

Identical phones run the same APK build, so a fleet of fifty reads each APK once: the first run to
miss takes a lock for that key, reads the table from its phone and writes the file; the others wait
for the lock (bounded) and read the file. Files are written to a temporary name and renamed into
place (``os.replace``), so a reader never sees half a file, and are private (0600) like every record
of the tool. A file that does not parse is a miss and is written again.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..backup.records import data_home
from ..private_files import open_private, private_dir

CACHE_DIR = "strings"
LOCK_WAIT_S = 300.0
"""How long a run waits for another run reading the same APK before reading it itself."""
LOCK_POLL_S = 0.05
FORMAT = 1

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; the atomic rename still keeps every file whole
    fcntl = None  # type: ignore[assignment]


def default_root() -> Path:
    return data_home() / CACHE_DIR


class StringCache:
    """Resolved ``{key: text}`` per (package, versionCode, locale) under ``root``."""

    def __init__(self, root: Path | None = None, *, lock_wait_s: float = LOCK_WAIT_S) -> None:
        self.root = Path(root) if root is not None else default_root()
        self.lock_wait_s = lock_wait_s

    def path(self, package: str, version: str, locale: str) -> Path:
        return self.root / package / version / f"{locale or 'default'}.json"

    def read(self, package: str, version: str, locale: str) -> dict[str, str] | None:
        try:
            data = json.loads(self.path(package, version, locale).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if (not isinstance(data, dict) or data.get("format") != FORMAT or data.get("package") != package
                or data.get("version") != version or not isinstance(data.get("strings"), dict)):
            return None
        strings = data["strings"]
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in strings.items()):
            return None
        return strings

    def write(self, package: str, version: str, locale: str, strings: dict[str, str]) -> None:
        path = self.path(package, version, locale)
        private_dir(path.parent)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
        try:
            with open_private(tmp, "x", encoding="utf-8") as f:
                json.dump({"format": FORMAT, "package": package, "version": version, "locale": locale,
                           "strings": strings}, f, ensure_ascii=False, sort_keys=True)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def get_or_load(self, package: str, version: str, locale: str,
                    load: Callable[[], dict[str, str]]) -> tuple[dict[str, str], bool]:
        """(strings, True) from the cache, else (``load()``, False) written to it; one loader per key at a time."""
        found = self.read(package, version, locale)
        if found is not None:
            return found, True
        with self._lock(package, version, locale):
            found = self.read(package, version, locale)  # another run may have written it while we waited
            if found is not None:
                return found, True
            strings = load()
            self.write(package, version, locale, strings)
            return strings, False

    @contextmanager
    def _lock(self, package: str, version: str, locale: str) -> Iterator[None]:
        if fcntl is None:
            yield
            return
        path = self.path(package, version, locale)
        private_dir(path.parent)
        with open_private(path.with_name(f".{path.name}.lock"), "a") as handle:
            deadline = time.monotonic() + self.lock_wait_s
            locked = False
            while not locked:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    locked = True
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        break  # a stuck holder must not stop the run: read the APK ourselves
                    time.sleep(LOCK_POLL_S)
            try:
                yield
            finally:
                if locked:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
