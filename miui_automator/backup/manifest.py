"""``backup-manifest.json``: what a finished backup holds, checking it again, and the destructive flows' gate.

The manifest is written once, after every file was verified against the phone's md5. It lists
each pulled file (remote path, local path, size, the phone's md5, the local sha256) and each
export (local path, size, sha256), so ``backup verify`` can re-check the folder on its own.

``verified.json`` beside it records the sha256 of the manifest bytes at the moment the backup
was verified (by ``backup-finish`` or ``backup verify``). The gate in front of sign-out and
factory reset (:func:`latest_verified_backup`) trusts a backup when that marker matches the
manifest *and* every listed file is present with its listed size — a check of sizes, not of
contents, so it takes milliseconds on a large backup; ``backup verify`` is the full check and
removes the marker when it finds a mismatch, so a damaged backup stops passing the gate.

Phone paths that are not UTF-8 are written as ``\\udcXX`` escapes (see ``state.json_bytes``),
so a manifest read back gives each file's exact name. A backup is private: ``backup verify``
warns about any file or folder in it that group or others may read.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..errors import ConfigError
from ..private_files import wider_than_private
from .state import (FORMAT, FORMAT_VERSION, MANIFEST_FILE, VERIFIED_FILE, backup_folders, json_bytes, now_iso,
                    write_bytes_atomic, write_json_atomic)

DEFAULT_BACKUP_ROOT = Path("backups")
BACKUPS_ENV = "MIUI_AUTOMATOR_BACKUPS"
HASH_CHUNK = 1 << 20


def backup_root() -> Path:
    """Where backups live: ``$MIUI_AUTOMATOR_BACKUPS``, else ``backups`` in the working directory."""
    return Path(os.environ.get(BACKUPS_ENV) or DEFAULT_BACKUP_ROOT)


@dataclass(frozen=True)
class ManifestEntry:
    local: str
    size: int
    sha256: str


@dataclass
class VerifyResult:
    folder: Path
    entries: int = 0
    bytes: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # worth telling, not a reason to distrust the copy

    @property
    def ok(self) -> bool:
        return not self.problems


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(HASH_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def manifest_bytes(manifest: dict) -> bytes:
    return json_bytes(manifest) + b"\n"


def write_manifest(folder: Path, manifest: dict) -> str:
    """Write the manifest atomically; returns the sha256 of its bytes (for ``verified.json``)."""
    data = manifest_bytes(manifest)
    write_bytes_atomic(folder / MANIFEST_FILE, data)
    return hashlib.sha256(data).hexdigest()


def write_verified(folder: Path, manifest_sha256: str, result: VerifyResult, by: str, check: str) -> None:
    write_json_atomic(folder / VERIFIED_FILE, {"manifest_sha256": manifest_sha256, "verified_at": now_iso(), "by": by,
                                               "check": check, "entries": result.entries, "bytes": result.bytes})


def load_manifest(folder: Path) -> tuple[dict, bytes]:
    """(manifest, its raw bytes); ConfigError (exit 2) when the folder has none or it is not one of ours."""
    path = folder / MANIFEST_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{folder}: no {MANIFEST_FILE} (not a finished backup)") from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot read: {err.strerror or err}") from None
    try:
        manifest = json.loads(raw)
    except ValueError as err:
        raise ConfigError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ConfigError(f"{path}: not a miui-automator backup manifest")
    if manifest.get("version") != FORMAT_VERSION:
        raise ConfigError(f"{path}: manifest version {manifest.get('version')!r} is not supported (expected {FORMAT_VERSION})")
    entries(manifest, path)
    return manifest, raw


def entries(manifest: dict, where: Path | str = MANIFEST_FILE) -> list[ManifestEntry]:
    """Every local file the manifest vouches for (pulled files, exports); ConfigError on a malformed entry."""
    files, exports = manifest.get("files"), manifest.get("exports") or {}
    if not isinstance(files, list) or not isinstance(exports, dict):
        raise ConfigError(f"{where}: has no file list")
    found = []
    for item in files + [e for e in exports.values() if not isinstance(e, dict) or e.get("local")]:
        try:
            entry = ManifestEntry(str(item["local"]), int(item["size"]), str(item["sha256"]))
        except (KeyError, TypeError, ValueError):
            raise ConfigError(f"{where}: malformed entry {str(item)[:120]}") from None
        rel = PurePosixPath(entry.local)
        # a backslash is an ordinary character in a phone's (and a POSIX host's) names; on Windows it is a separator
        windows_separator = os.name == "nt" and "\\" in entry.local
        if not rel.parts or rel.is_absolute() or ".." in rel.parts or windows_separator or ":" in rel.parts[0]:
            raise ConfigError(f"{where}: entry path {entry.local!r} points outside the backup folder")
        found.append(entry)
    return found


def verify_backup(folder: Path, *, contents: bool = True) -> VerifyResult:
    """Check every file of a finished backup: present, listed size, and (``contents``) listed sha256."""
    manifest, _ = load_manifest(folder)
    result = VerifyResult(folder)
    for entry in entries(manifest):
        path = folder / entry.local
        result.entries += 1
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            result.problems.append(f"missing: {entry.local}")
            continue
        except OSError as err:
            result.problems.append(f"unreadable: {entry.local} ({err.strerror or err})")
            continue
        if size != entry.size:
            result.problems.append(f"size differs: {entry.local} is {size} bytes, the manifest says {entry.size}")
            continue
        result.bytes += size
        if contents:
            try:
                digest = sha256_file(path)
            except OSError as err:
                result.problems.append(f"unreadable: {entry.local} ({err.strerror or err})")
                continue
            if digest != entry.sha256:
                result.problems.append(f"content differs: {entry.local} "
                                       f"(sha256 {digest[:16]}…, manifest {entry.sha256[:16]}…)")
    return result


def permission_warnings(folder: Path) -> list[str]:
    """One line per file or folder of the backup that others on this machine may read."""
    if os.name == "nt":
        return []  # Windows keeps access in ACLs, which the mode bits do not show
    wide = wider_than_private(folder)
    if not wide:
        return []
    shown = ", ".join(wide[:5]) + (f" and {len(wide) - 5} more" if len(wide) > 5 else "")
    return [f"{len(wide)} file(s) or folder(s) of this backup can be read by other users of this machine: {shown}; "
            f"run: chmod -R go-rwx {folder}"]


def verify_and_mark(folder: Path) -> VerifyResult:
    """The full check behind ``backup verify``: on success (re)write ``verified.json``, on failure remove it.

    ``warnings`` of the result name files and folders with wider permissions than owner-only."""
    result = verify_backup(folder, contents=True)
    result.warnings.extend(permission_warnings(folder))
    if result.ok:
        _, raw = load_manifest(folder)
        write_verified(folder, hashlib.sha256(raw).hexdigest(), result, by="backup verify", check="size+sha256")
    else:
        (folder / VERIFIED_FILE).unlink(missing_ok=True)
    return result


def is_verified(folder: Path, hardware_serial: str | None = None) -> bool:
    """The gate's quick check: marker matches the manifest bytes, device matches, every file there with its size."""
    try:
        manifest, raw = load_manifest(folder)
        marker = json.loads((folder / VERIFIED_FILE).read_text(encoding="utf-8"))
    except (ConfigError, OSError, ValueError):
        return False
    if not isinstance(marker, dict) or marker.get("manifest_sha256") != hashlib.sha256(raw).hexdigest():
        return False
    if hardware_serial is not None and (manifest.get("device") or {}).get("hardware_serial") != hardware_serial:
        return False
    return verify_backup(folder, contents=False).ok


def latest_verified_backup(root: Path, hardware_serial: str) -> Path | None:
    """The newest backup of this phone (by hardware serial) that is complete and verified, or None."""
    for folder in backup_folders(Path(root), hardware_serial):
        if is_verified(folder, hardware_serial):
            return folder
    return None


def build_manifest(state_data: dict, files: list[dict], exports: dict, miui_backup: dict | None, finished: str) -> dict:
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "device": state_data["device"],
        "started": state_data["started"],
        "finished": finished,
        "totals": {"files": len(files), "bytes": sum(int(f["size"]) for f in files),
                   "exports": sum(1 for e in exports.values() if e.get("local"))},
        "files": files,
        "exports": exports,
        "miui_backup": miui_backup,
        "warnings": list(state_data.get("warnings", [])),
    }
