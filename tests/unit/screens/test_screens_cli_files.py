"""The ``screens`` commands on saved files (no phone): suggest from a dump, list, export, import,
and one-line errors with the right exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from miui_automator.cli.main import main
from screens_helpers import APPIUM_RENAME_PHONE, consent_xml


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("MIUI_AUTOMATOR_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MIUI_AUTOMATOR_CATALOGUE", raising=False)
    return tmp_path / "home"


def test_teach_from_a_failure_dump_list_export_and_import(tmp_path, home, monkeypatch, capsys) -> None:
    run_screens = tmp_path / "run" / "screens"
    run_screens.mkdir(parents=True)
    dump = run_screens / "5-failed.xml"
    dump.write_text(consent_xml(), encoding="utf-8")
    from PIL import Image

    Image.new("RGB", (1080, 2400), (200, 200, 200)).save(run_screens / "5-failed.jpg")

    assert main(["screens", "suggest", "carrier_consent", "--from", str(dump)]) == 0
    out = capsys.readouterr().out
    assert "added screen carrier_consent to" in out
    assert (home / "catalogue.yaml").is_file()
    assert (home / "screens" / "carrier_consent" / "screenshot.png").is_file(), "the dump's screenshot is kept"

    assert main(["screens", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    consent = next(s for s in listed["screens"] if s["name"] == "carrier_consent")
    assert consent["signatures"][0]["declared"].startswith(str(home / "catalogue.yaml") + ":")
    assert main(["screens", "identify", str(dump)]) == 0
    assert capsys.readouterr().out.startswith("screen   carrier_consent")

    bundle = tmp_path / "lab.zip"
    assert main(["screens", "export", "-o", str(bundle)]) == 0
    assert "1 screen(s) (carrier_consent), evidence for 1" in capsys.readouterr().out
    monkeypatch.setenv("MIUI_AUTOMATOR_HOME", str(tmp_path / "colleague"))
    assert main(["screens", "identify", str(dump), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["screen"] == "unknown"
    assert main(["screens", "import", str(bundle)]) == 0
    capsys.readouterr()
    assert main(["screens", "identify", str(dump), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["screen"] == "carrier_consent"


def test_print_only_writes_nothing(home, capsys) -> None:
    assert main(["screens", "suggest", "rename_phone", "--from", str(APPIUM_RENAME_PHONE), "--print"]) == 0
    assert "rename_phone:" in capsys.readouterr().out
    assert not home.exists()


@pytest.mark.parametrize("argv, code, message", [
    (["screens", "identify", "nope.xml"], 2, "nope.xml: cannot read the hierarchy"),
    (["screens", "identify", "--catalogue", "missing.yaml", str(APPIUM_RENAME_PHONE)], 2, "missing.yaml: no such screen catalogue"),
    (["screens", "identify", str(APPIUM_RENAME_PHONE), "-s", "x"], 2, "not both"),
    (["screens", "suggest", "Bad Name", "--from", str(APPIUM_RENAME_PHONE)], 2, "lower_snake_case"),
    (["screens", "import", str(APPIUM_RENAME_PHONE)], 2, "not a screen bundle"),
])
def test_errors_are_one_line_with_exit_codes(argv, code, message, capsys) -> None:
    assert main(argv) == code
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_refused_entry_is_printed_to_finish_by_hand(tmp_path, home, capsys) -> None:
    dump = tmp_path / "consent.xml"
    dump.write_text(consent_xml(), encoding="utf-8")
    assert main(["screens", "suggest", "carrier_consent", "--from", str(dump)]) == 0
    capsys.readouterr()
    # the same page again under another name: it would match the saved evidence of carrier_consent
    assert main(["screens", "suggest", "carrier_consent_again", "--from", str(dump)]) == 2
    captured = capsys.readouterr()
    assert "also matches the saved screen(s) carrier_consent" in captured.err and captured.err.count("\n") == 1
    assert captured.out.startswith("  carrier_consent_again:\n")
