"""``devices`` never cuts a serial: not in an 80-column terminal, not in a pipe, not with long mDNS serials."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from rich.table import Table

from miui_automator.cli import devices
from miui_automator.cli.main import main

SERIALS = ["127.0.0.1:5600", "adb-2b8e9f1c-Qx7aPz._adb-tls-connect._tcp", "192.168.100.123:40123"]


def row(serial: str) -> dict:
    return {"state": "device", "serial": serial, "market_name": "Redmi Note 13 Pro 5G", "os_label": "HyperOS 1.0.5.0",
            "android_version": "14", "locale": "en-US", "mi_account": "12******90", "battery_level": 87,
            "screen_on": True, "locked": False, "adb_input_enabled": True}


ROWS = [row(s) for s in SERIALS] + [{"state": "unauthorized", "serial": "R58M123456X"}]


def shown(rows: list[dict], width: int | None) -> str:
    out = devices.render(rows, width)
    if isinstance(out, str):
        return out
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None).print(out)
    return buffer.getvalue()


@pytest.mark.parametrize("width", [80, 60, 40])
def test_a_narrow_terminal_gets_every_serial_whole_and_no_line_too_long(width):
    text = shown(ROWS, width)
    lines = text.splitlines()
    for serial in [*SERIALS, "R58M123456X"]:
        assert serial in lines  # on a line of its own, whole
    assert all(len(line) <= width for line in lines if line not in SERIALS)
    assert "unauthorized" in text and "12******90" in text and "87%" in text


def test_a_wide_terminal_gets_the_table_with_every_serial_whole():
    out = devices.render(ROWS, 240)
    assert isinstance(out, Table)
    text = shown(ROWS, 240)
    assert all(serial in text for serial in SERIALS) and "…" not in text


def test_a_pipe_gets_plain_columns_with_every_value_whole():
    text = shown(ROWS, None)
    header, *lines = text.splitlines()
    assert header.split()[:2] == ["serial", "model"]
    assert [line.split()[0] for line in lines] == [*SERIALS, "R58M123456X"]
    assert "…" not in text and "Redmi Note 13 Pro 5G" in text


def test_the_command_in_a_pipe_prints_the_serial_whole(monkeypatch, capsys):
    class Entry:
        def __init__(self, serial: str, state: str) -> None:
            self.serial, self.state = serial, state

    class Client:
        def list(self):
            return [Entry(SERIALS[1], "unauthorized")]

    monkeypatch.setattr("miui_automator.device.android.adb_client", lambda server=None: Client())
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["devices"]) == 0
    out = capsys.readouterr().out
    assert SERIALS[1] in out and "unauthorized" in out
