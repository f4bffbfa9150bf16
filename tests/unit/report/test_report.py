"""Event records and the reports rendered from them: passed, failed and killed runs."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from html import unescape
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from miui_automator.errors import UsageError
from miui_automator.report import EventWriter, RunRecord, read_events, render_all
from miui_automator.report.render import masked_device, render_junit

DEVICE = {"serial": "emulator-5554", "model": "2201123G", "market_name": "Xiaomi 12", "os_family": "MIUI",
          "os_version": "14", "os_label": "MIUI 14 (V14.0.5)", "android_version": "13", "mi_account": "1234567890",
          "other_accounts": [{"name": "jo.doe@gmail.com", "type": "com.google"}], "battery_level": 81, "locked": None}
STEPS = [("1", "launch", "Open Settings", "settings_home"),
         ("2", "tap", "Tap “Mi Account” <b>", "account"),
         ("3", "tap", "Tap \"Sign out\" & confirm", "signout_confirm")]


def _frame(run_dir: Path, rel: str, colour: tuple[int, int, int]) -> str:
    img = Image.new("RGB", (1080, 2400), (250, 250, 250))
    draw = ImageDraw.Draw(img)
    draw.rectangle((40, 200, 1040, 600), fill=colour)
    draw.text((60, 80), rel, fill=(0, 0, 0))
    path = run_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return rel


def _start(w: EventWriter, run_dir: Path, **extra: object) -> None:
    w.write("run_start", flow="remove-mi-account", description="Sign out the Mi account", destructive=True,
            device=DEVICE, params={"password": "***", "wipe": False}, out_dir=str(run_dir),
            started="2024-05-01T09:12:03.123Z", **extra)


def _steps(w: EventWriter, run_dir: Path, steps=STEPS) -> None:
    for index, kind, text, screen in steps:
        w.write("step_start", step=index, kind=kind, description=text, line=int(index) * 4)
        rel = _frame(run_dir, f"screens/{int(index):03d}-after.png", (200, 30 * int(index), 40))
        w.write("screenshot", step=index, kind="after", path=rel, annotated_path=None, tap=[540, 400])
        w.write("step_done", step=index, duration_s=1.25 * int(index), screen=screen, note="")


def passed_run(run_dir: Path) -> Path:
    with EventWriter(run_dir) as w:
        _start(w, run_dir)
        _steps(w, run_dir)
        w.write("popup_dismissed", step="2", popup="update_popup", action="tapped Later")
        w.write("log", level="info", message="all done")
        w.write("run_end", outcome="passed", exit_code=0, duration_s=8.5, summary="3 steps passed")
    return run_dir


def failed_run(run_dir: Path) -> Path:
    with EventWriter(run_dir) as w:
        _start(w, run_dir)
        _steps(w, run_dir, STEPS[:2])
        w.write("step_start", step="3", kind="group", description="Sign out", line=12)
        w.write("step_start", step="3.1", kind="tap", description="Tap “Sign out”", line=13)
        w.write("step_done", step="3.1", duration_s=0.8, screen="signout_password")
        w.write("step_start", step="3.2", kind="wait", description="Wait for signing_out", line=14)
        shot = _frame(run_dir, "screens/003.2-failure.png", (10, 10, 200))
        (run_dir / "hierarchy-3.2.xml").write_text("<hierarchy/>", encoding="utf-8")
        w.write("step_failed", step="3.2", duration_s=20.0, error="expected signing_out, saw find_device_failed \x1b[31m!",
                screen_seen="find_device_failed", hierarchy_path="hierarchy-3.2.xml", screenshot_path=shot)
        w.write("step_failed", step="3", duration_s=21.0, error="step 3.2 failed: expected signing_out, saw find_device_failed",
                screen_seen="find_device_failed", hierarchy_path="hierarchy-3.2.xml", screenshot_path=shot)
        w.write("step_skipped", step="4", kind="tap", description="Confirm", reason="an earlier step failed")
        w.write("log", level="error", message="Find device could not be turned off", step="3.2")
        w.write("run_end", outcome="failed", exit_code=1, duration_s=30.0, summary="step 3 failed")
    return run_dir


def killed_run(run_dir: Path) -> Path:
    """Two steps done, the third started, then kill -9 in the middle of writing a line."""
    with EventWriter(run_dir) as w:
        _start(w, run_dir)
        _steps(w, run_dir, STEPS[:2])
        w.write("step_start", step="3", kind="tap", description="Tap \"Sign out\"", line=12)
    with open(run_dir / "events.jsonl", "a", encoding="utf-8") as f:
        f.write('{"ts": "2024-05-01T09:13:00.000Z", "seq": 9, "type": "screensh')
    return run_dir


# ---------------------------------------------------------------- events


def test_every_event_is_one_json_line_with_ts_and_seq(tmp_path: Path) -> None:
    passed_run(tmp_path)
    lines = (tmp_path / "events.jsonl").read_text(encoding="utf-8").splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["type"] == "run_start" and events[-1]["type"] == "run_end"
    for e in events:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", e["ts"])
        datetime.fromisoformat(e["ts"].replace("Z", "+00:00"))
    assert read_events(tmp_path) == events


def test_event_is_on_disk_before_close(tmp_path: Path) -> None:
    w = EventWriter(tmp_path)
    w.write("log", level="info", message="hello")
    assert read_events(tmp_path)[0]["message"] == "hello"  # flushed while the writer is still open
    w.close()
    with pytest.raises(ValueError):
        w.write("log", level="info", message="too late")


def test_truncated_last_line_is_skipped(tmp_path: Path) -> None:
    killed_run(tmp_path)
    events = read_events(tmp_path)
    assert [e["type"] for e in events][-1] == "step_start"
    assert len(events) == 8


def test_writer_reopened_after_a_kill_does_not_glue_onto_the_cut_line(tmp_path: Path) -> None:
    killed_run(tmp_path)
    with EventWriter(tmp_path) as w:
        written = w.write("log", level="warning", message="resumed")
    events = read_events(tmp_path)
    assert events[-1]["message"] == "resumed" and len(events) == 9
    assert written["seq"] > events[-2]["seq"]


def test_read_events_without_a_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no events.jsonl"):
        read_events(tmp_path)


def test_redaction_masks_any_field_containing_a_secret(tmp_path: Path) -> None:
    with EventWriter(tmp_path, redact=["hunter2-S3cret"]) as w:
        w.redact(["", "0000-pin"])
        w.write("log", level="info", message="typed hunter2-S3cret into the field")
        w.write("step_failed", step="1", error="pin 0000-pin rejected", screen_seen="signout_password",
                details={"argv": ["input", "text", "hunter2-S3cret"], "count": 3})
        w.write("log", level="info", message="nothing secret here")
    raw = (tmp_path / "events.jsonl").read_text(encoding="utf-8")
    assert "hunter2" not in raw and "0000-pin" not in raw
    events = read_events(tmp_path)
    assert events[0]["message"] == "***"
    assert events[1]["error"] == "***" and events[1]["screen_seen"] == "signout_password"
    assert events[1]["details"] == {"argv": ["input", "text", "***"], "count": 3}
    assert events[2]["message"] == "nothing secret here"


def test_dataclasses_paths_and_odd_values_are_written_as_plain_json(tmp_path: Path) -> None:
    @dataclass(frozen=True)
    class Info:
        serial: str
        tags: tuple[str, ...]

    with EventWriter(tmp_path, redact=["s3cret"]) as w:
        w.write("run_start", device=Info("abc", ("x", "s3cret!")), out_dir=tmp_path / "out", ratio=float("nan"))
    line = (tmp_path / "events.jsonl").read_text(encoding="utf-8")
    event = json.loads(line, parse_constant=lambda name: pytest.fail(f"non-JSON constant {name}"))
    assert event["device"] == {"serial": "abc", "tags": ["x", "***"]}
    assert event["out_dir"] == str(tmp_path / "out") and event["ratio"] is None


# ---------------------------------------------------------------- record


def test_record_of_a_passed_run(tmp_path: Path) -> None:
    record = RunRecord.from_events(read_events(passed_run(tmp_path)))
    assert record.flow == "remove-mi-account" and record.outcome == "passed" and record.exit_code == 0
    assert [s.index for s in record.steps] == ["1", "2", "3"]
    assert all(s.status == "passed" for s in record.steps)
    assert record.steps[1].screen == "account" and record.steps[1].popups == ("update_popup",)
    assert record.steps[2].duration_s == 3.75
    assert record.steps[0].screenshots[0].path == "screens/001-after.png"
    assert record.steps[0].screenshots[0].tap == (540, 400)
    assert record.duration_s == 8.5 and record.device["model"] == "2201123G"


def test_record_of_a_killed_run_is_incomplete(tmp_path: Path) -> None:
    record = RunRecord.from_events(read_events(killed_run(tmp_path)))
    assert record.outcome == "incomplete" and not record.complete
    assert [s.status for s in record.steps] == ["passed", "passed", "incomplete"]
    assert record.exit_code is None and record.ended is None
    assert record.duration_s is not None and record.duration_s >= 0


def test_steps_are_ordered_numerically() -> None:
    events = [{"type": "step_start", "step": i, "description": i} for i in ["1", "2", "10", "9", "9.2", "9.10", "9.1"]]
    record = RunRecord.from_events(events)
    assert [s.index for s in record.steps] == ["1", "2", "9", "9.1", "9.2", "9.10", "10"]
    assert record.flow == "unknown flow" and record.outcome == "incomplete"


# ---------------------------------------------------------------- renderers


def _junit(path: Path) -> ET.Element:
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1
    return suites[0]


def test_render_passed_run(tmp_path: Path) -> None:
    written = render_all(passed_run(tmp_path))
    assert set(written) == {"json", "html", "junit"} and all(p.is_file() for p in written.values())

    data = json.loads(written["json"].read_text(encoding="utf-8"))
    assert data["outcome"] == "passed" and data["flow"] == "remove-mi-account"
    assert [s["status"] for s in data["steps"]] == ["passed"] * 3
    assert data["device"]["mi_account"] == "12******90" and data["params"]["password"] == "***"
    assert data["device"]["other_accounts"] == [{"name": "jo**oe@gmail.com", "type": "com.google"}]

    suite = _junit(written["junit"])
    assert suite.get("name") == "remove-mi-account"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("3", "0", "0", "0")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["01 Open Settings", "02 Tap “Mi Account” <b>", "03 Tap \"Sign out\" & confirm"]
    assert {c.get("classname") for c in cases} == {"remove-mi-account"}
    assert cases[1].get("time") == "2.500"

    html = written["html"].read_text(encoding="utf-8")
    assert "Open Settings" in html and "Tap &#34;Sign out&#34; &amp; confirm" in html
    assert "Tap “Mi Account” &lt;b&gt;" in html and "Tap “Mi Account” <b>" not in html
    assert 'id="outcome">passed<' in html
    assert html.count('src="data:image/jpeg;base64,') == 6  # a thumbnail and an in-page view each
    assert html.count('<div class="viewer"') == 3
    assert 'href="screens/001-after.png"' in html
    assert "1234567890" not in html and "12******90" in html and "jo.doe" not in html
    assert "<th>OS</th><td>MIUI 14 (V14.0.5)</td>" in html and "<th>os_family</th><td>MIUI</td>" in html
    assert "update_popup" in html


def test_html_thumbnails_are_decodable_jpegs(tmp_path: Path) -> None:
    html = render_all(passed_run(tmp_path))["html"].read_text(encoding="utf-8")
    uris = re.findall(r'src="data:image/jpeg;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(uris) == 6
    thumb = Image.open(io.BytesIO(base64.b64decode(uris[0])))
    assert thumb.format == "JPEG" and thumb.width == 216
    views = [Image.open(io.BytesIO(base64.b64decode(u))) for u in uris[3:]]
    assert all(v.format == "JPEG" and v.width > thumb.width for v in views)


def test_html_fetches_nothing_external(tmp_path: Path) -> None:
    html = render_all(passed_run(tmp_path))["html"].read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"<(link|iframe)\b", html, re.I) and not re.search(r"<script\b[^>]*\bsrc", html, re.I)
    assert "default-src 'none'" in html
    # the one inline script runs because the policy names its hash, and nothing else could
    script = re.search(r"<script>(.*?)</script>", html, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    assert f"script-src 'sha256-{digest}'" in unescape(html) and html.count("<script") == 1


def test_render_failed_run(tmp_path: Path) -> None:
    written = render_all(failed_run(tmp_path))
    data = json.loads(written["json"].read_text(encoding="utf-8"))
    assert data["outcome"] == "failed" and data["exit_code"] == 1
    by_index = {s["index"]: s for s in data["steps"]}
    assert by_index["3.2"]["status"] == "failed" and by_index["3.2"]["screen_seen"] == "find_device_failed"
    assert by_index["4"]["status"] == "skipped" and by_index["4"]["skip_reason"] == "an earlier step failed"

    suite = _junit(written["junit"])
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("4", "1", "1")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert set(cases) == {"01 Open Settings", "02 Tap “Mi Account” <b>", "03 Sign out", "04 Confirm"}  # no nested cases
    failure = cases["03 Sign out"].find("failure")
    assert failure is not None and "find_device_failed" in failure.get("message", "")
    assert "hierarchy-3.2.xml" in (failure.text or "")
    assert cases["04 Confirm"].find("skipped") is not None
    assert cases["01 Open Settings"].find("failure") is None

    html = written["html"].read_text(encoding="utf-8")
    assert 'id="outcome">failed<' in html and 'id="failure"' in html
    assert 'href="hierarchy-3.2.xml"' in html and 'href="screens/003.2-failure.png"' in html
    assert "Find device could not be turned off" in html
    assert 'class="step status-failed depth-1" id="step-3.2"' in html
    failure_section = html.split('id="failure"')[1].split("</section>")[0]
    assert ">Step 3.2</a>" in failure_section and ">Step 3</a>" not in failure_section  # the group is not repeated
    assert "\x1b" not in html and "[31m" not in html


def test_junit_survives_control_characters(tmp_path: Path) -> None:
    written = render_all(failed_run(tmp_path))
    raw = written["junit"].read_bytes()
    assert b"\x1b" not in raw and b"[31m" not in raw
    ET.fromstring(raw)


def test_render_killed_run(tmp_path: Path) -> None:
    written = render_all(killed_run(tmp_path))
    data = json.loads(written["json"].read_text(encoding="utf-8"))
    assert data["outcome"] == "incomplete"
    assert [s["status"] for s in data["steps"]] == ["passed", "passed", "incomplete"]

    suite = _junit(written["junit"])
    assert suite.get("errors") == "1" and suite.get("tests") == "3"
    error = suite.findall("testcase")[2].find("error")
    assert error is not None and "did not finish" in error.get("message", "")

    html = written["html"].read_text(encoding="utf-8")
    assert 'id="outcome">incomplete<' in html and "Incomplete run." in html
    assert "Open Settings" in html and "Tap &#34;Sign out&#34;" in html


def test_killed_between_steps_still_fails_junit() -> None:
    events = [{"type": "run_start", "flow": "backup", "ts": "2024-05-01T09:00:00.000Z"},
              {"type": "step_start", "step": "1", "description": "Open"},
              {"type": "step_done", "step": "1", "duration_s": 1.0, "screen": "settings_home"}]
    suite = ET.fromstring(render_junit(RunRecord.from_events(events))).find("testsuite")
    assert suite is not None and suite.get("errors") == "1"
    assert [c.get("name") for c in suite.findall("testcase")] == ["01 Open", "run"]


def test_missing_screenshot_file_does_not_break_rendering(tmp_path: Path) -> None:
    passed_run(tmp_path)
    (tmp_path / "screens" / "002-after.png").unlink()
    (tmp_path / "screens" / "003-after.png").write_bytes(b"garbage")
    html = render_all(tmp_path)["html"].read_text(encoding="utf-8")
    assert html.count('src="data:image/jpeg;base64,') == 2  # the one left: its thumbnail and its view
    assert html.count("file missing") == 2


def test_screenshot_paths_cannot_leave_the_run_dir(tmp_path: Path) -> None:
    secret = tmp_path / "outside.png"
    Image.new("RGB", (100, 200), (255, 0, 0)).save(secret)
    run_dir = tmp_path / "run"
    with EventWriter(run_dir) as w:
        _start(w, run_dir)
        w.write("step_start", step="1", kind="tap", description="x")
        w.write("screenshot", step="1", kind="after", path="../outside.png")
    html = render_all(run_dir)["html"].read_text(encoding="utf-8")
    assert "data:image/jpeg" not in html


@pytest.mark.parametrize(("value", "masked"), [("1234567890", "12******90"), ("jo.doe@mi.com", "jo**oe@mi.com"),
                                                ("12******90", "12******90")])
def test_device_accounts_are_masked(value: str, masked: str) -> None:
    assert masked_device({"mi_account": value})["mi_account"] == masked
