"""Running a planned flow: the engine with the listener that writes the run folder, then the reports."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from ..device.driver import Driver
from ..flow.engine import Engine, RunResult
from ..flow.listeners import Listener
from ..flow.model import Flow
from ..report.events import EventWriter
from ..private_files import fresh_private_dir
from ..report.render import render_all
from ..screens.catalogue import default_catalogue
from ..tasks import registry
from .artifacts import ArtifactListener
from .plan import RunPlan


@dataclass
class RunOutcome:
    result: RunResult
    run_dir: Path
    reports: dict[str, Path] = field(default_factory=dict)


def new_run_dir(base: Path, flow: Flow, serial: str) -> Path:
    """A new private folder for one run's records, named by time, flow and phone."""
    safe = serial.replace(":", "_").replace("/", "_")
    return fresh_private_dir(base, f"{time.strftime('%Y%m%d-%H%M%S')}-{flow.name}-{safe}")


def execute(plan: RunPlan, driver: Driver, *, run_dir: Path, on_step: Callable[[str, str, str], None] | None = None,
            verify: bool = True, start_at: int = 1, listeners: Sequence[Listener] = ()) -> RunOutcome:
    """Run ``plan`` on ``driver`` writing records into ``run_dir``; always renders the reports.

    ``on_step(step_id, status, text)`` is the front end's progress display; ``listeners`` are more of them
    (a long task's progress bar, :mod:`miui_automator.run.progress`), told of each event before the run
    folder's listener. ``start_at`` skips the top-level steps before it (a resumed fleet run: they completed
    before)."""
    writer = EventWriter(run_dir, redact=[v for v in plan.secrets.values() if v])
    listener = ArtifactListener(run_dir, writer, plan.device.as_dict(), on_step)
    engine = Engine(driver, default_catalogue(), listeners=[*listeners, listener], variant=plan.device.variant, verify=verify,
                    tasks=registry())
    try:
        result = engine.run(plan.flow, plan.params, plan.secrets, start_at=start_at)
    finally:
        writer.close()
        reports = render_all(run_dir)
    return RunOutcome(result, run_dir, reports)
