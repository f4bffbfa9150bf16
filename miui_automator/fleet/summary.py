"""The fleet report, rendered from the ledger: ``index.html`` (a table of phones, each linking its own
``report.html``), ``junit.xml`` (one test case per phone) and ``fleet.json``.

Like the per-phone reports, it is rendered from records (the ledger), never from the runner's memory,
so a run resumed after its controller was killed renders the whole run, every attempt included.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2

from .. import __version__
from ..privacy import mask_text
from ..private_files import private_dir
from ..report.render import printable, write_atomically
from .ledger import (ERROR, FAILED, INTERRUPTED, MISSING, PASSED, PENDING, REFUSED, RUNNING, STEP_DONE, STEP_FAILED,
                     TIMEOUT, Ledger, PhoneRow, RunRow, StepRow)

INDEX_HTML = "index.html"
JUNIT_XML = "junit.xml"
FLEET_JSON = "fleet.json"
FAILURE_STATUSES = (FAILED,)  # JUnit <failure>; every other non-passed status is an <error>


@dataclass(frozen=True)
class PhoneSummary:
    key: str
    name: str
    serial: str
    label: str
    server: str
    model: str
    variant: str
    status: str
    attempts: int
    steps_done: int
    top_steps: int
    last_step: str
    duration_s: float | None
    exit_code: int | None
    error: str
    report: str  # relative to the fleet folder, "" when the phone never ran


@dataclass(frozen=True)
class FleetSummary:
    run: RunRow
    phones: tuple[PhoneSummary, ...]

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for p in self.phones:
            out[p.status] = out.get(p.status, 0) + 1
        return out

    @property
    def all_passed(self) -> bool:
        return bool(self.phones) and all(p.status == PASSED for p in self.phones)

    @property
    def duration_s(self) -> float | None:
        return seconds_between(self.run.started, self.run.ended)

    def counts_text(self) -> str:
        order = (PASSED, FAILED, ERROR, TIMEOUT, REFUSED, MISSING, INTERRUPTED, RUNNING, PENDING)
        counts = self.counts
        return ", ".join(f"{counts[s]} {s}" for s in order if counts.get(s)) or "no phones"

    def as_dict(self) -> dict[str, Any]:
        run = asdict(self.run)
        run["status"] = self.run.shown_status
        return {"report_version": 1, "run": run, "duration_s": self.duration_s, "counts": self.counts,
                "all_passed": self.all_passed, "phones": [asdict(p) for p in self.phones]}


def seconds_between(start: str | None, end: str | None) -> float | None:
    try:
        a = datetime.fromisoformat(str(start).replace("Z", "+00:00"))
        b = datetime.fromisoformat(str(end).replace("Z", "+00:00"))
    except ValueError:
        return None
    return round((b - a).total_seconds(), 3)


def summarize(ledger: Ledger, run_id: str | None = None) -> FleetSummary:
    run = ledger.run(run_id)
    steps = ledger.steps(run.id)
    phones = []
    for p in ledger.phones(run.id):
        mine = [s for s in steps if s.phone == p.key]
        done = {s.top for s in mine if s.status == STEP_DONE and s.step == str(s.top)}
        last = _telling_step(mine, p)
        report = f"{p.run_dir}/report.html" if p.run_dir and (Path(run.out_dir) / p.run_dir / "report.html").exists() else ""
        phones.append(PhoneSummary(
            key=p.key, name=p.name, serial=p.serial, label=p.label, server=p.server, model=p.model, variant=p.variant,
            status=p.status, attempts=p.attempts, steps_done=len(done), top_steps=run.top_steps,
            # texts a phone showed, masked again here for ledgers written before they were masked on the way in
            last_step=mask_text(f"{last.step} {last.description} ({last.status})") if last else "",
            duration_s=p.duration_s, exit_code=p.exit_code, error=mask_text(p.error), report=report))
    return FleetSummary(run, tuple(phones))


def _telling_step(steps: list[StepRow], phone: PhoneRow) -> StepRow | None:
    """The step that says most: for a phone that did not pass, the first one of its last attempt that failed (the
    innermost: a group fails after the step inside it); otherwise the last one started."""
    latest = [s for s in steps if s.attempt == phone.attempts]
    failed = sorted((s for s in latest if s.status == STEP_FAILED), key=lambda s: (s.ended or "", -s.step.count(".")))
    if failed and phone.status != PASSED:
        return failed[0]
    return steps[-1] if steps else None


def render_fleet(summary: FleetSummary, out_dir: Path | str) -> dict[str, Path]:
    """Write the three reports into ``out_dir`` (the fleet folder), each replaced atomically."""
    out_dir = Path(out_dir)
    private_dir(out_dir)
    outputs = {"html": (INDEX_HTML, render_index(summary).encode("utf-8")), "junit": (JUNIT_XML, render_junit(summary)),
               "json": (FLEET_JSON, (json.dumps(summary.as_dict(), indent=2, ensure_ascii=False) + "\n").encode("utf-8"))}
    return {kind: write_atomically(out_dir / name, data) for kind, (name, data) in outputs.items()}


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s"


# ---------------------------------------------------------------------- JUnit
def render_junit(summary: FleetSummary) -> bytes:
    """One ``<testsuite>`` for the run, one ``<testcase>`` per phone: CI shows which phones failed."""
    run = summary.run
    suites = ET.Element("testsuites", name=printable(f"fleet {run.flow}"))
    suite = ET.SubElement(suites, "testsuite", name=printable(f"fleet {run.flow}"), timestamp=printable(run.started))
    props = ET.SubElement(suite, "properties")
    for name, value in (("run", run.id), ("flow", run.flow), ("status", run.shown_status)):
        ET.SubElement(props, "property", name=name, value=printable(value))
    failures = errors = 0
    for p in summary.phones:
        case = ET.SubElement(suite, "testcase", classname=printable(f"fleet.{run.flow}"), name=printable(p.name),
                             time=f"{p.duration_s or 0.0:.3f}")
        props = ET.SubElement(case, "properties")
        for name, value in (("serial", p.serial), ("server", p.server), ("model", p.model), ("variant", p.variant),
                            ("report", p.report), ("steps", f"{p.steps_done}/{p.top_steps}")):
            ET.SubElement(props, "property", name=name, value=printable(value))
        if p.status == PASSED:
            continue
        message = printable(p.error or f"phone {p.status}")
        if p.status in FAILURE_STATUSES:
            ET.SubElement(case, "failure", message=message, type=p.status).text = printable(p.last_step)
            failures += 1
        else:
            ET.SubElement(case, "error", message=message, type=p.status).text = printable(p.last_step)
            errors += 1
    for element in (suites, suite):
        element.set("tests", str(len(summary.phones)))
        element.set("failures", str(failures))
        element.set("errors", str(errors))
        element.set("time", f"{summary.duration_s or 0.0:.3f}")
    ET.indent(suites)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n"


# ---------------------------------------------------------------------- HTML
_INDEX = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="miui-automator {{ version }}">
<title>fleet {{ run.flow }} · {{ counts_text }}</title>
<style>
:root { --bg: #f6f7f9; --card: #fff; --text: #1b1d21; --muted: #5f6673; --line: #e2e5ea; --link: #0b62c4;
        --pass: #1a7f37; --fail: #c62828; --grey: #6b7280; --warn: #8a6d00; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #111316; --card: #1a1d21; --text: #e6e8eb; --muted: #9aa2ad; --line: #2c3137; --link: #6cb4ff;
          --pass: #56d37a; --fail: #ff7b72; --grey: #9aa2ad; --warn: #e3c155; }
}
body { margin: 0; background: var(--bg); color: var(--text);
       font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; }
main { max-width: 1280px; margin: 0 auto; padding: 24px 28px 40px; }
a { color: var(--link); }
h1 { font-size: 24px; margin: 0 0 6px; }
.muted { color: var(--muted); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px 20px; margin-top: 18px;
        overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th { text-align: left; font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em;
     padding: 6px 10px; border-bottom: 2px solid var(--line); }
td { padding: 8px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
.status { font-weight: 700; text-transform: uppercase; font-size: 12px; letter-spacing: .04em; }
.s-passed { color: var(--pass); }
.s-failed, .s-error, .s-timeout, .s-refused { color: var(--fail); }
.s-missing { color: var(--warn); }
.s-interrupted, .s-running, .s-pending { color: var(--grey); }
.error { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 13px; word-break: break-word; }
</style>
</head>
<body>
<main>
<h1>fleet run {{ run.id }}</h1>
<div class="muted">flow <b>{{ run.flow }}</b>{% if run.destructive %} (destructive){% endif %} · started {{ run.started }}
 · {{ duration }} · status <b>{{ status }}</b></div>
<div class="card"><b>{{ counts_text }}</b> of {{ phones|length }} phone{{ "" if phones|length == 1 else "s" }}</div>
<div class="card">
<table>
<tr><th>phone</th><th>serial</th><th>server</th><th>model</th><th>OS</th><th>status</th><th>steps</th><th>time</th>
<th>attempts</th><th>last step / error</th></tr>
{% for p in phones %}
<tr>
<td>{% if p.report %}<a href="{{ p.report|href }}">{{ p.name }}</a>{% else %}{{ p.name }}{% endif %}</td>
<td>{{ p.serial }}</td><td>{{ p.server }}</td><td>{{ p.model }}</td><td>{{ p.variant }}</td>
<td class="status s-{{ p.status }}">{{ p.status }}</td>
<td>{{ p.steps_done }}/{{ p.top_steps }}</td><td>{{ p.duration_s|duration }}</td><td>{{ p.attempts }}</td>
<td>{{ p.last_step }}{% if p.error %}<div class="error">{{ p.error }}</div>{% endif %}</td>
</tr>
{% endfor %}
</table>
</div>
<p class="muted">miui-automator {{ version }} · ledger run {{ run.id }}</p>
</main>
</body>
</html>
"""


def render_index(summary: FleetSummary) -> str:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined,
                             finalize=lambda v: printable(v) if isinstance(v, str) else v)
    env.filters["duration"] = duration_text
    env.filters["href"] = lambda rel: quote(Path(rel).as_posix(), safe="/._-~")
    return env.from_string(_INDEX).render(run=summary.run, phones=summary.phones, counts_text=summary.counts_text(),
                                          status=summary.run.shown_status, duration=duration_text(summary.duration_s),
                                          version=__version__)
