"""The hint a failed run prints and adds to its report when it stopped on a screen it did not know."""

from __future__ import annotations

from pathlib import Path

from miui_automator.report.events import EventWriter, read_events
from miui_automator.screens.catalogue import default_catalogue
from miui_automator.screens.hints import annotate_run, failure_hints
from screens_helpers import APPIUM_RENAME_PHONE, consent_xml


def _run(tmp_path: Path, xml: str, seen: str, error: str, outcome: str = "failed") -> Path:
    run = tmp_path / "run"
    (run / "screens").mkdir(parents=True)
    (run / "screens" / "5-failed.xml").write_text(xml, encoding="utf-8")
    with EventWriter(run) as w:
        w.write("run_start", flow="f", description="", destructive=False, device={}, params={}, out_dir=str(run))
        w.write("step_start", step="5", kind="drive", description="drive", line=3)
        w.write("step_failed", step="5", duration_s=1.0, error=error, screen_seen=seen,
                hierarchy_path="screens/5-failed.xml", screenshot_path=None)
        w.write("run_end", outcome=outcome, exit_code=1, duration_s=2.0, summary=error)
    return run


def test_unknown_screen_hint_names_the_command_and_the_closest_screen(tmp_path) -> None:
    run = _run(tmp_path, APPIUM_RENAME_PHONE.read_text(encoding="utf-8"), "unknown", "no rule for screen unknown while driving")
    lines = failure_hints(run, default_catalogue(), catalogue_args=["my cat.yaml"])
    dump = run / "screens" / "5-failed.xml"
    assert lines[0] == "the phone showed a screen the catalogue does not know"
    assert lines[1] == f"see why: miui-automator screens identify {dump} --catalogue 'my cat.yaml'"
    assert lines[2].startswith("closest known screen: ") and "that id with text 'Rename phone'" in lines[2]
    assert lines[3].startswith(f"teach it: miui-automator screens suggest NAME --from {dump}")
    annotate_run(run, lines)
    logs = [e["message"] for e in read_events(run) if e["type"] == "log"]
    assert logs == [f"screen hint: {line}" for line in lines]
    assert "screens identify" in (run / "report.html").read_text(encoding="utf-8")


def test_unexpected_known_screen_gets_a_hint_other_failures_do_not(tmp_path) -> None:
    run = _run(tmp_path, consent_xml(), "account", "expected screen settings_home, but the phone shows account")
    assert failure_hints(run, default_catalogue())[0] == "the phone showed account, which this step did not expect"
    other = _run(tmp_path / "b", consent_xml(), "account", "shell command failed: exit 1")
    assert failure_hints(other, default_catalogue()) == []
    passed = _run(tmp_path / "c", consent_xml(), "unknown", "optional step failed", outcome="passed")
    assert failure_hints(passed, default_catalogue()) == []
