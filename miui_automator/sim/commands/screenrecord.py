"""``screenrecord``: an MP4 of the screen for the time limit, or until the host hangs up.

Android's screenrecord stops on SIGINT/SIGHUP (Ctrl-C, or adb dropping the shell) and still
finishes the file, so both ends write a playable MP4. Frames are taken on the loop (the phone
model lives there) and encoded by :class:`~miui_automator.sim.video.Mp4Recording` in a worker
thread, so a recording never stalls the other phones.
"""

from __future__ import annotations

import asyncio
import importlib.util
import posixpath
import re

from ..ui import SCREEN_H, SCREEN_W
from .base import CommandError, Ctx, write_error

DEFAULT_LIMIT_S = 180
MAX_LIMIT_S = 180
FRAME_CHECK_S = 0.1  # how often the recorder looks for a changed screen
USAGE = ("Usage: screenrecord [options] <filename>\n\nAndroid screenrecord v1.3.  Records the device's display to a "
         ".mp4 file.\n\nOptions:\n--size WIDTHxHEIGHT\n    Set the video size, e.g. \"1280x720\".  Default is the "
         "device's main\n    display resolution (if supported), 1280x720 if not.  For best results,\n    use a size "
         "supported by the AVC encoder.\n--bit-rate RATE\n    Set the video bit rate, in bits per second.  Value may be "
         "specified as\n    bits or megabits, e.g. '4000000' is equivalent to '4M'.  Default 20Mbps.\n--time-limit "
         "TIME\n    Set the maximum recording time, in seconds.  Default / maximum is 180.\n--verbose\n    Display "
         "interesting information on stdout.\n--help\n    Show this message.\n\nRecording continues until Ctrl-C is "
         "hit or the time limit is reached.\n")


def _options(args: list[str]) -> tuple[str, tuple[int, int], int, bool]:
    size, limit, verbose, files = (SCREEN_W, SCREEN_H), DEFAULT_LIMIT_S, False, []
    it = iter(args)
    for arg in it:
        name, eq, inline = arg.partition("=")
        value = inline if eq else None
        if name in ("--size", "--bit-rate", "--time-limit", "--bugreport-file", "--output-format", "--display-id"):
            value = value if value is not None else next(it, None)
            if value is None:
                raise CommandError(USAGE.rstrip("\n"), 2)
        if name == "--size":
            m = re.fullmatch(r"(\d+)x(\d+)", value or "")
            if not m or min(int(m.group(1)), int(m.group(2))) < 2:
                raise CommandError(f"Invalid size '{value}', must be width x height", 2)
            size = int(m.group(1)), int(m.group(2))
        elif name == "--time-limit":
            if not (value or "").isdigit() or not 1 <= int(value) <= MAX_LIMIT_S:
                raise CommandError(f"Time limit {value} is out of range [1,{MAX_LIMIT_S}]", 2)
            limit = int(value)
        elif name in ("--verbose", "-v"):
            verbose = True
        elif name in ("--help", "-h"):
            raise CommandError(USAGE.rstrip("\n"), 0)
        elif name.startswith("-") and name not in ("--bit-rate", "--bugreport", "--bugreport-file",
                                                   "--output-format", "--display-id", "--rotate"):
            raise CommandError(f"Unknown option '{name}'\n{USAGE}".rstrip("\n"), 2)
        elif not name.startswith("-"):
            files.append(arg)
    if len(files) != 1:
        raise CommandError("Must specify output file (see --help).", 2)
    return files[0], size, limit, verbose


def screenrecord(ctx: Ctx, args: list[str]) -> int:
    target, (width, height), limit, verbose = _options(args)
    phone = ctx.phone
    fs = phone.state.fs
    norm = ctx.resolve(target)
    parent = fs.lookup(posixpath.dirname(norm))
    reason = write_error(norm) or (None if parent is not None and parent.is_dir else "No such file or directory")
    if reason:
        raise CommandError(f"Unable to open '{target}': {reason}", 1)
    if importlib.util.find_spec("av") is None:  # the encoder is an optional extra: 100 MB of FFmpeg
        raise CommandError("screenrecord: this simulator has no video encoder (pip install 'miui-automator[video]')", 1)
    if verbose:
        ctx.out(f"Main display is {SCREEN_W}x{SCREEN_H} @60.00fps (orientation=ROT_0)\n"
                f"Configuring recorder for {width}x{height} video/avc at 20.00Mbps\n"
                f"Content area is {width}x{height} at offset x=0 y=0\n")

    async def record(closed: asyncio.Event, write) -> None:
        from ..video import Mp4Recording

        loop = asyncio.get_running_loop()
        started = loop.time()
        recording = await loop.run_in_executor(None, Mp4Recording, width, height)
        last = None
        while True:
            elapsed_ms = round((loop.time() - started) * 1000)
            frame = phone.screenshot("png")
            if frame != last:
                await loop.run_in_executor(None, recording.add, frame, elapsed_ms)
                last = frame
            remaining = limit - (loop.time() - started)
            if remaining <= 0 or closed.is_set():
                break
            try:
                await asyncio.wait_for(closed.wait(), min(FRAME_CHECK_S, remaining))
            except asyncio.TimeoutError:
                pass
        stop_ms = round(min(loop.time() - started, limit) * 1000)
        fs.write(norm, await loop.run_in_executor(None, recording.finish, stop_ms))
        if verbose and not closed.is_set():
            await write(b"Time limit reached\nStopping encoder and muxer\n")

    ctx.hold = record
    return 0


COMMANDS = {"screenrecord": screenrecord}
