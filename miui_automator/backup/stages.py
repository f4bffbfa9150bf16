"""The backup as a library: begin (folder + inventory), files, exports, MIUI backup, finish.

Each stage loads the folder's state, records that it runs, and records how it ended — so a
stage stopped by a full disk, a vanished phone or a file that kept changing leaves the folder
*incomplete and resumable*, never looking finished. Whatever goes wrong inside a stage —
including a fault of this code meeting an input nobody foresaw — ends as one line naming the
stage (a :class:`StepFailed`), never a traceback. The flow tasks in
``miui_automator.tasks.backup`` are thin wrappers around these functions.
"""

from __future__ import annotations

import hashlib
import posixpath
import shutil
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

from ..device.driver import Driver
from ..device.info import parse_device_info, parse_getprop
from ..errors import MiuiAutomatorError, StepFailed, UsageError
from ..private_files import private_dir
from ..progress import Progress, ProgressFn, no_progress
from . import exports
from .inventory import USER_FOLDERS, Inventory, RemoteFile, assign_local_names, human_size, local_name, take_inventory
from .local_names import HostRules
from .manifest import VerifyResult, backup_root, build_manifest, sha256_file, write_manifest, write_verified
from .miui import DESCRIPT, LOCAL_DIR, check_folder, existing_backups, local_folder, newest_backup, parse_descript
from .pull import Puller, PullOutcome, disk_error
from .state import (MANIFEST_FILE, STATE_FILE, BackupState, PulledFile, is_incomplete, new_folder, now_iso,
                    resumable_folder, write_bytes_atomic)
from .sync import SyncStream, printable

Log = Callable[[str, str], None]
EXPORTS_DIR = "exports"
EXPORT_LABELS = {"contacts": "contacts", "call_log": "calls", "sms": "SMS", "apps": "apps"}
DISK_MARGIN_BYTES = 64 << 20
PROGRESS_EVERY_S = 5.0  # a log line in the run's record: sparse, so events.jsonl is not flooded
PROGRESS_REPORT_S = 0.25  # a figure for the display: it redraws at its own pace
MIUI_CLOCK_SLACK_S = 60  # the phone's clock and the host's may disagree by this much
SHOWN_FAILURES = 3


def quiet(level: str, message: str) -> None:
    """The default log of the stages and their callers: they are usable from Python without a flow run."""


def adb_of(driver: Driver):
    """The adbutils device behind ``driver``: the stages that stream files need adb itself, not just a driver."""
    adb = getattr(driver, "adb", None)
    if adb is None:
        raise StepFailed(f"{driver.serial}: backing up needs a phone reached through adb")
    return adb


def device_identity(driver: Driver) -> dict[str, object]:
    """Who the phone is, from its properties alone: one shell call, where ``driver.info()`` also reads four
    dumpsys outputs (accounts, battery, screen) that say nothing of who the phone is."""
    info = parse_device_info(driver.serial, parse_getprop(driver.shell("getprop").output))
    return {"hardware_serial": info.hardware_serial or driver.serial, "adb_serial": driver.serial, "model": info.model,
            "market_name": info.market_name, "brand": info.brand, "device": info.device, "os_family": info.os_family,
            "os_version": info.os_version, "os_label": info.os_label, "android_version": info.android_version,
            "variant": info.variant}


@contextmanager
def _stage(state: BackupState, name: str) -> Iterator[None]:
    """Mark the stage running; on any failure record why (best effort: the disk may be full) and re-raise."""
    try:
        state.set_stage(name, "running")
    except OSError as err:
        raise disk_error(err, state.folder / STATE_FILE) from None
    except Exception as err:  # noqa: BLE001 - see below
        raise unexpected(name, err) from None
    try:
        yield
    except MiuiAutomatorError as err:
        _record_failure(state, name, str(err))
        raise
    except OSError as err:
        failure = disk_error(err, state.folder)
        _record_failure(state, name, str(failure))
        raise failure from None
    except KeyboardInterrupt:
        _record_failure(state, name, "interrupted")
        raise
    except Exception as err:  # noqa: BLE001 - the one place an unforeseen fault becomes a clean, resumable stop
        failure = unexpected(name, err)
        _record_failure(state, name, str(failure), "".join(traceback.format_exception(err)))
        raise failure from None
    try:
        state.set_stage(name, "done")
    except OSError as err:
        raise disk_error(err, state.folder / STATE_FILE) from None


def unexpected(stage: str, err: BaseException) -> StepFailed:
    """One line for an error nobody foresaw in a backup stage (the state stays resumable; the state file keeps
    the traceback for whoever fixes the cause)."""
    detail = " ".join(str(err).split())[:300]
    return StepFailed(f"backup stage {stage} stopped: {type(err).__name__}{': ' + detail if detail else ''} — "
                      f"run the backup again to resume", stage=stage)


def _record_failure(state: BackupState, name: str, message: str, trace: str | None = None) -> None:
    try:
        state.fail(name, message, trace)
    except (OSError, ValueError):
        pass  # the state file keeps saying "running", which resumes the same way


def _write_atomic(path: Path, data: bytes) -> None:
    try:
        write_bytes_atomic(path, data)
    except OSError as err:
        raise disk_error(err, path) from None


# ---------------------------------------------------------------------- begin
@dataclass
class Begun:
    folder: Path
    inventory: Inventory
    resumed: bool
    todo_files: int
    todo_bytes: int

    @property
    def note(self) -> str:
        text = f"{self.inventory.summary()} to back up into {self.folder}"
        if self.resumed:
            done = len(self.inventory.files) - self.todo_files
            text += f" (resuming: {done} already pulled, {self.todo_files} files, {human_size(self.todo_bytes)} left)"
        return text


def choose_folder(driver: Driver, root: Path | None) -> tuple[BackupState, bool]:
    """:func:`_choose_folder`, with anything unforeseen (a damaged folder) as one line naming the step."""
    try:
        return _choose_folder(driver, root)
    except (MiuiAutomatorError, KeyboardInterrupt):
        raise
    except OSError as err:
        raise disk_error(err, root or backup_root()) from None
    except Exception as err:  # noqa: BLE001 - see _stage
        raise unexpected("begin", err) from None


def _choose_folder(driver: Driver, root: Path | None) -> tuple[BackupState, bool]:
    """(state, resumed): ``root`` may be an unfinished backup folder itself; otherwise the newest unfinished
    backup of this phone under ``root`` is resumed, or a new ``<root>/<hardware serial>/<time>`` is made."""
    device = device_identity(driver)
    serial = str(device["hardware_serial"])
    base = root or backup_root()
    if (base / MANIFEST_FILE).exists():
        raise UsageError(f"{base} is a finished backup: give the folder that holds the backups (or nothing for the default)")
    folder = base if is_incomplete(base) else resumable_folder(base, serial)
    if folder is not None:
        state = BackupState.load(folder)
        if state.device.get("hardware_serial") != serial:
            raise StepFailed(f"{folder} is an unfinished backup of another phone ({state.device.get('hardware_serial')}), "
                             f"not of {serial}")
        state.data["stages"] = {}
        state.data["status"] = "incomplete"
        state.save()
        state.remove_partials()
        return state, True
    try:
        return BackupState.create(new_folder(base, serial), device), False
    except OSError as err:
        raise disk_error(err, base) from None


def begin(driver: Driver, root: Path | None = None, folders: Sequence[str] = USER_FOLDERS, log: Log = quiet,
          rules: HostRules | None = None) -> Begun:
    """Choose (or resume) the backup folder, list what the phone holds, and check the disk can take it.

    The walk of the phone's folders and the provider counts run while the phone's identity is read (each is
    a few shell or sync round trips that only wait on the phone), so the inventory costs about the longest
    of them. ``rules`` are the host's file-name rules (this host's by default) that the local names follow."""
    pool = ThreadPoolExecutor(2, thread_name_prefix="inventory")
    try:
        listing = pool.submit(_walk, driver, folders, rules)
        counts = pool.submit(provider_counts, driver)
        state, resumed = choose_folder(driver, root)
        if resumed:
            log("info", f"resuming the unfinished backup in {state.folder}")
        with _stage(state, "inventory"):
            inventory, state.data["miui_before"] = listing.result()
            earlier = {path: record.local for path, record in state.records().items() if record.kind == "file"}
            if earlier:  # a resumed backup: files pulled before keep their names
                inventory.files = assign_local_names(inventory.files, rules=rules, keep=earlier)
            state.save_inventory(inventory)
            todo = state.pending(inventory.files)
            todo_bytes = sum(f.size for f in todo)
            log("info", f"on the phone: {inventory.summary()}")
            for line in inventory.lines():
                log("info", f"  {line}")
            for line in counts.result():
                log("info", f"  {line}")
            for skipped in inventory.skipped:
                log("warning", f"not backed up: {skipped}")
                state.warn(f"not backed up: {skipped}")
            free = shutil.disk_usage(state.folder).free
            if free < todo_bytes + DISK_MARGIN_BYTES:
                raise StepFailed(f"not enough disk space in {state.folder}: the backup needs {human_size(todo_bytes)}, "
                                 f"{human_size(free)} free", path=str(state.folder))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return Begun(state.folder, inventory, resumed, len(todo), todo_bytes)


def _walk(driver: Driver, folders: Sequence[str], rules: HostRules | None) -> tuple[Inventory, list[str]]:
    """The inventory with the local names a new backup gives its files (named here, while the phone's identity is
    still being read), and the MIUI backups already on the phone (so the one MIUI makes later is told apart)."""
    with SyncStream(adb_of(driver), driver.serial) as stream:
        inventory, before = take_inventory(stream, folders), existing_backups(stream)
    inventory.files = assign_local_names(inventory.files, rules=rules)
    return inventory, before


def provider_counts(driver: Driver) -> list[str]:
    """Contacts, calls, messages and apps on the phone, for the inventory (a refusal is shown, not hidden).

    The five shell calls run at once: each only waits on the phone."""
    queries = (("contacts", exports.CONTACTS_URI, "_id"), ("call log entries", exports.CALLS_URI, "_id"),
               ("SMS messages", exports.SMS_URI, "_id"))

    def count(label: str, uri: str, column: str) -> str:
        try:
            return f"{label}: {len(exports.run_query(driver, uri, (column,)))}"
        except exports.ProviderRefused as refused:
            return f"{label}: not readable ({refused.reason})"

    with ThreadPoolExecutor(len(queries) + 2, thread_name_prefix="counts") as pool:
        counted = [pool.submit(count, *query) for query in queries]
        listing, third = pool.submit(driver.shell, "pm list packages -f"), pool.submit(driver.shell, "pm list packages -3")
        lines = [c.result() for c in counted]
        apps = exports.app_records(listing.result().output, third.result().output)
    lines.append(f"apps: {len(apps)} ({sum(1 for a in apps if a['third_party'])} installed by the user)")
    return lines


# ---------------------------------------------------------------------- files
class _Progress:
    """Counts files and bytes as they arrive: a log line every :data:`PROGRESS_EVERY_S` (the run's record),
    and a :class:`Progress` for the display at most every :data:`PROGRESS_REPORT_S`."""

    def __init__(self, log: Log, total_files: int, total_bytes: int, what: str = "pulling files",
                 report: ProgressFn = no_progress, clock: Callable[[], float] = time.monotonic) -> None:
        self.log, self.total_files, self.total_bytes = log, total_files, total_bytes
        self.what, self.report, self.clock = what, report, clock
        self.files = self.bytes = 0
        self.streamed = 0  # bytes of the file being pulled, before it is verified
        self.last = self.last_report = clock()
        report(self.figure())

    def figure(self) -> Progress:
        return Progress(self.what, self.files, self.total_files, min(self.bytes + self.streamed, self.total_bytes),
                        self.total_bytes)

    def chunk(self, size: int) -> None:
        self.streamed += size
        now = self.clock()
        if now - self.last_report >= PROGRESS_REPORT_S:
            self.last_report = now
            self.report(self.figure())

    def __call__(self, record: PulledFile) -> None:
        self.files += 1
        self.bytes += record.size
        self.streamed = 0
        now = self.clock()
        if now - self.last_report >= PROGRESS_REPORT_S or self.files == self.total_files:
            self.last_report = now
            self.report(self.figure())
        if now - self.last >= PROGRESS_EVERY_S:
            self.last = now
            self.log("info", f"pulled {self.files}/{self.total_files} files, "
                             f"{human_size(self.bytes)} of {human_size(self.total_bytes)}")


def _pull(driver: Driver, state: BackupState, files: Sequence[RemoteFile], local_of: Callable[[str], str], kind: str,
          log: Log, on_file: Callable[[PulledFile], None] | None = None, report: ProgressFn = no_progress,
          what: str = "pulling files", ls_v2: bool | None = None) -> PullOutcome:
    progress = _Progress(log, len(files), sum(f.size for f in files), what, report)

    def done(record: PulledFile) -> None:
        progress(record)
        state.data.setdefault("skipped", {}).pop(record.remote, None)
        if on_file is not None:
            on_file(record)

    with state.journal() as journal:
        return Puller(driver, state.folder, journal, kind=kind, on_file=done, on_bytes=progress.chunk,
                      ls_v2=ls_v2).pull(files, local_of)


def _changed_error(failed: list[str]) -> StepFailed:
    shown = "; ".join(failed[:SHOWN_FAILURES])
    if len(failed) > SHOWN_FAILURES:
        shown += f"; and {len(failed) - SHOWN_FAILURES} more"
    return StepFailed(f"{len(failed)} file(s) could not be verified: {shown}. Close the app writing to them and run the "
                      f"backup again — it resumes with only these left", files=failed)


def pull_files(driver: Driver, folder: Path, log: Log = quiet,
               on_file: Callable[[PulledFile], None] | None = None, progress: ProgressFn = no_progress) -> str:
    """Pull every inventoried file not yet pulled, each verified against the phone's md5."""
    state = BackupState.load(folder)
    with _stage(state, "files"):
        inventory = state.inventory()
        todo = state.pending(inventory.files)
        locals_ = {f.path: f.local for f in inventory.files}

        def local_of(path: str) -> str:
            return locals_.get(path) or local_name(path)

        outcome = _pull(driver, state, todo, local_of, "file", log, on_file, progress, ls_v2=inventory.ls_v2)
        skipped = state.data.setdefault("skipped", {})
        skipped.update(outcome.skipped)
        for line in outcome.skipped_lines:
            log("warning", f"not backed up: {line}")
            state.warn(f"not backed up: {line}")
        state.save()
        if outcome.failed:
            raise _changed_error(outcome.failed)
    earlier = len(inventory.files) - len(todo)
    return (f"{len(outcome.pulled)} files, {human_size(outcome.bytes)} pulled into {folder}, each matching the "
            f"phone's md5" + (f" ({earlier} pulled in an earlier run)" if earlier else ""))


# ---------------------------------------------------------------------- exports
def export_all(driver: Driver, folder: Path, log: Log = quiet, progress: ProgressFn = no_progress) -> str:
    """Contacts as vCard 3.0, call log and SMS as JSON, the app list as JSON; refusals become warnings."""
    state = BackupState.load(folder)
    with _stage(state, "exports"):
        out = private_dir(folder / EXPORTS_DIR)
        results: dict[str, dict[str, object]] = {}
        progress(Progress("exporting", 0, len(EXPORT_LABELS)))

        def done_one() -> None:
            progress(Progress("exporting", len(results), len(EXPORT_LABELS)))

        def save(name: str, filename: str, data: bytes, count: int, source: str, fmt: str) -> None:
            _write_atomic(out / filename, data)
            results[name] = {"local": f"{EXPORTS_DIR}/{filename}", "format": fmt, "count": count, "size": len(data),
                             "sha256": _sha256(data), "source": source}
            done_one()

        def refused(name: str, err: exports.ProviderRefused) -> None:
            message = f"{name} not exported: the phone refused to read {err.uri} ({err.reason})"
            log("warning", message)
            state.warn(message)
            results[name] = {"local": None, "refused": err.reason, "source": err.uri}
            done_one()

        try:
            contacts, source = exports.read_contacts(driver)
            save("contacts", "contacts.vcf", exports.vcards(contacts).encode("utf-8"), len(contacts), source, "vCard 3.0")
            if source != exports.CONTACTS_DATA_URI:
                results["contacts"]["note"] = "the phone's contact data table is not readable: names and phone numbers only"
        except exports.ProviderRefused as err:
            refused("contacts", err)
        for name, filename, uri, columns, convert in (
                ("call_log", "call-log.json", exports.CALLS_URI, exports.CALL_COLUMNS, exports.call_records),
                ("sms", "sms.json", exports.SMS_URI, exports.SMS_COLUMNS, exports.sms_records)):
            try:
                records = convert(exports.run_query(driver, uri, columns, "date ASC"))
                save(name, filename, exports.json_document(name, uri, records), len(records), uri, "JSON")
            except exports.ProviderRefused as err:
                refused(name, err)
        listing, third = driver.shell("pm list packages -f"), driver.shell("pm list packages -3")
        apps = exports.app_records(listing.output, third.output)
        if apps:
            save("apps", "apps.json", exports.json_document("apps", "pm list packages -f / -3", apps), len(apps),
                 "pm list packages", "JSON")
        else:
            refused("apps", exports.ProviderRefused("pm list packages", (listing.output.strip().splitlines() or ["no output"])[0]))
        state.data["exports"] = results
        state.save()
    done = [f"{r['count']} {EXPORT_LABELS[name]}" for name, r in results.items() if r.get("local")]
    missing = [EXPORT_LABELS[name] for name, r in results.items() if not r.get("local")]
    return "exported " + ", ".join(done) + (f"; refused by the phone: {', '.join(missing)}" if missing else "")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------- MIUI's local backup
def pull_miui_backup(driver: Driver, folder: Path, log: Log = quiet, required: bool = True,
                     on_file: Callable[[PulledFile], None] | None = None, progress: ProgressFn = no_progress) -> str:
    """Pull the newest ``MIUI/backup/AllBackup/<time>`` folder and check its ``descript.xml`` against the files."""
    state = BackupState.load(folder)
    with _stage(state, "miui_backup"):
        with SyncStream(adb_of(driver), driver.serial) as stream:
            found = newest_backup(stream)
        if found is None:
            message = "no MIUI local backup on the phone (MIUI/backup/AllBackup has no folder with a descript.xml)"
            if required:
                raise StepFailed(message)
            log("warning", message)
            state.warn(message)
            state.data["miui_backup"] = None
            state.save()
            return message
        remote, entries = found
        parent = posixpath.dirname(remote)
        earlier = {path: record.local for path, record in state.records().items() if record.kind == "miui-backup"}
        files = assign_local_names([RemoteFile(f"{remote}/{name}", e.size, e.mtime) for name, e in sorted(entries.items())],
                                   parent, LOCAL_DIR, keep=earlier)
        locals_ = {f.path: f.local for f in files}

        def local_of(path: str) -> str:
            return locals_[path]

        outcome = _pull(driver, state, state.pending(files), local_of, "miui-backup", log, on_file, progress,
                        "pulling MIUI's backup")
        if outcome.failed or outcome.skipped:
            raise _changed_error(outcome.failed + outcome.skipped_lines)
        try:
            descript = parse_descript((folder / local_of(f"{remote}/{DESCRIPT}")).read_bytes())
        except ValueError as err:
            raise StepFailed(f"MIUI backup {printable(remote)}: {err}") from None
        sizes = {name: (folder / local_of(f"{remote}/{name}")).stat().st_size for name in entries}
        heads = {}
        for name in entries:
            if name.endswith(".bak"):
                with open(folder / local_of(f"{remote}/{name}"), "rb") as f:
                    heads[name] = f.read(32)
        problems = check_folder(descript, sizes, heads)
        if problems:
            raise StepFailed(f"MIUI backup {printable(remote)} is not whole: " + "; ".join(problems), problems=problems)
        started = float(state.data.get("started_epoch") or 0)
        if descript.date_ms and started and descript.date_ms / 1000 < started - MIUI_CLOCK_SLACK_S:
            raise StepFailed(f"the newest MIUI backup ({printable(posixpath.basename(remote))}) is older than this "
                             f"backup run: MIUI's own backup did not happen; make it on the phone and run the backup "
                             f"again")
        state.data["miui_backup"] = {"remote": remote, "local": local_folder(remote), "files": [f.path for f in files],
                                     "descript": descript.as_dict()}
        state.save()
    return (f"MIUI backup {posixpath.basename(remote)}: {len(descript.packages)} items, "
            f"{human_size(sum(sizes.values()))}, descript.xml matches the files")


# ---------------------------------------------------------------------- finish
def finish(folder: Path, log: Log = quiet) -> str:
    """Check that everything is pulled and intact, then write the manifest and the verified marker."""
    state = BackupState.load(folder)
    with _stage(state, "finish"):
        unfinished = {k: v for k, v in state.data["stages"].items() if k != "finish" and v != "done"}
        if unfinished:
            raise StepFailed(f"the backup is not complete: {', '.join(f'{k} {v}' for k, v in unfinished.items())}; "
                             f"run the backup again to resume")
        inventory = state.inventory()
        skipped = state.data.get("skipped", {})
        wanted = [f for f in inventory.files if f.path not in skipped]
        miui = state.data.get("miui_backup")
        miui_paths = set(miui["files"]) if miui else set()
        records = state.records()
        missing = [f.path for f in state.pending(wanted)]
        missing += [p for p in sorted(miui_paths) if p not in records or not (folder / records[p].local).is_file()]
        if missing:
            raise StepFailed(f"{len(missing)} file(s) are not backed up yet (first: {printable(missing[0])}); "
                             f"run the backup again to resume")
        keep = {f.path for f in wanted} | miui_paths
        for record in records.values():
            if record.remote not in keep:
                (folder / record.local).unlink(missing_ok=True)
                state.warn(f"{printable(record.remote)} was pulled earlier but is no longer on the phone: left out")
        exports = state.data.get("exports", {})
        for name, item in exports.items():
            if item.get("local"):
                path = folder / str(item["local"])
                if not path.is_file() or sha256_file(path) != item["sha256"]:
                    raise StepFailed(f"export {item['local']} is missing or changed since it was written; "
                                     f"run the backup again to redo it")
        files = [records[f.path].manifest_entry() for f in wanted] + [records[p].manifest_entry() for p in sorted(miui_paths)]
        manifest = build_manifest(state.data, files, exports, miui, now_iso())
        try:
            digest = write_manifest(folder, manifest)
            result = VerifyResult(folder, len(files) + sum(1 for e in exports.values() if e.get("local")),
                                  sum(int(f["size"]) for f in files))
            write_verified(folder, digest, result, by="backup-finish",
                           check="md5 of every file against the phone's at pull time; sizes at finish")
        except OSError as err:
            raise disk_error(err, folder) from None
    state.remove_files()
    for warning in manifest["warnings"]:
        log("warning", warning)
    total = manifest["totals"]
    return (f"{total['files']} files ({human_size(total['bytes'])}) and {total['exports']} exports verified; "
            f"manifest written to {folder}")

