"""The listener that turns engine events into a run folder: screenshots, saved hierarchies of failures,
and ``events.jsonl`` records. A step that acted leaves two frames: ``before`` (the frame the action was
aimed at, with an annotated copy showing the tap point or swipe path and the target's bounds) and
``after`` (the settled screen), each recorded with its screen name.

It is the only part of running a flow that touches the filesystem, so it is where the redaction the
engine attaches to an observation is applied: typed secrets are blacked out of every frame (plain and
annotated) and cut out of every hierarchy it saves, and account ids are masked in the dumps.
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Mapping

from ..device.info import mask_account
from ..errors import MiuiAutomatorError
from ..flow.engine import BaseListener, Observation
from ..privacy import mask_text
from ..private_files import open_private, private_dir, write_private_text
from ..report import previews
from ..report.events import EventWriter
from ..report.redaction import redact_dump
from ..vision.frames import PHONE_JPEG, annotate, black_out

SCREENS = "screens"


class ArtifactListener(BaseListener):
    """Writes what the engine reports into ``run_dir``; ``device`` is the DeviceInfo dict."""

    def __init__(self, run_dir: Path, writer: EventWriter, device: Mapping | None = None,
                 on_step: Callable[[str, str, str], None] | None = None) -> None:
        self.run_dir = Path(run_dir)
        private_dir(self.run_dir / SCREENS)
        self.writer = writer
        self.device = dict(device or {})
        self.on_step = on_step  # progress display hook: (step_id, status, description)
        # Encoding frames is the slow part of a step's record; one worker does it off the engine's path,
        # in order, and run_end waits for it, so the folder is complete when the run is. It makes the
        # report's previews of each frame too (report/previews.py), while the phone is still working.
        self._encoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="screens")

    def _save(self, step_id: str, kind: str, obs: Observation) -> tuple[str | None, str | None]:
        """Save the frame of ``obs`` (redacted), plus an annotated copy when it carries the action aimed at it."""
        if obs.screenshot is None:
            return None, None
        stem = f"{SCREENS}/{step_id.replace('.', '_')}-{kind}"
        plain = f"{stem}.jpg"  # the phone sends JPEG frames; re-encoding them as PNG only costs time
        acted = obs.tap is not None or obs.swipe is not None or obs.target is not None
        marked = f"{stem}-annotated.jpg" if acted else None
        image, tap, swipe, box, screen = obs.screenshot, obs.tap, obs.swipe, obs.target, obs.screen
        if obs.redaction is not None and obs.redaction.boxes:
            image = black_out(image, obs.redaction.boxes)

        # the phone's own JPEG, unless secrets were blacked out of a copy: saving it as sent costs no encoding
        sent = image.info.get(PHONE_JPEG) if image is obs.screenshot else None

        def write() -> None:
            shown = _write(self.run_dir / plain, sent or _jpeg(image))
            if marked:
                shown = _write(self.run_dir / marked,
                               _jpeg(annotate(image, tap=tap, swipe=swipe, box=box, label=f"step {step_id}")))
            previews.prepare(shown)  # the report's previews of the frame it shows, made while the phone works
            self.writer.write("screenshot", step=step_id, path=plain, annotated_path=marked, kind=kind, screen=screen,
                              tap=list(tap) if tap else None, swipe=[list(p) for p in swipe] if swipe else None,
                              target=list(box) if box else None)

        self._encoder.submit(write)
        return plain, marked

    def _save_action(self, step_id: str, obs: Observation, kind: str = "after") -> None:
        """BEFORE (the frame the action was aimed at, marked) then the settled frame, when the step acted."""
        if obs.before is not None:
            self._save(step_id, "before" if kind == "after" else f"{kind}-before", obs.before)
        self._save(step_id, kind, obs)

    def run_start(self, flow, params) -> None:
        masked = dict(params)
        for p in flow.params:
            if p.secret:
                masked[p.name] = "***"
        confirm = flow.confirm  # the account id a flow confirms is shown masked, as everywhere else
        if confirm and masked.get(confirm):
            masked[confirm] = mask_account(masked[confirm])
        self.writer.write("run_start", flow=flow.name, description=flow.description, destructive=flow.destructive,
                          device=self.device, params=masked, out_dir=str(self.run_dir))

    def step_start(self, step_id, step) -> None:
        self.writer.write("step_start", step=step_id, kind=step.kind, description=step.describe(), line=step.line)
        if self.on_step:
            self.on_step(step_id, "running", step.describe())

    def step_done(self, step_id, step, obs, duration_s, note) -> None:
        if obs is not None and step.kind != "screenshot":  # a screenshot step saved its evidence already
            self._save_action(step_id, obs)
        self.writer.write("step_done", step=step_id, duration_s=round(duration_s, 3),
                          screen=obs.screen if obs is not None else None, note=note)
        if self.on_step:
            self.on_step(step_id, "done", step.describe())

    def step_failed(self, step_id, step, error: MiuiAutomatorError, obs, duration_s) -> None:
        shot = xml = None
        if obs is not None:
            shot, _ = self._save(step_id, "failed", obs)
            xml = f"{SCREENS}/{step_id.replace('.', '_')}-failed.xml"
            secrets = obs.redaction.secrets if obs.redaction is not None else ()
            write_private_text(self.run_dir / xml, redact_dump(obs.hierarchy.source or "", secrets))
        self.writer.write("step_failed", step=step_id, duration_s=round(duration_s, 3), error=str(error),
                          screen_seen=obs.screen if obs is not None else None, hierarchy_path=xml, screenshot_path=shot)
        if self.on_step:
            self.on_step(step_id, "failed", mask_text(str(error)))  # progress lines show it on the terminal

    def step_skipped(self, step_id, step, reason) -> None:
        self.writer.write("step_skipped", step=step_id, kind=step.kind, description=step.describe(),
                          line=step.line, reason=reason)

    def evidence(self, step_id, name, obs) -> None:
        self._save(step_id, f"evidence-{name}", obs)

    def popup_dismissed(self, step_id, popup, obs) -> None:
        tap = obs.before.tap if obs.before is not None else None
        self.writer.write("popup_dismissed", step=step_id, popup=popup, action=f"tap {tap}")
        self._save_action(step_id, obs, f"popup-{popup}")

    def log(self, level, message) -> None:
        self.writer.write("log", level=level, message=message)

    def run_end(self, outcome, exit_code, duration_s, error) -> None:
        self._encoder.shutdown(wait=True)
        self.writer.write("run_end", outcome=outcome, exit_code=exit_code, duration_s=round(duration_s, 3), summary=error or outcome)


def _jpeg(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _write(path: Path, data: bytes) -> bytes:
    with open_private(path, "wb") as f:
        f.write(data)
    return data
