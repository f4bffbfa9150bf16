"""Fixtures shared by every test directory.

The adb server used by tests always runs on a free port, never the default 5037 (a developer's
real phones may be attached there). The port is chosen and exported as
``ANDROID_ADB_SERVER_PORT`` when pytest starts, before any test module imports adbutils,
because ``adbutils.adb`` (the client uiautomator2 uses) reads the variable once at import.
The server itself starts only when a test asks for ``adb_port``.

Every test gets its own ``MIUI_AUTOMATOR_HOME`` (the per-user records, e.g. of verified backups),
so no test reads or writes the developer's own.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

import pytest

if TYPE_CHECKING:
    from miui_automator.sim.host import SimHost

# The simulator is imported inside the fixtures that need it, so a half-written module of it
# cannot stop unrelated tests from being collected.

_ENV = "ANDROID_ADB_SERVER_PORT"
_saved_env: dict[str, str | None] = {}


def pytest_configure(config: pytest.Config) -> None:
    _saved_env[_ENV] = os.environ.get(_ENV)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        os.environ[_ENV] = str(sock.getsockname()[1])


def pytest_unconfigure(config: pytest.Config) -> None:
    old = _saved_env.get(_ENV)
    if old is None:
        os.environ.pop(_ENV, None)
    else:
        os.environ[_ENV] = old


@pytest.fixture(autouse=True)
def _own_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIUI_AUTOMATOR_HOME", str(tmp_path_factory.mktemp("home")))


@pytest.fixture(autouse=True)
def _no_withdrawn_secrets() -> Iterator[None]:
    """Secrets a test's CLI call withdrew from the environment belong to that test only."""
    from miui_automator import secret_env

    secret_env.forget()
    yield
    secret_env.forget()


@pytest.fixture(scope="session")
def adb_port() -> Iterator[int]:
    """The port of the real adb server (from the adbutils wheel) this session uses; killed at the end."""
    import adbutils

    from miui_automator.sim.host import ensure_adb_server, kill_adb_server

    port = int(os.environ[_ENV])
    # If something imported adbutils before pytest_configure ran, rebind its global client.
    adbutils.adb = adbutils.AdbClient(port=port)
    adbutils.device = adbutils.adb.device
    ensure_adb_server(port, usb=False)  # tests attach no USB devices
    try:
        yield port
    finally:
        kill_adb_server(port)


@pytest.fixture(scope="session")
def sim_host() -> Iterator["SimHost"]:
    """One started SimHost (event loop thread) for the session; phones are added per test."""
    from miui_automator.sim.host import SimHost

    host = SimHost().start()
    try:
        yield host
    finally:
        host.stop()


def _wait_until(condition: Callable[[], object], timeout: float = 10.0, interval: float = 0.05,
                message: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{message} not met within {timeout:g}s")
        time.sleep(interval)


@pytest.fixture
def wait_until() -> Callable[..., object]:
    """``wait_until(condition, timeout=10, message=...)``: poll until truthy, fail after the bound."""
    return _wait_until


def make_verified_backup(root: Path, hardware_serial: str, stamp: str = "20260101-100000",
                         files: dict[str, bytes] | None = None) -> Path:
    """A finished, verified backup of phone ``hardware_serial`` under ``root`` (as the backup flow leaves one)."""
    import hashlib

    from miui_automator.backup import manifest
    from miui_automator.backup.state import device_folder

    folder = root / device_folder(hardware_serial) / stamp
    folder.mkdir(parents=True)
    files = files if files is not None else {"files/DCIM/a.jpg": b"a" * 10, "files/Music/b.mp3": b"b" * 20}
    entries = []
    for rel, data in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
        entries.append({"remote": "/sdcard/" + rel.split("/", 1)[1], "local": rel, "size": len(data), "mtime": 1,
                        "md5": hashlib.md5(data).hexdigest(), "sha256": hashlib.sha256(data).hexdigest(), "kind": "file"})
    built = manifest.build_manifest({"device": {"hardware_serial": hardware_serial}, "started": "t0"}, entries, {}, None, "t1")
    digest = manifest.write_manifest(folder, built)
    manifest.write_verified(folder, digest, manifest.VerifyResult(folder, len(entries)), by="test", check="test")
    return folder


@pytest.fixture
def verified_backup() -> Callable[..., Path]:
    """``verified_backup(root, hardware_serial, stamp=..., files=...)``: see :func:`make_verified_backup`."""
    return make_verified_backup
