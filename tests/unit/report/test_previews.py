"""Report previews: a frame saved twice is previewed once, and those prepared while the run went on are
taken as they are, so rendering at the end of a run does little image work (bench/fleet_bench.py)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from miui_automator.report import EventWriter, previews, render_html
from miui_automator.report.events import RunRecord, read_events


def jpeg(colour: tuple[int, int, int]) -> bytes:
    img = Image.new("RGB", (1080, 2400), colour)
    ImageDraw.Draw(img).rectangle((100, 600, 900, 700), fill=(255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return buf.getvalue()


@pytest.fixture
def made(monkeypatch) -> list[bytes]:
    """Every preview made, by the bytes it was made from; the store starts empty."""
    calls: list[bytes] = []
    real = previews.make

    def counted(data: bytes):
        calls.append(data)
        return real(data)

    monkeypatch.setattr(previews, "make", counted)
    monkeypatch.setattr(previews, "_prepared", type(previews._prepared)())
    return calls


def run_with(tmp_path: Path, frames: list[bytes]) -> Path:
    """A run whose steps each saved one of ``frames`` (in order, repeats allowed)."""
    run = tmp_path / "run"
    (run / "screens").mkdir(parents=True)
    with EventWriter(run) as w:
        w.write("run_start", flow="f", description="", destructive=False, device={}, params={}, out_dir=str(run))
        for i, data in enumerate(frames, 1):
            rel = f"screens/{i}-after.jpg"
            (run / rel).write_bytes(data)
            w.write("step_start", step=str(i), kind="tap", description=f"step {i}", line=i)
            w.write("screenshot", step=str(i), path=rel, annotated_path=None, kind="after", screen="s")
            w.write("step_done", step=str(i), duration_s=1.0, screen="s", note="")
        w.write("run_end", outcome="passed", exit_code=0, duration_s=3.0, summary="passed")
    return run


def html_of(run: Path) -> str:
    return render_html(RunRecord.from_events(read_events(run)), run)


def test_a_frame_saved_twice_is_previewed_once(tmp_path, made):
    a, b = jpeg((20, 120, 200)), jpeg((200, 60, 20))
    html = html_of(run_with(tmp_path, [a, b, a, a]))
    assert made == [a, b]
    assert html.count("data:image/jpeg;base64,") == 8  # still a thumbnail and a view for every step


def test_prepared_previews_are_taken_once_and_the_report_is_the_same(tmp_path, made):
    a, b = jpeg((20, 120, 200)), jpeg((200, 60, 20))
    run = run_with(tmp_path, [a, b])
    plain = html_of(run)
    made.clear()
    previews.prepare(a)
    previews.prepare(b)
    assert made == [a, b]
    made.clear()
    assert html_of(run) == plain
    assert made == []  # nothing left to make at the end of the run
    assert not previews._prepared  # handed out: the store holds only what no report took yet


def test_phones_showing_the_same_frame_share_its_previews(tmp_path, made):
    a = jpeg((20, 120, 200))
    for _ in range(3):  # three phones saved the very same frame
        previews.prepare(a)
    assert made == [a]
    run = run_with(tmp_path, [a])
    reports = [html_of(run) for _ in range(3)]
    assert made == [a] and reports[0] == reports[1] == reports[2]
    assert not previews._prepared


def test_the_store_of_prepared_previews_is_bounded(made, monkeypatch):
    monkeypatch.setattr(previews, "MAX_PREPARED", 2)
    monkeypatch.setattr(previews, "make", lambda data: ("t", "v"))
    for n in range(5):
        previews.prepare(bytes([n]))
    assert len(previews._prepared) == 2


def test_a_file_that_does_not_decode_has_no_previews(tmp_path, made):
    html = html_of(run_with(tmp_path, [b"not a picture"]))
    assert "data:image/jpeg;base64," not in html
