"""A JPEG frame from the phone is checked and compared without decoding its full pixels, and drawn on from
a fresh decode, so what a run keeps of it is the phone's bytes (bench/fleet_bench.py: memory per phone)."""

from __future__ import annotations

import io
import threading

import pytest
from PIL import Image, ImageChops

from miui_automator.errors import VerificationFailed
from miui_automator.vision import annotate, check_frame, decode_frame, frame_difference, frames_differ
from miui_automator.vision.frames import PHONE_JPEG, PhoneFrame, black_out

from test_frames import SIZE, png, valid_frame


def jpeg_frame(title: str = "Settings", **kw) -> PhoneFrame:
    frame = decode_frame(png(valid_frame(title, **kw), "JPEG"))
    assert isinstance(frame, PhoneFrame)
    return frame


def full(frame: PhoneFrame) -> Image.Image:
    """The same JPEG decoded in full the ordinary way."""
    decoded = Image.open(io.BytesIO(frame.info[PHONE_JPEG]))
    decoded.load()
    return decoded


def test_checks_and_comparisons_leave_the_frame_undecoded() -> None:
    frame = jpeg_frame("Settings")
    assert check_frame(frame, SIZE).ok
    assert not frames_differ(frame, jpeg_frame("Settings"))
    assert frames_differ(frame, jpeg_frame("About phone"))
    assert not frame.decoded  # the engine's use of a frame never decodes its full pixels
    assert frame.size == SIZE and frame.mode == "RGB" and frame.format == "JPEG"
    frame.copy()  # anything else that touches the pixels decodes them, as Pillow does for a file
    assert frame.decoded


def test_the_checks_see_what_a_full_decode_shows() -> None:
    for frame in (jpeg_frame(), jpeg_frame(dark=True)):
        quick, slow = check_frame(frame, SIZE), check_frame(full(frame), SIZE)
        assert quick.ok == slow.ok and quick.size == slow.size
        assert abs(quick.mean - slow.mean) < 1.0 and abs(quick.stddev - slow.stddev) < 2.0
    black = decode_frame(png(Image.new("RGB", SIZE, (0, 0, 0)), "JPEG"))
    assert not check_frame(black, SIZE).ok and "black" in check_frame(black, SIZE).reason
    a, b = jpeg_frame("Settings"), jpeg_frame("Mi Account")
    assert abs(frame_difference(a, b) - frame_difference(full(a), full(b))) < 0.01


def test_a_frame_compares_with_one_made_otherwise() -> None:
    frame = jpeg_frame()
    assert not frames_differ(frame, valid_frame())
    assert frames_differ(frame, valid_frame("Something else entirely").rotate(180))
    odd = decode_frame(png(valid_frame().resize((720, 1600)), "JPEG"))  # its own sample is not 1/8 of it
    assert not frames_differ(odd, valid_frame().resize((720, 1600)))


def test_drawing_decodes_a_fresh_copy_and_leaves_the_frame_as_sent() -> None:
    frame = jpeg_frame()
    marked = annotate(frame, tap=(540, 1200), label="step 2")
    hidden = black_out(frame, [(40, 170, 600, 280)])
    assert not frame.decoded
    expected = annotate(full(frame), tap=(540, 1200), label="step 2")
    assert ImageChops.difference(marked, expected).getbbox() is None
    assert hidden.getpixel((300, 220)) == (0, 0, 0)
    assert PHONE_JPEG not in hidden.info, "an edited copy must never be saved as the phone's bytes"


def test_a_truncated_jpeg_fails_when_it_arrives() -> None:
    data = png(valid_frame(), "JPEG")
    with pytest.raises(VerificationFailed, match="screenshot does not decode"):
        decode_frame(data[: len(data) // 2])


def test_threads_decoding_one_frame_at_once_see_the_same_pixels() -> None:
    frame = jpeg_frame()
    start = threading.Barrier(6)
    copies: list[Image.Image] = []

    def use() -> None:
        start.wait(timeout=10)
        copies.append(frame.copy())

    workers = [threading.Thread(target=use) for _ in range(6)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=30)
    assert len(copies) == 6 and frame.decoded
    assert all(ImageChops.difference(c, copies[0]).getbbox() is None for c in copies)
