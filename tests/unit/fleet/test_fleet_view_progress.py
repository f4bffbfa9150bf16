"""The fleet view shows a long task's progress per phone: in the live table under the phone's step, in a log
one line per phone every few seconds."""

from __future__ import annotations

import io

from miui_automator.fleet import view as view_module
from miui_automator.fleet.view import FleetView
from miui_automator.progress import Progress

MB = 1_000_000


def test_each_phone_gets_its_own_progress_line_in_a_log(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(view_module.time, "monotonic", lambda: now[0])
    out = io.StringIO()
    view = FleetView(out, live=False)
    view.start()
    for key in ("a", "b"):
        view.add(key, name=f"serial-{key}", serial=f"serial-{key}")
        view.phone_started(key)
    view.progress("a", "2", Progress("pulling files", 1, 10, 10 * MB, 100 * MB))
    view.progress("b", "2", Progress("pulling files", 5, 10, 50 * MB, 100 * MB))
    now[0] += 1
    view.progress("a", "2", Progress("pulling files", 2, 10, 20 * MB, 100 * MB))  # too soon for another line
    now[0] += view_module.PLAIN_EVERY_S
    view.progress("a", "2", Progress("pulling files", 7, 10, 70 * MB, 100 * MB))
    lines = [line for line in out.getvalue().splitlines() if "pulling files" in line]
    assert len(lines) == 3, lines
    assert "serial-a: step 2: pulling files 1/10 files, 10.0 MB of 100.0 MB (10%)" in lines[0]
    assert "serial-b: step 2: pulling files 5/10 files" in lines[1]
    assert "serial-a: step 2: pulling files 7/10 files, 70.0 MB of 100.0 MB (70%), 10.0 MB/s, 0:03 left" in lines[2]


def test_the_live_table_shows_the_figure_under_the_step_until_the_step_ends():
    from rich.console import Console

    view = FleetView(io.StringIO(), live=True)
    view.add("a", name="a", serial="serial-a")
    view.phone_started("a")
    view.step("a", "2", "running", "task backup-files")
    view.progress("a", "2", Progress("pulling files", 3, 10, 30 * MB, 100 * MB))

    def shown() -> str:
        console = Console(file=io.StringIO(), width=200)
        console.print(view._table())
        return console.file.getvalue()

    assert "pulling files 3/10 files, 30.0 MB of 100.0 MB (30%)" in shown()
    view.step("a", "2", "done", "task backup-files")
    assert "pulling files" not in shown()


def test_a_phones_progress_reaches_the_view_until_the_phone_is_given_up_on():
    from miui_automator.fleet.orchestrator import _ViewProgress
    from miui_automator.fleet.pool import Ticket

    seen = []

    class View:
        def progress(self, key, step_id, figure):
            seen.append((key, step_id, figure.files_done))

    ticket = Ticket("a")
    listener = _ViewProgress(View(), "a", ticket)  # type: ignore[arg-type]
    listener.progress("2", Progress("pulling files", 1, 3))
    ticket.cancelled.set()
    listener.progress("2", Progress("pulling files", 2, 3))
    assert seen == [("a", "2", 1)]


def test_the_controller_holds_malloc_to_a_few_arenas_on_glibc():
    import platform

    import pytest

    from miui_automator.fleet.pool import tune_allocator

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("mallopt is glibc's")
    assert tune_allocator() is True
