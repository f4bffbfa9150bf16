"""A whole backup of a simulated phone through the real adb server: files checked against the
phone's md5, exports, MIUI's AllBackup folder, the manifest, ``backup verify`` and the gate."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest

from miui_automator.backup import latest_verified_backup, stages
from miui_automator.backup.manifest import verify_backup
from miui_automator.backup.state import INVENTORY_FILE, JOURNAL_FILE, MANIFEST_FILE, STATE_FILE, VERIFIED_FILE
from miui_automator.cli.main import main
from miui_automator.device.android import AndroidDevice
from miui_automator.errors import StepFailed
from miui_automator.private_files import wider_than_private
from miui_automator.sim.screens.backup import bak_bytes, descript_xml

pytestmark = pytest.mark.integration

SMALL = {"media_files": 20, "media_bytes": 4 * 1024 * 1024}
ALLBACKUP = "/sdcard/MIUI/backup/AllBackup"


def phone_files(sim_host, dev, top: str = "/sdcard") -> dict[str, bytes]:
    """Every file under ``top`` on the simulated phone, by /sdcard path (read without read hooks)."""
    def read() -> dict[str, bytes]:
        fs = dev.phone.state.fs
        return {"/sdcard" + path[len("/storage/emulated/0"):]: bytes(entry.content()) for path, entry in fs.walk_files(top)}
    return sim_host.call(read)


def add_miui_backup(sim_host, dev, stamp: str, *, drop: str | None = None) -> list[str]:
    """A finished MIUI local backup folder, as the Backup app leaves it (optionally missing one .bak)."""
    names = []

    def write() -> None:
        fs = dev.phone.state.fs
        entries = []
        for pkg, label in (("com.android.contacts", "Contacts"), ("com.miui.home", "Home screen")):
            data = bak_bytes(pkg, label, pkg.encode() * 40)
            name = f"{label}({pkg}).bak"
            if name != drop:
                fs.write(f"{ALLBACKUP}/{stamp}/{name}", data)
            entries.append((pkg, name, len(data)))
            names.append(name)
        fs.write(f"{ALLBACKUP}/{stamp}/descript.xml", descript_xml("corot", "OS1.0", int(time.time() * 1000), entries).encode())

    sim_host.call(write)
    return names


def backup_with_stages(driver: AndroidDevice, root: Path) -> Path:
    folder = stages.begin(driver, root).folder
    stages.pull_files(driver, folder)
    stages.export_all(driver, folder)
    stages.finish(folder)
    return folder


def test_the_backup_flow_backs_up_everything_and_passes_the_gate(make_phone, sim_host, tmp_path):
    dev = make_phone(**SMALL)
    root = tmp_path / "backups"
    umask = os.umask(0o022)  # a shared lab machine's default: everything written must still be owner-only
    try:
        code = main(["run", "backup", "-s", dev.serial, "--param", f"backup_dir={root}", "--out", str(tmp_path / "runs")])
    finally:
        os.umask(umask)
    assert code == 0
    assert wider_than_private(root) == [] and wider_than_private(tmp_path / "runs") == []
    assert list((tmp_path / "runs").glob("*/screens/*.jpg"))  # the run folder did hold screenshots
    serial = sim_host.call(lambda: dev.phone.state.props["ro.serialno"])
    (folder,) = list((root / serial).iterdir())
    manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["device"]["hardware_serial"] == serial
    assert manifest["device"]["market_name"] and manifest["device"]["os_label"].startswith("HyperOS")
    assert manifest["started"] <= manifest["finished"]

    on_phone = phone_files(sim_host, dev)
    user_files = [f for f in manifest["files"] if f["kind"] == "file"]
    assert len(user_files) == SMALL["media_files"] == manifest["totals"]["files"] - len(manifest["miui_backup"]["files"])
    for entry in manifest["files"]:
        data = on_phone[entry["remote"]]
        assert entry["md5"] == hashlib.md5(data).hexdigest()
        assert (folder / entry["local"]).read_bytes() == data
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["size"] == len(data)

    miui = manifest["miui_backup"]
    assert miui["remote"].startswith(ALLBACKUP + "/") and len(miui["descript"]["packages"]) == 6
    # the simulator writes MIUI 12.5's layout (pkgSize, state, error); its pkgSize is the .bak's size
    assert all((folder / miui["local"] / p["bak_file"]).stat().st_size == p["pkg_size"] and p["error"] == "0"
               for p in miui["descript"]["packages"])
    assert {name for name, e in manifest["exports"].items() if e["local"]} == {"contacts", "call_log", "sms", "apps"}
    assert (folder / "exports/contacts.vcf").read_text(encoding="utf-8").count("BEGIN:VCARD") == 12

    assert not any((folder / n).exists() for n in (STATE_FILE, INVENTORY_FILE, JOURNAL_FILE))
    assert (folder / VERIFIED_FILE).exists() and not list(folder.rglob("*.part"))
    assert latest_verified_backup(root, serial) == folder
    assert verify_backup(folder).ok


def test_backup_verify_exit_codes(make_phone, tmp_path, capsys):
    dev = make_phone(**SMALL)
    root = tmp_path / "backups"
    folder = backup_with_stages(AndroidDevice(dev.serial), root)
    assert main(["backup", "verify", str(folder)]) == 0
    assert "ok: 24 files" in capsys.readouterr().out  # 20 files + 4 exports

    victim = next(folder.glob("files/DCIM/Camera/*.jpg"))
    data = bytearray(victim.read_bytes())
    data[100] ^= 0xFF
    victim.write_bytes(bytes(data))
    (folder / "exports/sms.json").unlink()
    assert main(["backup", "verify", str(folder)]) == 1
    err = capsys.readouterr().err
    assert f"content differs: {victim.relative_to(folder).as_posix()}" in err
    assert "missing: exports/sms.json" in err
    assert "error: " in err and "2 of 24 files do not match the manifest" in err
    assert not (folder / VERIFIED_FILE).exists()
    serial = folder.parent.name
    assert latest_verified_backup(root, serial) is None

    assert main(["backup", "verify", str(tmp_path / "nothing-here")]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
    (folder / MANIFEST_FILE).write_text("{broken", encoding="utf-8")
    assert main(["backup", "verify", str(folder)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_miui_backup_folder_is_pulled_and_checked(make_phone, sim_host, tmp_path):
    dev = make_phone(media_files=2, media_bytes=64 * 1024)
    driver = AndroidDevice(dev.serial)
    folder = stages.begin(driver, tmp_path).folder
    add_miui_backup(sim_host, dev, "20250101_100000")
    names = add_miui_backup(sim_host, dev, "20250102_100000")
    note = stages.pull_miui_backup(driver, folder)
    assert note.startswith("MIUI backup 20250102_100000: 2 items")
    for name in names:
        assert (folder / "miui-backup/20250102_100000" / name).read_bytes().startswith(b"MIUI BACKUP\n")
    assert not (folder / "miui-backup/20250101_100000").exists()

    stages.pull_files(driver, folder)
    stages.finish(folder)
    manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert sorted(f["local"] for f in manifest["files"] if f["kind"] == "miui-backup") == sorted(
        [f"miui-backup/20250102_100000/{n}" for n in names] + ["miui-backup/20250102_100000/descript.xml"])


def test_a_miui_backup_missing_a_listed_file_fails_by_name(make_phone, sim_host, tmp_path):
    dev = make_phone(media_files=1, media_bytes=1024)
    driver = AndroidDevice(dev.serial)
    folder = stages.begin(driver, tmp_path).folder
    add_miui_backup(sim_host, dev, "20250103_100000", drop="Home screen(com.miui.home).bak")
    with pytest.raises(StepFailed, match=r"Home screen\(com.miui.home\).bak \(listed for com.miui.home\) is missing"):
        stages.pull_miui_backup(driver, folder)
    with pytest.raises(StepFailed, match="miui_backup failed"):
        stages.finish(folder)
    assert not (folder / MANIFEST_FILE).exists()


def test_no_miui_backup_is_an_error_unless_optional(make_phone, tmp_path):
    dev = make_phone(media_files=1, media_bytes=1024)
    driver = AndroidDevice(dev.serial)
    folder = stages.begin(driver, tmp_path).folder
    with pytest.raises(StepFailed, match="no MIUI local backup on the phone"):
        stages.pull_miui_backup(driver, folder)
    logged = []
    stages.pull_miui_backup(driver, folder, lambda level, message: logged.append(level), required=False)
    assert logged == ["warning"]


def test_a_file_deleted_during_the_backup_is_a_warning_not_a_failure(make_phone, sim_host, tmp_path):
    dev = make_phone(media_files=5, media_bytes=256 * 1024)
    driver = AndroidDevice(dev.serial)
    folder = stages.begin(driver, tmp_path).folder
    gone = "/sdcard/Movies/clip_0004.mp4"
    sim_host.call(lambda: dev.phone.state.fs.remove(gone))
    stages.pull_files(driver, folder)
    stages.finish(folder)
    manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["totals"]["files"] == 4 and gone not in {f["remote"] for f in manifest["files"]}
    assert f"not backed up: {gone}: deleted from the phone during the backup" in manifest["warnings"]


def test_listing_without_ls_v2_finds_the_same_files(make_phone):
    from miui_automator.backup.inventory import take_inventory
    from miui_automator.backup.sync import SyncStream

    dev = make_phone(**SMALL)
    adb = AndroidDevice(dev.serial).adb
    with SyncStream(adb, dev.serial) as v2, SyncStream(adb, dev.serial, ls_v2=False) as v1:
        assert v2.ls_v2 and not v1.ls_v2
        assert take_inventory(v1).files == take_inventory(v2).files
        assert len(take_inventory(v1).files) == SMALL["media_files"]
