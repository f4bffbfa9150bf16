"""The confirmation a deletion request needs before anything is touched.

``--yes`` is not enough to delete an account for good: the user confirms *which* account by typing
its id while the tool shows it masked (so the right account is named without putting it on the
screen in full), or, for unattended runs, passes it as ``--confirm-account ID``. Either must equal
the account the flow is about to delete — the one given with ``--param account=ID``, else the one
signed in on the phone. Pure logic: the CLI supplies the prompt.
"""

from __future__ import annotations

from typing import Callable

from ..device.info import mask_account, parse_accounts
from ..errors import UsageError

XIAOMI_TYPE = "com.xiaomi"


def phone_account(accounts_dump: str) -> str | None:
    """The Mi/Xiaomi account id signed in on the phone, from ``dumpsys account``; None when there is none."""
    return next((name for name, kind in parse_accounts(accounts_dump) if kind == XIAOMI_TYPE), None)


def matches(typed: str, expected: str) -> bool:
    """The typed id is the account's id (surrounding spaces ignored); typing the masked form is not enough."""
    return typed.strip() == expected.strip() and bool(expected.strip())


def confirm_account(expected: str | None, *, given: str | None, ask: Callable[[str], str] | None) -> str:
    """The account id the user confirmed, or :class:`UsageError` saying why nothing will run.

    ``expected`` is the account the flow will act on (None when neither the command line nor the phone
    names one); ``given`` is ``--confirm-account``; ``ask(prompt)`` reads a typed answer (None when
    there is no terminal to ask on).
    """
    if given is not None and given.strip():
        if expected is not None and not matches(given, expected):
            raise UsageError(f"--confirm-account {mask_account(given.strip())} is not the account this run would "
                             f"delete ({mask_account(expected)}); nothing was done")
        return given.strip()
    if expected is None:
        raise UsageError("no Mi account is signed in on the phone: name the account to delete with --param account=ID "
                         "(and confirm it with --confirm-account ID, or by typing it when asked)")
    if ask is None:
        raise UsageError(f"this run would delete Mi account {mask_account(expected)} for good: to run it unattended, "
                         "confirm the account with --confirm-account ID")
    typed = ask(f"To delete Mi account {mask_account(expected)}, type its full account id")
    if not matches(typed, expected):
        raise UsageError(f"the account id typed is not {mask_account(expected)}; nothing was done")
    return expected
