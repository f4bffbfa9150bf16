"""Planning a run: params, preflight, the backup gate and the confirmation, in that order, for one phone and
for a fleet's phones — with a fake phone (a DeviceInfo), no sockets."""

from __future__ import annotations

import pytest

from miui_automator import run
from miui_automator.backup import records
from miui_automator.device.info import DeviceInfo
from miui_automator.errors import UsageError
from miui_automator.fleet.orchestrator import Fleet
from miui_automator.fleet.plan import PhonePlan, check
from miui_automator.run.gate import BackupGateRefused, backs_up_itself
from miui_automator.run.preflight import PreflightFailed

HW = "hw-0001"
READY = DeviceInfo(serial="127.0.0.1:5600", model="23049PCD8G", os_family="HyperOS", os_version="1",
                   os_label="HyperOS 1.0", variant="hyperos1-en", adb_input_enabled=True, screen_on=True, locked=False,
                   battery_level=80, hardware_serial=HW)


class Asked:
    """A confirmer that records each question and answers ``answer``."""

    def __init__(self, answer: bool = True) -> None:
        self.answer = answer
        self.questions: list[str] = []

    def __call__(self, question: str) -> bool:
        self.questions.append(question)
        return self.answer


def no_secrets(name: str, env: str | None) -> None:
    return None


@pytest.fixture(autouse=True)
def backups_root(tmp_path, monkeypatch):
    """``./backups`` of these tests: empty unless a test puts a backup there."""
    root = tmp_path / "backups"
    monkeypatch.setenv("MIUI_AUTOMATOR_BACKUPS", str(root))
    return root


def plan(name: str, info: DeviceInfo = READY, confirmer=run.ASSUME_YES, **given: str) -> run.RunPlan:
    return run.plan_run(run.load(name), info, given=given, secret_source=no_secrets, confirmer=confirmer)


def test_a_harmless_flow_needs_no_backup_and_no_yes():
    p = plan("open-account-page", confirmer=None)
    assert p.gate.backup is None and "not destructive" in p.gate.reason


def test_sign_out_without_a_backup_is_refused_before_anyone_is_asked():
    asked = Asked()
    with pytest.raises(BackupGateRefused) as err:
        plan("remove-mi-account", confirmer=asked)
    assert err.value.exit_code == 2
    assert f"no verified backup of this phone ({HW})" in str(err.value) and "--no-backup-gate" in str(err.value)
    assert asked.questions == []


def test_a_backup_under_backups_satisfies_the_gate_and_is_named(backups_root, verified_backup):
    folder = verified_backup(backups_root, HW)
    asked = Asked()
    p = plan("remove-mi-account", confirmer=asked)
    assert p.gate.backup == folder and str(folder) in p.gate.describe()
    assert asked.questions == [f"remove-mi-account is destructive ({p.flow.description}). Run it on {READY.serial}?"]


def test_a_backup_of_another_phone_does_not_count(backups_root, verified_backup):
    verified_backup(backups_root, "hw-other")
    with pytest.raises(BackupGateRefused):
        plan("remove-mi-account")


def test_a_backup_on_an_external_disk_is_found_through_the_records(tmp_path, verified_backup):
    folder = verified_backup(tmp_path / "media" / "usb" / "backups", HW)
    records.remember(folder)
    p = plan("factory-reset")
    assert p.gate.backup == folder.resolve()
    assert p.gate.record is not None and p.gate.record.bytes == 30
    assert str(folder.resolve()) in p.gate.describe() and "recorded" in p.gate.describe()


def test_a_recorded_backup_whose_folder_was_deleted_is_rejected_and_said_so(tmp_path, verified_backup):
    folder = verified_backup(tmp_path / "usb", HW)
    records.remember(folder)
    for path in sorted(folder.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    folder.rmdir()
    with pytest.raises(BackupGateRefused) as err:
        plan("remove-mi-account")
    assert f"{folder.resolve()}: the folder is gone" in str(err.value)


def test_a_recorded_backup_whose_sizes_no_longer_match_is_rejected(tmp_path, verified_backup):
    folder = verified_backup(tmp_path / "usb", HW)
    records.remember(folder)
    (folder / "files/Music/b.mp3").write_bytes(b"short")
    with pytest.raises(BackupGateRefused) as err:
        plan("remove-mi-account")
    assert "no longer matches its manifest: size differs: files/Music/b.mp3" in str(err.value)


def test_a_backup_that_verify_found_damaged_no_longer_counts(tmp_path, verified_backup):
    folder = verified_backup(tmp_path / "usb", HW)
    records.remember(folder)
    (folder / "verified.json").unlink()  # what `backup verify` does when a file's content changed
    with pytest.raises(BackupGateRefused) as err:
        plan("remove-mi-account")
    assert "not verified" in str(err.value)


def test_the_newest_good_backup_wins_over_an_older_one(tmp_path, verified_backup):
    old = verified_backup(tmp_path / "usb", HW, stamp="20260101-100000")
    new = verified_backup(tmp_path / "usb", HW, stamp="20260202-100000")
    records.remember(old)
    records.remember(new)
    assert plan("remove-mi-account").gate.backup == new.resolve()
    (new / "files/DCIM/a.jpg").unlink()
    assert plan("remove-mi-account").gate.backup == old.resolve()


def test_reset_test_device_backs_up_itself_so_it_needs_no_earlier_backup():
    p = plan("reset-test-device")
    assert p.gate.backup is None and "backs the phone up itself" in p.gate.reason


def test_reset_test_device_with_skip_backup_is_still_gated(backups_root, verified_backup):
    with pytest.raises(BackupGateRefused):
        plan("reset-test-device", skip_backup="true")
    folder = verified_backup(backups_root, HW)
    assert plan("reset-test-device", skip_backup="true").gate.backup == folder


def test_a_resumed_reset_past_its_backup_step_is_gated_again():
    flow = run.load("reset-test-device")
    params = {"skip_backup": "false", "synced_data": "keep", "backup_dir": ""}
    assert backs_up_itself(flow, params, start_at=1)
    assert not backs_up_itself(flow, params, start_at=2)
    with pytest.raises(BackupGateRefused):
        run.prepare(flow, READY, params, start_at=2)


def test_only_a_backup_step_known_to_run_counts(tmp_path):
    def flow(text: str):
        path = tmp_path / "f.yaml"
        path.write_text("name: f\ndestructive: true\nparams:\n  mode: {default: full}\nsteps:\n" + text)
        return run.load(str(path))

    plain = flow("  - run: {flow: backup}\n")
    behind_shell = flow("  - when: {shell: 'getprop ro.x', equals: '1'}\n    then:\n      - run: {flow: backup}\n")
    in_else = flow("  - when: {param: mode, equals: quick}\n    then:\n      - shell: {command: 'getprop ro.x'}\n"
                   "    else:\n      - run: {flow: backup}\n")
    saved_variable = flow("  - shell: {command: 'getprop ro.x', save-as: found}\n"
                          "  - when: {param: found, equals: full}\n    then:\n      - run: {flow: backup}\n")
    assert backs_up_itself(plain, {"mode": "full"})
    assert not backs_up_itself(behind_shell, {"mode": "full"})
    assert backs_up_itself(in_else, {"mode": "full"}) and not backs_up_itself(in_else, {"mode": "quick"})
    assert not backs_up_itself(saved_variable, {"mode": "full", "found": "full"})  # known only when it runs


def test_no_backup_gate_is_the_one_way_past_the_gate():
    flow = run.load("remove-mi-account")
    p = run.plan_run(flow, READY, given={}, secret_source=no_secrets, confirmer=run.ASSUME_YES, no_backup_gate=True)
    assert p.gate.backup is None and "--no-backup-gate" in p.gate.reason


def test_preflight_comes_before_the_gate():
    locked = DeviceInfo(**{**READY.__dict__, "locked": True})
    with pytest.raises(PreflightFailed) as err:
        plan("remove-mi-account", info=locked)
    assert [i.check for i in err.value.issues] == ["lock"] and err.value.exit_code == 3


def test_params_are_bound_before_the_phone_is_looked_at():
    broken = DeviceInfo(serial="x")  # fails every preflight check
    with pytest.raises(UsageError, match="has no param 'nope'"):
        plan("remove-mi-account", info=broken, nope="1")


def test_a_destructive_flow_needs_a_yes():
    flow = run.load("remove-mi-account")
    with pytest.raises(UsageError, match="pass --yes to run it unattended"):
        run.plan_run(flow, READY, given={}, secret_source=no_secrets, confirmer=None, no_backup_gate=True)
    with pytest.raises(UsageError, match="not confirmed; nothing was done"):
        run.plan_run(flow, READY, given={}, secret_source=no_secrets, confirmer=Asked(False), no_backup_gate=True)


def test_the_plan_names_its_secrets_but_never_shows_them():
    flow = run.load("remove-mi-account")
    p = run.plan_run(flow, READY, given={}, secret_source=lambda name, env: "hunter2-secret", confirmer=run.ASSUME_YES,
                     no_backup_gate=True)
    assert p.secrets == {"password": "hunter2-secret"}
    assert "hunter2-secret" not in repr(p) and "'password'" in repr(p)


# ---------------------------------------------------------------------- the fleet's path
def phone(**kw) -> PhonePlan:
    return PhonePlan(key=HW, server="local", serial=READY.serial, info=kw.pop("info", READY),
                     params=kw.pop("params", {"synced_data": "keep"}), **kw)


def test_fleet_check_refuses_a_phone_without_a_backup_and_runs_one_with_it(backups_root, verified_backup):
    flow = run.load("remove-mi-account")
    refused = check(flow, phone(), no_backup_gate=False)
    assert (refused.problem_status, refused.problem_code, refused.run_plan) == ("refused", 2, None)
    assert "no verified backup" in refused.problem
    folder = verified_backup(backups_root, HW)
    ok = check(flow, phone(), no_backup_gate=False)
    assert not ok.problem and ok.run_plan is not None and ok.run_plan.gate.backup == folder
    assert check(flow, phone(), no_backup_gate=True).run_plan.gate.backup is None


def test_fleet_check_with_skip_backup_is_still_gated():
    flow = run.load("reset-test-device")
    params = {"skip_backup": "true", "synced_data": "keep", "backup_dir": ""}
    assert check(flow, phone(params=params), no_backup_gate=False).problem_status == "refused"
    assert check(flow, phone(params={**params, "skip_backup": "false"}), no_backup_gate=False).run_plan is not None


def test_fleet_check_records_a_phone_not_ready_as_an_error():
    checked = check(run.load("open-account-page"), phone(info=DeviceInfo(serial="x", hardware_serial=HW), params={}),
                    no_backup_gate=False)
    assert checked.problem_status == "error" and checked.problem_code == 3 and "preflight failed" in checked.problem


def test_the_fleet_never_starts_a_phone_that_was_not_checked():
    fleet = Fleet.__new__(Fleet)  # start() needs nothing else to refuse
    with pytest.raises(ValueError, match="not checked"):
        fleet.start(phone())
