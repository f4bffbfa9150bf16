"""What the artifact listener saves for a step that acted: BEFORE (the frame the action was aimed at,
with an annotated copy) and AFTER (the settled screen), each recorded with its screen name; the phone's
own JPEG bytes saved as sent; typed secrets blacked out of both frames."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw

from miui_automator.device.hierarchy import parse_hierarchy
from miui_automator.flow.listeners import Observation, Redaction
from miui_automator.report.events import EventWriter, read_events
from miui_automator.run.artifacts import ArtifactListener
from miui_automator.screens.catalogue import Identification
from miui_automator.vision.frames import decode_frame

PAGE = ("<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><hierarchy rotation=\"0\">"
        '<node index="0" text="" resource-id="" class="android.widget.FrameLayout" package="com.example"'
        ' content-desc="" clickable="false" bounds="[0,0][1080,2400]" /></hierarchy>')
FIELD = (100, 600, 900, 700)


def phone_jpeg(colour: tuple[int, int, int]) -> bytes:
    img = Image.new("RGB", (1080, 2400), colour)
    ImageDraw.Draw(img).rectangle(FIELD, fill=(255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=75)
    return buf.getvalue()


def observation(screen: str, jpeg: bytes, redaction: Redaction | None = None, **kw) -> Observation:
    return Observation(parse_hierarchy(PAGE), Identification(screen), decode_frame(jpeg), redaction=redaction, **kw)


class Step:
    kind, line = "tap", 3

    def describe(self) -> str:
        return "tap OK"


def save(tmp_path: Path, after: Observation) -> tuple[Path, list[dict]]:
    run = tmp_path / "run"
    with EventWriter(run) as writer:
        listener = ArtifactListener(run, writer)
        listener.step_done("2", Step(), after, 0.5, "")
        listener.run_end("passed", 0, 1.0, "")
    return run, [e for e in read_events(run) if e["type"] == "screenshot"]


def test_a_step_that_acted_saves_the_frame_it_aimed_at_marked_and_the_settled_frame_plain(tmp_path):
    sent_before, sent_after = phone_jpeg((20, 120, 200)), phone_jpeg((200, 60, 20))
    after = observation("password_dialog", sent_after)
    after.before = observation("wipe_confirm", sent_before, tap=(500, 650), target=FIELD)
    run, shots = save(tmp_path, after)
    by_kind = {e["kind"]: e for e in shots}
    assert [e["kind"] for e in shots] == ["before", "after"]
    assert (by_kind["before"]["screen"], by_kind["after"]["screen"]) == ("wipe_confirm", "password_dialog")
    assert by_kind["before"]["tap"] == [500, 650] and by_kind["before"]["target"] == list(FIELD)
    assert by_kind["before"]["annotated_path"] and by_kind["after"]["annotated_path"] is None
    assert by_kind["after"]["tap"] is None  # the mark is on the frame the tap hit, never on what replaced it
    # the phone's JPEG is saved as it came, not decoded and encoded again
    assert (run / by_kind["after"]["path"]).read_bytes() == sent_after
    assert (run / by_kind["before"]["path"]).read_bytes() == sent_before
    with Image.open(run / by_kind["before"]["annotated_path"]) as marked:
        assert marked.convert("RGB").getpixel((FIELD[0] + 2, 650))[0] > 180  # the red outline of the target


def test_a_typed_secret_is_blacked_out_of_both_frames(tmp_path):
    redaction = Redaction(("Pw-1",), (FIELD,))
    after = observation("password_dialog", phone_jpeg((200, 60, 20)), redaction)
    after.before = observation("password_dialog", phone_jpeg((20, 120, 200)), redaction, tap=(500, 650))
    run, shots = save(tmp_path, after)
    for e in shots:
        for rel in filter(None, (e["path"], e["annotated_path"])):
            with Image.open(run / rel) as img:
                assert max(img.convert("RGB").getpixel((500, 620))) < 40, (rel, "the field is not blacked out")


def test_the_report_previews_of_the_frames_shown_are_made_while_the_run_goes_on(tmp_path, monkeypatch):
    from miui_automator.report import previews

    monkeypatch.setattr(previews, "_prepared", type(previews._prepared)())
    after = observation("password_dialog", phone_jpeg((200, 60, 20)))
    after.before = observation("wipe_confirm", phone_jpeg((20, 120, 200)), tap=(500, 650), target=FIELD)
    run, shots = save(tmp_path, after)
    by_kind = {e["kind"]: e for e in shots}
    shown = [by_kind["before"]["annotated_path"], by_kind["after"]["path"]]  # what report.html shows
    assert set(previews._prepared) == {previews._key((run / rel).read_bytes()) for rel in shown}
