"""Bookkeeping of named detached simulators (``sim list`` / ``sim stop``) without starting one:
the files a simulator leaves, stale ones cleaned up, and which one ``sim stop`` picks."""

from __future__ import annotations

import json
import os

import pytest

from miui_automator.cli.main import main


@pytest.fixture
def sims(tmp_path, monkeypatch):
    monkeypatch.setenv("MIUI_AUTOMATOR_STATE_DIR", str(tmp_path))
    folder = tmp_path / "sims"
    folder.mkdir()
    return folder


def leave(folder, name: str, pid: int) -> None:
    info = {"name": name, "pid": pid, "adb_port": 1, "serials": [f"127.0.0.1:{pid}"], "hardware_serials": ["0badf00d"]}
    (folder / f"{name}.json").write_text(json.dumps(info))


def test_list_shows_live_simulators_and_forgets_dead_ones(sims, capsys):
    leave(sims, "alive", os.getpid())  # this test's own process stands in for a running simulator
    leave(sims, "dead", 0)
    assert main(["sim", "list"]) == 0
    out = capsys.readouterr().out
    assert f"alive  pid {os.getpid()}" in out and f"127.0.0.1:{os.getpid()} (0badf00d)" in out
    assert "dead" not in out and not (sims / "dead.json").exists()


def test_stop_names_what_runs_when_the_choice_is_unclear(sims, capsys):
    leave(sims, "host-a", os.getpid())
    leave(sims, "host-b", os.getpid())
    assert main(["sim", "stop"]) == 2
    assert "2 detached simulators are running (host-a, host-b)" in capsys.readouterr().err
    assert main(["sim", "stop", "--name", "host-c"]) == 2
    assert "no detached simulator named 'host-c' is running (running: host-a, host-b)" in capsys.readouterr().err
    assert main(["sim", "stop", "--name", "host-a", "--all"]) == 2
    assert (sims / "host-a.json").exists() and (sims / "host-b.json").exists()


def test_stop_with_nothing_running(sims, capsys):
    assert main(["sim", "stop", "--all"]) == 2
    assert "no detached simulator is running" in capsys.readouterr().err
