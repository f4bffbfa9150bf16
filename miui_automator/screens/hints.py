"""The hint a failed run gives when the phone showed a screen the flow did not know or expect.

Built from the run's records only (``events.jsonl`` and the hierarchy the run saved at the
failure), after the run, so the engine stays unaware of it: the command that explains the saved
screen, the closest catalogue candidate with the checks that failed, and the command that teaches
it. :func:`annotate_run` adds the hint to the run's record as ``log`` events (so ``report.html``
shows it) and re-renders the reports.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path

from ..errors import MiuiAutomatorError
from ..report.events import EventWriter, read_events
from .catalogue import UNKNOWN, Catalogue
from .explain import explain
from .page_source import read_hierarchy

MAX_FAILED_SHOWN = 3
_SCREEN_ERRORS = ("expected screen", "no rule for screen", "drive did not reach", "drive timed out")


def failure_hints(run_dir: Path, catalogue: Catalogue, variant: str | None = None,
                  catalogue_args: Sequence[str | Path] = ()) -> list[str]:
    """Lines explaining the screen a failed run stopped on; empty when the failure was not about a screen."""
    events = read_events(run_dir)
    end = next((e for e in reversed(events) if e.get("type") == "run_end"), None)
    if end is None or end.get("outcome") != "failed":
        return []
    failed = [e for e in events if e.get("type") == "step_failed" and e.get("hierarchy_path")]
    if not failed:
        return []
    last = failed[-1]
    seen = str(last.get("screen_seen") or UNKNOWN)
    error = str(last.get("error") or "")
    if seen != UNKNOWN and not any(marker in error for marker in _SCREEN_ERRORS):
        return []
    dump = Path(run_dir) / str(last["hierarchy_path"])
    try:
        h = read_hierarchy(dump)
    except MiuiAutomatorError:
        return []
    extra = "".join(f" --catalogue {shlex.quote(str(c))}" for c in catalogue_args)
    quoted = shlex.quote(str(dump))
    exp = explain(catalogue, h, variant)
    if seen == UNKNOWN:
        lines = ["the phone showed a screen the catalogue does not know"]
    else:
        lines = [f"the phone showed {seen}, which this step did not expect"]
    lines.append(f"see why: miui-automator screens identify {quoted}{extra}")
    closest = exp.closest
    if closest is not None:
        failed_checks = "; ".join(c.line().replace("FAIL ", "", 1) for c in closest.failed[:MAX_FAILED_SHOWN])
        lines.append(f"closest known screen: {closest.screen.name} ({closest.score:.0%} of its checks held, "
                     f"{closest.where}); failed: {failed_checks}")
    else:
        lines.append("closest known screen: none shares a single check with it")
    lines.append(f"teach it: miui-automator screens suggest NAME --from {quoted}{extra}, then give the flow a rule for NAME")
    return lines


def annotate_run(run_dir: Path, lines: Sequence[str]) -> dict[str, Path]:
    """Append ``lines`` to the run's record as error logs and re-render its reports (their paths)."""
    from ..report.render import render_all

    if not lines:
        return render_all(run_dir)

    events = read_events(run_dir)
    step = next((e.get("step") for e in reversed(events) if e.get("type") == "step_failed"), None)
    with EventWriter(run_dir) as writer:
        for line in lines:
            writer.write("log", level="error", message=f"screen hint: {line}", step=step)
    return render_all(run_dir)
