"""The manifest: write, verify (sizes + sha256), the verified marker, and the destructive flows' gate."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from miui_automator.backup import manifest as mf
from miui_automator.backup.state import MANIFEST_FILE, VERIFIED_FILE, device_folder
from miui_automator.errors import ConfigError

SERIAL = "d82c07cd"


def make_backup(root: Path, stamp: str, serial: str = SERIAL, files: dict[str, bytes] | None = None,
                verified: bool = True) -> Path:
    folder = root / device_folder(serial) / stamp
    folder.mkdir(parents=True)
    files = files if files is not None else {"files/DCIM/a.jpg": b"a" * 10, "files/Music/b.mp3": b"b" * 20}
    entries = []
    for rel, data in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
        entries.append({"remote": "/sdcard/" + rel.split("/", 1)[1], "local": rel, "size": len(data), "mtime": 1,
                        "md5": hashlib.md5(data).hexdigest(), "sha256": hashlib.sha256(data).hexdigest(), "kind": "file"})
    vcf = b"BEGIN:VCARD\r\nEND:VCARD\r\n"
    (folder / "exports").mkdir()
    (folder / "exports" / "contacts.vcf").write_bytes(vcf)
    exports = {"contacts": {"local": "exports/contacts.vcf", "size": len(vcf), "sha256": hashlib.sha256(vcf).hexdigest()},
               "sms": {"local": None, "refused": "Permission Denial"}}
    manifest = mf.build_manifest({"device": {"hardware_serial": serial}, "started": "t0", "warnings": ["w"]}, entries,
                                 exports, None, "t1")
    digest = mf.write_manifest(folder, manifest)
    if verified:
        mf.write_verified(folder, digest, mf.VerifyResult(folder, len(entries) + 1), by="test", check="test")
    return folder


def test_manifest_totals_and_a_good_backup_verifies(tmp_path):
    folder = make_backup(tmp_path, "20260101-100000")
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    assert manifest["totals"] == {"files": 2, "bytes": 30, "exports": 1}
    assert manifest["device"] == {"hardware_serial": SERIAL} and manifest["warnings"] == ["w"]
    result = mf.verify_backup(folder)
    assert result.ok and result.entries == 3 and result.bytes == 30 + len(b"BEGIN:VCARD\r\nEND:VCARD\r\n")


def test_missing_resized_and_changed_files_are_each_reported(tmp_path):
    folder = make_backup(tmp_path, "20260101-100000", files={"files/a": b"1" * 5, "files/b": b"2" * 5, "files/c": b"3" * 5})
    (folder / "files/a").unlink()
    (folder / "files/b").write_bytes(b"2" * 6)
    (folder / "files/c").write_bytes(b"x" * 5)
    problems = mf.verify_backup(folder).problems
    assert problems[0] == "missing: files/a"
    assert problems[1] == "size differs: files/b is 6 bytes, the manifest says 5"
    assert problems[2].startswith("content differs: files/c")
    assert len(problems) == 3


def test_size_only_check_does_not_read_contents(tmp_path):
    folder = make_backup(tmp_path, "20260101-100000", files={"files/c": b"3" * 5})
    (folder / "files/c").write_bytes(b"x" * 5)
    assert mf.verify_backup(folder, contents=False).ok
    assert not mf.verify_backup(folder).ok


@pytest.mark.parametrize("content, message", [
    (None, "no backup-manifest.json"),
    (b"{not json", "not valid JSON"),
    (b'{"format": "other"}', "not a miui-automator backup manifest"),
    (b'{"format": "miui-automator-backup", "version": 99, "files": []}', "version 99"),
    (b'{"format": "miui-automator-backup", "version": 1}', "has no file list"),
    (b'{"format": "miui-automator-backup", "version": 1, "files": [{"local": "a"}]}', "malformed entry"),
    (b'{"format": "miui-automator-backup", "version": 1, "files": [{"local": "../../etc/passwd", "size": 1, "sha256": "x"}]}',
     "outside the backup folder"),
    (b'{"format": "miui-automator-backup", "version": 1, "files": [{"local": "/etc/passwd", "size": 1, "sha256": "x"}]}',
     "outside the backup folder"),
])
def test_a_missing_or_bad_manifest_is_a_config_error(tmp_path, content, message):
    if content is not None:
        (tmp_path / MANIFEST_FILE).write_bytes(content)
    with pytest.raises(ConfigError, match=message) as err:
        mf.verify_backup(tmp_path)
    assert err.value.exit_code == 2


def test_verify_and_mark_rewrites_or_removes_the_marker(tmp_path):
    folder = make_backup(tmp_path, "20260101-100000", verified=False)
    assert mf.verify_and_mark(folder).ok
    marker = json.loads((folder / VERIFIED_FILE).read_text())
    assert marker["manifest_sha256"] == hashlib.sha256((folder / MANIFEST_FILE).read_bytes()).hexdigest()
    assert marker["by"] == "backup verify"
    (folder / "files/DCIM/a.jpg").write_bytes(b"z" * 10)
    assert not mf.verify_and_mark(folder).ok
    assert not (folder / VERIFIED_FILE).exists()


def test_gate_takes_the_newest_verified_backup_of_that_phone(tmp_path):
    older = make_backup(tmp_path, "20260101-100000")
    newest_unverified = make_backup(tmp_path, "20260301-100000", verified=False)
    newer = make_backup(tmp_path, "20260201-100000")
    make_backup(tmp_path, "20260401-100000", serial="someone-else")
    assert mf.latest_verified_backup(tmp_path, SERIAL) == newer
    (newer / "files/Music/b.mp3").unlink()  # a file gone: the quick check notices
    assert mf.latest_verified_backup(tmp_path, SERIAL) == older
    assert newest_unverified.exists()
    assert mf.latest_verified_backup(tmp_path, "no-such-phone") is None
    assert mf.latest_verified_backup(tmp_path / "nowhere", SERIAL) is None


def test_gate_refuses_a_manifest_edited_after_verification(tmp_path):
    folder = make_backup(tmp_path, "20260101-100000")
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    manifest["warnings"] = []
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))
    assert not mf.is_verified(folder, SERIAL)
    assert mf.latest_verified_backup(tmp_path, SERIAL) is None


def test_gate_checks_the_serial_inside_the_manifest_too(tmp_path):
    folder = make_backup(tmp_path, "20260101-100000", serial="other")
    target = tmp_path / SERIAL
    folder.parent.rename(target)
    assert mf.latest_verified_backup(tmp_path, SERIAL) is None


def test_backup_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(mf.BACKUPS_ENV, raising=False)
    assert mf.backup_root() == mf.DEFAULT_BACKUP_ROOT == Path("backups")
    monkeypatch.setenv(mf.BACKUPS_ENV, str(tmp_path))
    assert mf.backup_root() == tmp_path
