"""Any fault inside a backup stage ends as one line naming the stage, with the folder resumable."""

from __future__ import annotations

import pytest

from miui_automator.backup import stages
from miui_automator.backup.state import BackupState
from miui_automator.device.driver import ShellOutput
from miui_automator.errors import StepFailed


def test_an_unforeseen_error_in_a_stage_is_one_line_naming_it_and_the_state_stays_resumable(tmp_path, monkeypatch):
    state = BackupState.create(tmp_path, {"hardware_serial": "x"})

    def broken(*args, **kwargs):
        raise KeyError("a path nobody\nexpected")

    monkeypatch.setattr(BackupState, "inventory", broken)
    with pytest.raises(StepFailed) as err:
        stages.pull_files(None, tmp_path)  # type: ignore[arg-type]
    message = str(err.value)
    assert message.startswith("backup stage files stopped: KeyError: ") and "\n" not in message
    assert err.value.__cause__ is None and err.value.__suppress_context__
    again = BackupState.load(tmp_path)
    assert again.stage("files") == "failed" and again.data["error"]["stage"] == "files"
    assert again.data["error"]["message"] == message
    assert "KeyError" in again.data["error"]["trace"] and "broken" in again.data["error"]["trace"]
    assert state.folder == again.folder


def test_a_damaged_folder_met_while_choosing_where_to_resume_is_one_line(tmp_path, monkeypatch):
    class Driver:
        serial = "x"

        def shell(self, command, timeout_s=None):
            assert command == "getprop"
            return ShellOutput(command, "[ro.serialno]: [x]\n[ro.product.model]: [m]\n", 0)

    def broken(*args, **kwargs):
        raise TypeError("unexpected layout")

    monkeypatch.setattr(stages, "resumable_folder", broken)
    with pytest.raises(StepFailed, match=r"^backup stage begin stopped: TypeError: unexpected layout"):
        stages.choose_folder(Driver(), tmp_path)  # type: ignore[arg-type]


@pytest.mark.parametrize("damage", [[], {"format": "miui-automator-backup"},
                                    {"format": "miui-automator-backup", "device": {}, "stages": [], "exports": {},
                                     "warnings": []}])
def test_a_damaged_state_file_is_one_line_not_a_traceback(tmp_path, damage):
    import json

    from miui_automator.backup.state import STATE_FILE

    (tmp_path / STATE_FILE).write_text(json.dumps(damage))
    with pytest.raises(StepFailed, match="not a miui-automator backup state|damaged backup state"):
        stages.pull_files(None, tmp_path)  # type: ignore[arg-type]
