"""Account ids and phone numbers masked by every writer of records, and typed secrets kept out of saved
dumps and frames: the event record, the reports rendered from it, hierarchy dumps, the fleet ledger and
fleet reports."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from miui_automator.fleet.ledger import FAILED, Ledger
from miui_automator.fleet.summary import render_fleet, summarize
from miui_automator.report.events import EventWriter, read_events
from miui_automator.report.redaction import redact_dump
from miui_automator.report.render import render_all
from miui_automator.vision.frames import black_out

ID = "1234567890"
MASKED = "12******90"
PHONE = "+86 138 0013 8000"


def test_event_writer_masks_every_text_but_serials_and_paths(tmp_path):
    with EventWriter(tmp_path) as w:
        w.write("run_start", flow="f", device={"serial": "87654321", "mi_account": ID, "model": "M"},
                out_dir=str(tmp_path / "run-87654321"), params={"who": PHONE})
        w.write("step_failed", step="1", error=f"account page shows {ID}", hierarchy_path="screens/1-failed.xml",
                screenshot_path="screens/1-failed.jpg")
    text = (tmp_path / "events.jsonl").read_text()
    assert ID not in text and "+86 *** **** **00" in text
    start, failed = read_events(tmp_path)
    assert start["device"]["serial"] == "87654321" and start["out_dir"].endswith("run-87654321")
    assert start["device"]["mi_account"] == MASKED and failed["error"] == f"account page shows {MASKED}"


def test_secrets_still_win_over_masking(tmp_path):
    with EventWriter(tmp_path, redact=["pw-1234567"]) as w:
        event = w.write("log", level="info", message="typed pw-1234567")
    assert event["message"] == "***"


def test_reports_of_a_record_written_unmasked_are_masked(tmp_path):
    lines = [{"ts": "2024-05-01T09:00:00.000Z", "seq": 1, "type": "run_start", "flow": "f", "device": {"serial": "s"}},
             {"ts": "2024-05-01T09:00:01.000Z", "seq": 2, "type": "step_start", "step": "1", "kind": "tap",
              "description": "tap"},
             {"ts": "2024-05-01T09:00:02.000Z", "seq": 3, "type": "step_failed", "step": "1", "error": f"saw {ID}"},
             {"ts": "2024-05-01T09:00:03.000Z", "seq": 4, "type": "run_end", "outcome": "failed", "exit_code": 1,
              "summary": f"saw {ID}"}]
    (tmp_path / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in lines))
    for path in render_all(tmp_path).values():
        data = path.read_text(encoding="utf-8")
        assert ID not in data and MASKED in data, path.name


DUMP = ('<?xml version="1.0"?>\n<hierarchy rotation="0">'
        '<node text="Mi Account" resource-id="a:id/title" bounds="[0,0][100,50]" />'
        f'<node text="{ID}" resource-id="a:id/id" bounds="[0,50][100,100]" />'
        '<node text="my pw &amp; more" resource-id="android:id/input" password="false" bounds="[0,100][100,150]" />'
        '<node text="" content-desc="pw &amp; more" bounds="[0,150][100,200]" />'
        '</hierarchy>')


def test_dump_has_secrets_cut_and_ids_masked():
    out = redact_dump(DUMP, ["pw & more"])
    assert ID not in out and f'text="{MASKED}"' in out
    assert "pw &amp; more" not in out and "pw & more" not in out
    assert 'text="***" resource-id="android:id/input"' in out  # the whole text of the field goes, not only the secret
    assert 'content-desc="***"' in out and 'text="Mi Account"' in out


def test_black_out_fills_the_box_and_leaves_the_rest():
    img = Image.new("RGB", (200, 300), (250, 250, 250))
    out = black_out(img, [(50, 100, 150, 140)])
    assert out.getpixel((100, 120)) == (0, 0, 0) and out.getpixel((50, 100)) == (0, 0, 0)
    assert out.getpixel((100, 200)) == (250, 250, 250) and out.getpixel((10, 10)) == (250, 250, 250)
    assert img.getpixel((100, 120)) == (250, 250, 250), "the frame itself is not touched"
    assert black_out(img, [(-20, 290, 500, 400)]).getpixel((199, 299)) == (0, 0, 0)  # clipped, no error


def test_fleet_ledger_and_reports_mask_errors(tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    run_id = ledger.new_run(mode="run", flow="demo", flow_ref="demo", flow_digest="d", top_steps=1, destructive=False,
                            out_base=str(tmp_path), settings={})
    ledger.add_phone(run_id, "hw1", server="local", serial="s1", model="M")
    attempt = ledger.phone_started(run_id, "hw1", start_at=1, run_dir="phones/hw1", server="local", serial="s1")
    ledger.step_started(run_id, "hw1", attempt, "1", f"tap {PHONE}")
    ledger.step_ended(run_id, "hw1", attempt, "1", "failed", f"saw {ID}")
    ledger.phone_finished(run_id, "hw1", FAILED, exit_code=1, error=f"saw {ID}")
    ledger.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("ledger.sqlite3*"))
    assert ID.encode() not in raw and b"138 0013" not in raw and MASKED.encode() in raw

    # a ledger written before masking existed still reports masked
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    ledger._exec("UPDATE phones SET error = ?", (f"old {ID}",))
    ledger._exec("UPDATE steps SET description = ?", (f"old {ID}",))
    summary = summarize(ledger, run_id)
    paths = render_fleet(summary, Path(tmp_path / "fleet"))
    for path in paths.values():
        data = path.read_text(encoding="utf-8")
        assert ID not in data and MASKED in data, path.name
