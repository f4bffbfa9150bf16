"""Long work shows progress: a task's figures reach the listeners through the engine, and the display words
them (files, bytes, rate, time left) — a line every few seconds in a pipe, a bar on a terminal."""

from __future__ import annotations

import io

from miui_automator.flow.tasks_api import TaskContext, TaskSpec
from miui_automator.progress import Progress
from miui_automator.run.progress import ProgressDisplay, RateMeter, clock_text, progress_text

MB = 1_000_000


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_rate_and_time_left_follow_the_recent_pace() -> None:
    clock = Clock()
    meter = RateMeter(clock, window_s=10)
    total = 1000 * MB
    for second in range(5):  # 10 MB/s
        clock.t = 100 + second
        meter.add(Progress("pulling files", 0, 10, second * 10 * MB, total))
    assert meter.rate == 10 * MB
    figure = Progress("pulling files", 0, 10, 40 * MB, total)
    assert meter.seconds_left(figure) == 96.0
    for second in range(5, 30):  # then 40 MB/s: after the window only the new pace counts
        clock.t = 100 + second
        meter.add(Progress("pulling files", 0, 10, (40 + (second - 4) * 40) * MB, total))
    assert meter.rate == 40 * MB


def test_a_figure_without_bytes_is_counted_in_files() -> None:
    clock = Clock()
    meter = RateMeter(clock)
    meter.add(Progress("exporting", 0, 4))
    clock.t += 2
    meter.add(Progress("exporting", 2, 4))
    assert meter.rate == 1.0 and meter.seconds_left(Progress("exporting", 2, 4)) == 2.0
    assert progress_text(Progress("exporting", 2, 4), meter) == "exporting 2/4 files (50%), 1.0 files/s, 0:02 left"


def test_work_with_no_total_known_shows_what_is_done_and_its_rate_with_no_time_left() -> None:
    # MIUI writing its own backup: nobody knows beforehand how many items or bytes it will write
    clock = Clock()
    meter = RateMeter(clock)
    meter.add(Progress("MIUI backing up", 1, 0, 2 * MB, 0))
    clock.t += 2
    figure = Progress("MIUI backing up", 3, 0, 10 * MB, 0)
    meter.add(figure)
    assert progress_text(figure, meter) == "MIUI backing up 3 files, 10.0 MB, 4.0 MB/s"
    assert progress_text(Progress("MIUI backing up")) == "MIUI backing up"


def test_progress_text_names_files_bytes_rate_and_time_left() -> None:
    clock = Clock()
    meter = RateMeter(clock)
    meter.add(Progress("pulling files", 0, 40, 0, 200 * MB))
    clock.t += 2
    figure = Progress("pulling files", 12, 40, 50 * MB, 200 * MB)
    meter.add(figure)
    assert progress_text(figure, meter) == "pulling files 12/40 files, 50.0 MB of 200.0 MB (25%), 25.0 MB/s, 0:06 left"
    assert progress_text(figure) == "pulling files 12/40 files, 50.0 MB of 200.0 MB (25%)"
    assert clock_text(3725) == "1:02:05" and clock_text(None) == "?"


def test_a_pipe_gets_a_line_every_few_seconds_and_the_last_figure() -> None:
    clock = Clock()
    out = io.StringIO()
    display = ProgressDisplay(out, live=False, clock=clock, every_s=5)
    for i in range(21):  # a figure every half second for ten seconds
        clock.t = 100 + i / 2
        display.progress("4", Progress("pulling files", i, 20, i * MB, 20 * MB))
    display.step_done("4", None, None, 10.0, "")
    lines = out.getvalue().splitlines()
    assert len(lines) == 3, lines  # at 0 s, at 5 s, at 10 s (the last figure)
    assert lines[0] == "  4: pulling files 0/20 files, 0 B of 20.0 MB (0%)"
    assert lines[1].startswith("  4: pulling files 10/20 files, 10.0 MB of 20.0 MB (50%), 2.0 MB/s, 0:05 left")
    assert lines[2].startswith("  4: pulling files 20/20 files")
    display.step_done("5", None, None, 1.0, "")  # a step without progress adds nothing
    assert len(out.getvalue().splitlines()) == 3


def test_the_last_figure_is_not_repeated_when_it_was_just_shown() -> None:
    out = io.StringIO()
    display = ProgressDisplay(out, live=False, clock=Clock())
    display.progress("2", Progress("exporting", 4, 4))
    display.step_failed("2", None, None, None, 1.0)
    assert out.getvalue() == "  2: exporting 4/4 files (100%)\n"


def test_a_terminal_gets_a_bar_that_goes_when_the_step_ends() -> None:
    out = io.StringIO()
    display = ProgressDisplay(out, live=True, clock=Clock())
    display.progress("3", Progress("pulling files", 1, 2, 5 * MB, 10 * MB))
    bar = display._bar
    assert bar is not None and bar.tasks[0].completed == 5 * MB and bar.tasks[0].total == 10 * MB
    assert bar.tasks[0].fields["files"] == "1/2 files"
    display.step_done("3", None, None, 1.0, "")
    assert display._bar is None and bar.finished is False  # stopped, not run to the end


def test_the_engine_hands_a_tasks_figures_to_its_listeners() -> None:
    from miui_automator.flow.engine import BaseListener, Engine
    from miui_automator.flow.parser import parse_flow
    from miui_automator.flow.waits import FakeClock
    from miui_automator.screens.catalogue import default_catalogue

    def long_task(ctx: TaskContext) -> str:
        for i in range(3):
            ctx.progress(Progress("copying", i + 1, 3))
        return "copied"

    class Seen(BaseListener):
        figures: list = []

        def progress(self, step_id, figure):
            self.figures.append((step_id, figure.files_done))

    tasks = {"long": TaskSpec("long", long_task)}
    flow = parse_flow("name: t\nsteps:\n  - task: long\n  - task: long\n", "t.yaml",
                      known_screens=default_catalogue().names, known_tasks=tasks)
    seen = Seen()
    engine = Engine(object(), default_catalogue(), clock=FakeClock(), listeners=[seen], verify=False, tasks=tasks)
    result = engine.run(flow, {}, {})
    assert result.outcome == "passed", result.error
    assert seen.figures == [("1", 1), ("1", 2), ("1", 3), ("2", 1), ("2", 2), ("2", 3)]
