"""Pillow checks that a screenshot is a real frame, frame differences, and tap/swipe annotations."""

from miui_automator.vision.frames import (
    FrameCheck,
    annotate,
    check_frame,
    decode_frame,
    frame_difference,
    frames_differ,
    thumbnail,
)

__all__ = ["FrameCheck", "annotate", "check_frame", "decode_frame", "frame_difference", "frames_differ", "thumbnail"]
