"""Running a planned flow: the engine with the listener that writes the run folder, then the reports."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Sequence

from ..device.driver import Driver
from ..flow.engine import Engine, RunResult
from ..flow.listeners import Listener
from ..flow.model import Flow
from ..private_files import fresh_private_dir
from ..report.events import EventWriter
from ..screens.catalogue import Catalogue
from ..screens.hints import annotate_run, failure_hints
from ..screens.overlay import load_catalogue
from ..strings.apply import catalogue_refs, flow_refs, resolve_catalogue, resolve_flow
from ..strings.cache import StringCache
from ..strings.resolver import Resolution, StringResolver
from ..tasks import registry
from .artifacts import ArtifactListener
from .plan import RunPlan


@dataclass
class RunOutcome:
    result: RunResult
    run_dir: Path
    reports: dict[str, Path] = field(default_factory=dict)
    hints: list[str] = field(default_factory=list)  # why a failed run's last screen was not the one expected


def new_run_dir(base: Path, flow: Flow, serial: str) -> Path:
    """A new private folder for one run's records, named by time, flow and phone."""
    safe = serial.replace(":", "_").replace("/", "_")
    return fresh_private_dir(base, f"{time.strftime('%Y%m%d-%H%M%S')}-{flow.name}-{safe}")


def resolve_texts(plan: RunPlan, driver: Driver, catalogue: Catalogue,
                  cache: StringCache | None = None) -> tuple[RunPlan, Catalogue, Resolution]:
    """The plan's flow and the catalogue in the phone's language: every ``@package:string/key`` they name,
    resolved from the phone's own APKs (cached per app version and locale). Unresolved ones keep their
    literal fallbacks and are named when a selector or a screen is then not found."""
    resolver = StringResolver(driver, cache)
    resolution = resolver.resolve(flow_refs(plan.flow) | catalogue_refs(catalogue))
    flow = resolve_flow(plan.flow, resolution)
    return replace(plan, flow=flow), resolve_catalogue(catalogue, resolution), resolution


def _strings_note(resolution: Resolution) -> str:
    found, total = len(resolution.texts), len(resolution.texts) + len(resolution.missing)
    how = ", ".join(f"{package}: {source}" for package, source in sorted(resolution.sources.items()))
    return (f"string resources for locale {resolution.locale or '(default)'}: {found} of {total} resolved"
            + (f" ({how})" if how else "") + (f"; {resolution.bytes_read} bytes read" if resolution.bytes_read else ""))


MISSING_KEYS_SHOWN = 6


class _StringsNote:
    """Records, right after the run starts, which string resources were resolved and which fell back."""

    def __init__(self, listener: ArtifactListener, resolution: Resolution) -> None:
        self.listener = listener
        self.resolution = resolution

    def run_start(self, flow: Flow, params: object) -> None:
        self.listener.log("info", _strings_note(self.resolution))
        groups: dict[tuple[str, str], list[str]] = {}
        for ref, why in sorted(self.resolution.missing.items()):
            groups.setdefault((ref.package, why), []).append(ref.key)
        for (package, why), keys in groups.items():  # one line per app and reason: an app missing is one line
            shown = ", ".join(keys[:MISSING_KEYS_SHOWN]) + (f", … (+{len(keys) - MISSING_KEYS_SHOWN})"
                                                             if len(keys) > MISSING_KEYS_SHOWN else "")
            self.listener.log("warning", f"{package}:string/{shown} {why}: the literal texts are used")


def execute(plan: RunPlan, driver: Driver, *, run_dir: Path, on_step: Callable[[str, str, str], None] | None = None,
            verify: bool = True, start_at: int = 1, catalogue_args: Sequence[str | Path] = (),
            string_cache: StringCache | None = None, listeners: Sequence[Listener] = ()) -> RunOutcome:
    """Run ``plan`` on ``driver`` writing records into ``run_dir``; always renders the reports.

    The flow's and the catalogue's string resources are resolved on the phone first (:func:`resolve_texts`).
    ``on_step(step_id, status, text)`` is the front end's progress display; ``listeners`` are more of them
    (a long task's progress bar, :mod:`miui_automator.run.progress`), told of each event before the run
    folder's listener. ``start_at`` skips the top-level steps before it (a resumed fleet run: they completed
    before). ``catalogue_args`` are the user's catalogue files laid over the built-in one (``--catalogue``).
    A run that stops on a screen it did not expect gets hints (the ``screens identify`` command, the closest
    known screen) in its record and its outcome."""
    plan, catalogue, resolution = resolve_texts(plan, driver, load_catalogue(catalogue_args), string_cache)
    writer = EventWriter(run_dir, redact=[v for v in plan.secrets.values() if v])
    device = plan.device.as_dict()
    if resolution.locale:
        device["locale"] = resolution.locale
    listener = ArtifactListener(run_dir, writer, device, on_step)
    engine = Engine(driver, catalogue, listeners=[*listeners, listener, _StringsNote(listener, resolution)],
                    variant=plan.device.variant, verify=verify, tasks=registry())
    try:
        result = engine.run(plan.flow, plan.params, plan.secrets, start_at=start_at)
    finally:
        writer.close()
        hints = failure_hints(run_dir, catalogue, plan.device.variant, catalogue_args)
        reports = annotate_run(run_dir, hints)
    return RunOutcome(result, run_dir, reports, hints)
