"""screenrecord: argument handling and the MP4 it leaves behind, decoded by FFmpeg (PyAV)."""

import asyncio
import io

import av
import pytest

from miui_automator.sim.video import Mp4Recording

BOUND = 20


async def _discard(data: bytes) -> None:
    """Later output of the held command, not looked at here."""


def decode(data: bytes) -> tuple[str, tuple[int, int], list[float]]:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        times = [frame.time for frame in container.decode(video=0)]
        return stream.codec_context.name, (stream.width, stream.height), times


def test_recording_keeps_changed_frames_and_lasts_until_the_stop(phone):
    first = phone.screenshot("png")
    phone.start_activity(component="com.android.settings/.MainSettings")
    second = phone.screenshot("png")
    recording = Mp4Recording(540, 1200)
    recording.add(first, 0)
    recording.add(first, 100)  # unchanged screen: no frame
    recording.add(second, 400)
    codec, size, times = decode(recording.finish(900))
    assert (codec, size) == ("h264", (540, 1200))
    assert times == pytest.approx([0.0, 0.4, 0.9])


def test_screenrecord_writes_an_mp4_for_its_time_limit(sh, phone):
    result = sh.run("screenrecord --size 540x1200 --time-limit 1 /sdcard/Movies/rec.mp4")
    assert result.rc == 0 and result.hold is not None
    asyncio.run(asyncio.wait_for(result.hold(asyncio.Event(), _discard), BOUND))
    codec, size, times = decode(phone.state.fs.read("/sdcard/Movies/rec.mp4"))
    assert codec == "h264" and size == (540, 1200) and times[-1] == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("command, message", [
    ("screenrecord", b"Must specify output file"),
    ("screenrecord --time-limit 500 /sdcard/a.mp4", b"out of range"),
    ("screenrecord --size big /sdcard/a.mp4", b"Invalid size"),
    ("screenrecord /system/a.mp4", b"Read-only file system"),
])
def test_screenrecord_refuses_bad_arguments(sh, command, message):
    result = sh.run(command)
    assert result.rc != 0 and message in result.stderr and result.hold is None


def test_screenrecord_without_the_video_extra_says_what_to_install(sh, monkeypatch):
    from miui_automator.sim.commands import screenrecord

    monkeypatch.setattr(screenrecord.importlib.util, "find_spec", lambda name: None)
    result = sh.run("screenrecord /sdcard/rec.mp4")
    assert result.rc == 1 and b"miui-automator[video]" in result.stderr and result.hold is None
