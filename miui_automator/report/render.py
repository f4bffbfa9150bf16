"""Renderers: ``events.jsonl`` -> ``report.json``, ``report.html`` and ``junit.xml``.

Renderers only read the record, so they run as well on a finished run as on one killed
half-way, and ``miui-automator report DIR`` can re-render any run directory later.

The HTML report is one self-contained file: inline CSS, screenshots embedded as ``data:`` JPEGs (a
thumbnail, and a view large enough to read that a click opens in the page), one small inline script
(arrow keys step through the timeline and the screenshots) allowed by its hash, and a
Content-Security-Policy that forbids any fetch, so it opens offline, from an e-mail attachment or a CI
artefact store alike. The saved screenshots and hierarchy dumps are linked relatively
(``screens/3-after.jpg``), so they work while the report sits in its run directory.

A step that acted shows BEFORE (the frame the action was aimed at, marked with it) and AFTER (the
settled screen) side by side, each with its screen name.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import re
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from markupsafe import Markup

from miui_automator import __version__
from miui_automator.report import previews
from miui_automator.report.events import (OUTCOME_INCOMPLETE, STATUS_INCOMPLETE, RunRecord, StepRecord, masked_fields,
                                          read_events)
from miui_automator.report.fonts import embed_fonts
from miui_automator.device.info import mask_account

REPORT_JSON = "report.json"
REPORT_HTML = "report.html"
JUNIT_XML = "junit.xml"
KEYS_SCRIPT = "timeline.js"

# The device fields (miui_automator.device.info.DeviceInfo.as_dict) shown in the device table, in this order;
# every other field goes under "all device fields".
DEVICE_FIELDS = (
    ("model", "Model"),
    ("market_name", "Market name"),
    ("os_label", "OS"),
    ("android_version", "Android"),
    ("serial", "Serial"),
    ("mi_account", "Xiaomi account"),
    ("locale", "Locale"),
    ("region", "Region"),
    ("battery_level", "Battery %"),
    ("adb_input_enabled", "ADB input allowed"),
)
_ANSI_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")  # colour codes in device or tool output
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def printable(value: Any) -> str:
    """Text without ANSI colour codes and control characters (which XML 1.0 cannot even carry)."""
    return _CONTROL_CHARS.sub("", _ANSI_ESCAPES.sub("", "" if value is None else str(value)))


def render_all(run_dir: Path | str) -> dict[str, Path]:
    """Render every report of the run in ``run_dir`` from its ``events.jsonl``; returns the written paths."""
    run_dir = Path(run_dir)
    record = RunRecord.from_events(masked_fields(e) for e in read_events(run_dir))
    outputs = {
        "json": (REPORT_JSON, render_json(record).encode("utf-8")),
        "html": (REPORT_HTML, render_html(record, run_dir).encode("utf-8")),
        "junit": (JUNIT_XML, render_junit(record)),
    }
    written = {}
    for key, (name, data) in outputs.items():
        written[key] = write_atomically(run_dir / name, data)
    return written


def write_atomically(path: Path, data: bytes) -> Path:
    """Replace ``path`` in one step, so a reader never sees half a report."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


def masked_device(device: Mapping[str, Any]) -> dict[str, Any]:
    """The device dict with account identifiers (account fields holding digits or an @) masked."""

    def mask(key: str, value: Any) -> Any:
        if "account" not in key.lower():
            return value
        if isinstance(value, str) and re.search(r"[\d@]", value):
            return value if "*" in value else mask_account(value)
        if isinstance(value, (list, tuple)):
            return [mask(key, v) for v in value]
        if isinstance(value, Mapping):  # other_accounts: [{"name": ..., "type": ...}]
            return {k: mask(key, v) for k, v in value.items()}
        return value

    return {k: mask(k, v) for k, v in device.items()}


def render_json(record: RunRecord) -> str:
    data = record.to_dict()
    data["device"] = masked_device(record.device)
    data["report_version"] = 1
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"


# ---------------------------------------------------------------- HTML


@dataclass(frozen=True)
class _Thumb:
    """A screenshot as the template shows it: inline preview and in-page view (None when the file is gone),
    the link to the saved file, the screen it shows, and an id the page's viewer opens it by."""

    kind: str
    href: str
    data_uri: str | None
    view_uri: str | None = None
    screen: str | None = None
    id: str = ""
    step: str = ""


def _href(rel: str) -> str:
    return quote(Path(rel).as_posix(), safe="/._-~")


def _inside(run_dir: Path, rel: str) -> Path | None:
    """The file ``rel`` names inside the run directory, or None when it would leave it or is absent."""
    if not rel:
        return None
    path = (run_dir / rel).resolve()
    try:
        path.relative_to(run_dir.resolve())
    except ValueError:
        return None
    return path if path.is_file() else None


def _previews(run_dir: Path, rel: str, seen: dict[str, previews.Previews]) -> previews.Previews:
    """(thumbnail, view) ``data:`` URIs of the saved screenshot ``rel`` (:mod:`.previews`)."""
    path = _inside(run_dir, rel) if rel else None
    return previews.of_file(path, seen) if path is not None else (None, None)


def _thumb(run_dir: Path, kind: str, rel: str, cache: dict, step: str = "", screen: str | None = None,
           number: int = 0) -> _Thumb:
    # the data URIs are the renderer's own base64: marked safe, so the page's text filters skip their ~100 kB
    thumb, view = (Markup(uri) if uri else None for uri in _previews(run_dir, rel, cache))
    return _Thumb(kind=kind, href=_href(rel), data_uri=thumb, view_uri=view, screen=screen, step=step,
                  id=f"view-{step.replace('.', '-')}-{number}")


def _step_thumbs(run_dir: Path, step: StepRecord, cache: dict) -> list[_Thumb]:
    shots: list[tuple[str, str, str | None]] = [(s.kind, s.display_path, s.screen) for s in step.screenshots]
    if step.screenshot_path and all(s.path != step.screenshot_path and s.annotated_path != step.screenshot_path
                                    for s in step.screenshots):
        shots.append(("failure", step.screenshot_path, step.screen_seen))
    return [_thumb(run_dir, kind, rel, cache, step.index, screen, n) for n, (kind, rel, screen) in enumerate(shots, 1)]


@functools.lru_cache(maxsize=1)
def _keys_script() -> tuple[Markup, str]:
    """The page's one script and its CSP source (``'sha256-...'``): the policy allows exactly this text."""
    text = (Path(__file__).parent / "templates" / KEYS_SCRIPT).read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return Markup(text), f"'sha256-{digest}'"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def _timestamp(ts: str | None) -> str:
    """ISO-8601 as ``2024-05-01 09:12:03 UTC`` for humans; anything unparseable as given."""
    if not ts:
        return "–"
    match = re.match(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]00:00)?$", ts)
    if not match:
        return ts
    return f"{match.group(1)} {match.group(2)}" + (" UTC" if match.group(3) else "")


def _device_rows(device: Mapping[str, Any]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(main rows, the other fields) of the device table, account identifiers masked, empty values left out."""
    shown = {k: v for k, v in masked_device(device).items() if v not in (None, "", [], {})}
    labels = dict(DEVICE_FIELDS)
    main = [(label, _cell(shown[key])) for key, label in DEVICE_FIELDS if key in shown]
    rest = [(key, _cell(value)) for key, value in shown.items() if key not in labels]
    return main, rest


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


@functools.lru_cache(maxsize=1)  # compiling the template costs more CPU than a run's own rendering: do it once
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("miui_automator.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        # text is cleaned of control characters; markup the renderer built itself (the script) is kept as is
        finalize=lambda value: printable(value) if isinstance(value, str) and not isinstance(value, Markup) else value,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["duration"] = _duration
    env.filters["timestamp"] = _timestamp
    env.filters["href"] = _href
    return env


def _innermost_failures(record: RunRecord) -> list[StepRecord]:
    """Failed steps without a failed step inside them: a group that failed because of its step 3.2 is
    reported once, as step 3.2, where the evidence was taken."""
    failed = record.failed_steps
    return [s for s in failed if not any(o.index.startswith(s.index + ".") for o in failed)]


def render_html(record: RunRecord, run_dir: Path | str) -> str:
    """The self-contained HTML timeline of the run; screenshots are read from ``run_dir`` for thumbnails."""
    run_dir = Path(run_dir)
    cache: dict[str, previews.Previews] = {}  # by the bytes of the file: a frame saved twice is previewed once
    device_rows, device_extra = _device_rows(record.device)
    rows = [(step, _step_thumbs(run_dir, step, cache)) for step in record.steps]
    failures = [(step, _thumb(run_dir, "failure", step.screenshot_path, cache, step.index, step.screen_seen)
                 if step.screenshot_path else None) for step in _innermost_failures(record)]
    script, script_source = _keys_script()
    counts = {status: sum(1 for s in record.steps if s.status == status)
              for status in ("passed", "failed", "skipped", STATUS_INCOMPLETE)}
    return embed_fonts(_environment().get_template("report.html.j2").render(
        record=record,
        rows=rows,
        failures=failures,
        counts=counts,
        device_rows=device_rows,
        device_extra=device_extra,
        params=[(k, _cell(v)) for k, v in record.params.items()],
        incomplete=record.outcome == OUTCOME_INCOMPLETE,
        version=__version__,
        viewers=[thumb for _, thumbs in rows for thumb in thumbs if thumb.view_uri],
        script=script,
        script_source=script_source,
    ))


# ---------------------------------------------------------------- JUnit


def _case_name(step: StepRecord) -> str:
    number = f"{int(step.index):02d}" if step.index.isdigit() else step.index
    return f"{number} {step.description}".strip()


def _failure_details(step: StepRecord) -> str:
    lines = [step.error or "step failed"]
    for label, value in (("screen seen", step.screen_seen), ("hierarchy", step.hierarchy_path),
                         ("screenshot", step.screenshot_path)):
        if value:
            lines.append(f"{label}: {value}")
    return "\n".join(lines)


def render_junit(record: RunRecord) -> bytes:
    """One ``<testsuite>`` named after the flow, one ``<testcase>`` per top-level step.

    A nested step's failure fails its top-level step. A run that did not pass always carries at least one
    failure or error — a run killed between steps gets a synthetic ``run`` case — so CI never shows green
    for it.
    """
    top = [s for s in record.steps if s.depth == 0]
    children: dict[str, list[StepRecord]] = {}
    for s in record.steps:
        if s.depth:
            children.setdefault(s.top_level, []).append(s)

    suites = ET.Element("testsuites", name=printable(record.flow))
    suite = ET.SubElement(suites, "testsuite", name=printable(record.flow))
    if record.started:
        suite.set("timestamp", printable(record.started))
    if record.device.get("serial"):
        suite.set("hostname", printable(record.device["serial"]))
    props = ET.SubElement(suite, "properties")
    for key, value in [("outcome", record.outcome), *sorted(masked_device(record.device).items())]:
        name = key if key == "outcome" else f"device.{key}"
        ET.SubElement(props, "property", name=printable(name), value=printable(_cell(value)))

    failures = errors = skipped = 0
    for step in top:
        case = ET.SubElement(suite, "testcase", classname=printable(record.flow), name=printable(_case_name(step)),
                             time=f"{step.duration_s or 0.0:.3f}")
        failed_child = next((c for c in children.get(step.index, []) if c.status == "failed"), None)
        if step.status == "failed" or failed_child is not None:
            culprit = step if step.error or failed_child is None else failed_child
            failure = ET.SubElement(case, "failure", message=printable(culprit.error or "step failed"),
                                    type="StepFailed")
            failure.text = printable(_failure_details(culprit))
            failures += 1
        elif step.status == "skipped":
            skip = ET.SubElement(case, "skipped")
            if step.skip_reason:
                skip.set("message", printable(step.skip_reason))
            skipped += 1
        elif step.status == STATUS_INCOMPLETE:
            ET.SubElement(case, "error", message="step did not finish: the run stopped during it", type="Incomplete")
            errors += 1

    if record.outcome != "passed" and failures + errors == 0:
        case = ET.SubElement(suite, "testcase", classname=printable(record.flow), name="run",
                             time=f"{record.duration_s or 0.0:.3f}")
        message = ("the run stopped without a run_end record (killed?)" if record.outcome == OUTCOME_INCOMPLETE
                   else record.summary or f"run ended: {record.outcome}")
        ET.SubElement(case, "error", message=printable(message), type=printable(record.outcome))
        errors += 1

    tests = len(suite.findall("testcase"))
    for element in (suites, suite):
        element.set("tests", str(tests))
        element.set("failures", str(failures))
        element.set("errors", str(errors))
        element.set("skipped", str(skipped))
        element.set("time", f"{record.duration_s or 0.0:.3f}")
    ET.indent(suites)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n"
