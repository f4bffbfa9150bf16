"""``miui-automator account status``: the account deletions requested, and how many days each has
left to cancel; and the typed account confirmation ``run`` asks for before a flow with ``confirm:``.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..account.confirmation import confirm_account, phone_account
from ..account.ledger import ENV, DeletionLedger, ledger_path
from ..device.driver import Driver
from ..flow.model import Flow


def confirm_flow_account(flow: Flow, params: dict[str, str], driver: Driver, given: str | None, interactive: bool) -> str:
    """The account id ``flow`` may act on, confirmed by the user; it becomes the flow's ``confirm`` param.

    The account is the one given as that param, else the Mi account signed in on the phone.
    """
    assert flow.confirm is not None
    expected = params.get(flow.confirm, "").strip() or phone_account(driver.shell("dumpsys account").output)
    ask = (lambda prompt: click.prompt(prompt, hide_input=True, prompt_suffix=": ")) if interactive else None
    return confirm_account(expected, given=given, ask=ask)


@click.group("account")
def account() -> None:
    """Mi/Xiaomi Account deletions: requests, their 30-day waiting periods, cancellations."""


@account.command("status")
@click.option("--ledger", "ledger_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=f"SQLite ledger (default: ${ENV}, else runs/ledger.sqlite3).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status_cmd(ledger_file: Path | None, as_json: bool) -> None:
    """List account deletions: pending ones with the days left to cancel, then cancelled and completed ones."""
    path = ledger_path(ledger_file)
    if not path.exists():
        click.echo(json.dumps([]) if as_json else f"no account deletions recorded ({path} does not exist)")
        return
    with DeletionLedger(path) as ledger:
        entries, today = ledger.entries(), ledger.today()
    order = {"pending": 0, "cancelled": 1, "completed": 2}
    entries.sort(key=lambda e: order.get(e.status, 3))  # stable: newest first within each status
    if as_json:
        click.echo(json.dumps([e.as_dict(today) for e in entries], indent=2, ensure_ascii=False))
        return
    if not entries:
        click.echo(f"no account deletions recorded in {path}")
        return
    rows = [("account", "device", "requested", "deleted on", "state")]
    rows += [(e.account, e.device, e.requested_at.date().isoformat() if e.requested_at else "-",
              e.ends_on.isoformat() if e.ends_on and e.status != "cancelled" else "-", e.state(today)) for e in entries]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[4])
