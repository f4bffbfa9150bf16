"""MP4 files of the screen, as ``screenrecord`` writes them: H.264, variable frame rate.

Like SurfaceFlinger feeding the encoder, a frame goes in only when the screen changed, stamped
with the milliseconds since recording began; the last frame is repeated at the stop time so the
file lasts as long as the recording did. PyAV (FFmpeg) does the encoding and muxing; nothing
here touches the phone or the event loop, so the encoding can run off the loop thread.
"""

from __future__ import annotations

import io
from fractions import Fraction

MS = Fraction(1, 1000)


class Mp4Recording:
    def __init__(self, width: int, height: int) -> None:
        import av

        self._av = av
        self._buffer = io.BytesIO()
        self._container = av.open(self._buffer, "w", format="mp4")
        stream = self._container.add_stream("libx264", rate=60)
        stream.width, stream.height = width - width % 2, height - height % 2  # yuv420p needs even sizes
        stream.pix_fmt = "yuv420p"
        stream.time_base = MS
        stream.codec_context.time_base = MS
        stream.options = {"preset": "ultrafast", "tune": "zerolatency"}
        self._stream = stream
        self._last = None
        self._last_ms = -1

    def add(self, png: bytes, at_ms: int) -> None:
        """A new screen content shown from ``at_ms`` on (a repeated frame is skipped)."""
        if png == self._last or at_ms <= self._last_ms:
            return
        self._encode(png, at_ms)

    def finish(self, at_ms: int) -> bytes:
        """Close the recording at ``at_ms`` and return the MP4 file."""
        if self._last is not None and at_ms > self._last_ms:
            self._encode(self._last, at_ms)
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()
        return self._buffer.getvalue()

    def _encode(self, png: bytes, at_ms: int) -> None:
        from PIL import Image

        image = Image.open(io.BytesIO(png)).convert("RGB")
        size = (self._stream.width, self._stream.height)
        if image.size != size:
            image = image.resize(size)
        frame = self._av.VideoFrame.from_image(image)
        frame.pts, frame.time_base = at_ms, MS
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self._last, self._last_ms = png, at_ms
