"""``miui-automator devices``: the phones attached, with model, OS, account and state.

The serial is the one value a user copies from this list (into ``-s SERIAL``), so it is never cut:
in a pipe every value is printed whole in plain aligned columns; at a terminal the table is used
when it fits, else a compact layout (serial on its own line, the rest wrapped under it).
"""

from __future__ import annotations

import json
import textwrap

import click
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from ..errors import DeviceError
from .flows import SERVER_HELP

HEADERS = ("serial", "model", "OS", "Android", "locale", "Mi account", "battery", "screen", "input gate")
INDENT = "    "
SEPARATOR = " · "
UNCONSTRAINED = 10_000


def cells(row: dict) -> tuple[str, ...]:
    """One phone's values in :data:`HEADERS` order (a phone not ready to talk shows only its adb state)."""
    if row["state"] != "device":
        return (row["serial"], row["state"], "", "", "", "", "", "", "")
    return (row["serial"], f"{row.get('market_name') or row.get('model') or ''}", row.get("os_label") or "",
            str(row.get("android_version") or ""), row.get("locale") or "", row.get("mi_account") or "—",
            f"{row.get('battery_level')}%" if row.get("battery_level") is not None else "?",
            "locked" if row.get("locked") else ("on" if row.get("screen_on") else "off"),
            "on" if row.get("adb_input_enabled") else "off")


def plain(rows: list[dict]) -> str:
    """Aligned columns, no width limit: for pipes and scripts."""
    table = [HEADERS, *(cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADERS))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in table)


def table(rows: list[dict]) -> Table:
    """The terminal table; the serial column is never shrunk, folded or cut."""
    t = Table(*HEADERS)
    t.columns[0].no_wrap = True
    t.columns[0].min_width = max(len(r["serial"]) for r in rows)
    for r in rows:
        values = list(cells(r))
        if r["state"] != "device":
            values[1] = f"[yellow]{values[1]}[/]"
        elif values[8] == "off":
            values[8] = "[red]off[/]"
        t.add_row(*values)
    return t


def compact(rows: list[dict], width: int) -> str:
    """For a narrow terminal: each phone's serial on a line of its own, its other values below it, a value
    never split across lines unless it alone is wider than the terminal."""
    out = []
    for r in rows:
        values = cells(r)
        out.append(values[0])
        items = [f"state {r['state']}"] if r["state"] != "device" else \
            [f"{name} {value}" for name, value in zip(HEADERS[1:], values[1:]) if value]
        line = ""
        for item in items:
            if line and len(INDENT) + len(line) + len(SEPARATOR) + len(item) <= width:
                line += SEPARATOR + item
                continue
            if line:
                out.append(INDENT + line)
            line = item
        if line:
            out.extend(textwrap.wrap(line, max(width, 20), initial_indent=INDENT, subsequent_indent=INDENT))
    return "\n".join(out)


def fits(t: Table, width: int) -> bool:
    """The table at its natural width (measured unconstrained: rich would otherwise shrink it to fit) fits ``width``."""
    console = Console(width=width)
    return Measurement.get(console, console.options.update_width(UNCONSTRAINED), t).maximum <= width


def render(rows: list[dict], width: int | None) -> str | Table:
    """What to print: ``width`` None means not a terminal (plain columns)."""
    if width is None:
        return plain(rows)
    t = table(rows)
    return t if fits(t, width) else compact(rows, width)


@click.command("devices")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--server", default=None, help=SERVER_HELP)
def devices_cmd(as_json: bool, server: str | None) -> None:
    """Table of connected phones with model, OS, account and state."""
    from ..device.android import AndroidDevice, adb_client
    from ..strings.locale import phone_locale

    try:
        entries = adb_client(server).list()
    except Exception as err:  # noqa: BLE001 - any adb failure here is "cannot reach adb"
        raise DeviceError(f"cannot reach the adb server: {err}") from None
    rows = []
    for entry in entries:
        if entry.state != "device":
            rows.append({"serial": entry.serial, "state": entry.state})
            continue
        device = AndroidDevice(entry.serial, server)
        row = {"state": "device", **device.info().as_dict()}
        row["locale"] = phone_locale(device)  # with the fallbacks string resources are resolved by
        rows.append(row)
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("no phones attached")
        return
    console = Console()
    shown = render(rows, console.width if console.is_terminal else None)
    if isinstance(shown, str):
        click.echo(shown)
    else:
        console.print(shown)
