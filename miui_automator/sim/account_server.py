"""Xiaomi's account service, as the simulated phone's browser reaches it: sign-in, and the
deletion request with its waiting period.

The service lives on the :class:`~miui_automator.sim.phone.Phone`, not in its ``PhoneState``:
an account and its deletion are Xiaomi's server-side records, so a factory reset of the phone
leaves them as they were. Time is the phone's wall clock, which tests move forward with
``Phone.advance_time`` to see a pending deletion complete. An account's status is derived from
that clock when asked, as a server would report it, rather than changed by timers.

Like ``PhoneState``, the service keeps only a digest of the password.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Callable

WAITING_DAYS = 30
DAY_S = 24 * 3600.0

ACTIVE, PENDING, DELETED = "active", "pending", "deleted"
SIGNED_IN, BAD_CREDENTIALS = "ok", "bad"


@dataclass
class ServerAccount:
    account_id: str
    password_digest: bytes
    requested_at: float | None = None  # wall-clock seconds of the pending deletion request


class AccountServer:
    """Accounts by id; deletions complete ``waiting_days`` after they are requested unless cancelled."""

    def __init__(self, clock: Callable[[], float], waiting_days: int = WAITING_DAYS) -> None:
        self.clock = clock
        self.waiting_days = waiting_days
        self.sms_check = False  # ask for an SMS code after sign-in: a page the deletion flows do not know
        self.accounts: dict[str, ServerAccount] = {}

    def register(self, account_id: str, password_digest: bytes) -> None:
        self.accounts[account_id] = ServerAccount(account_id, password_digest)

    def status(self, account_id: str) -> str | None:
        """active | pending | deleted, or None for an id the service does not know."""
        account = self.accounts.get(account_id)
        if account is None:
            return None
        if account.requested_at is None:
            return ACTIVE
        return DELETED if self.clock() >= self._ends_at(account) else PENDING

    def sign_in(self, account_id: str, password: str) -> str:
        """ok, bad (unknown id or wrong password: the page does not say which), or deleted."""
        status = self.status(account_id)
        if status == DELETED:
            return DELETED
        account = self.accounts.get(account_id)
        if account is None or hashlib.sha256(password.encode()).digest() != account.password_digest:
            return BAD_CREDENTIALS
        return SIGNED_IN

    def request_deletion(self, account_id: str) -> None:
        if self.status(account_id) == ACTIVE:
            self.accounts[account_id].requested_at = self.clock()

    def cancel_deletion(self, account_id: str) -> bool:
        """True when a pending deletion was cancelled; a completed one cannot be."""
        if self.status(account_id) != PENDING:
            return False
        self.accounts[account_id].requested_at = None
        return True

    def deletion_date(self, account_id: str) -> date | None:
        """The (UTC) day a pending deletion completes."""
        account = self.accounts.get(account_id)
        if account is None or account.requested_at is None:
            return None
        return datetime.fromtimestamp(self._ends_at(account), timezone.utc).date()

    def _ends_at(self, account: ServerAccount) -> float:
        assert account.requested_at is not None
        return account.requested_at + self.waiting_days * DAY_S
