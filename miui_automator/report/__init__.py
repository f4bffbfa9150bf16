"""Run records written as they happen (``events.jsonl``) and the reports rendered from them."""

from miui_automator.report.events import EventWriter, LogRecord, RunRecord, Shot, StepRecord, read_events
from miui_automator.report.render import render_all, render_html, render_json, render_junit

__all__ = [
    "EventWriter",
    "LogRecord",
    "RunRecord",
    "Shot",
    "StepRecord",
    "read_events",
    "render_all",
    "render_html",
    "render_json",
    "render_junit",
]
