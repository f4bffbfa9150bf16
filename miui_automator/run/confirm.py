"""The yes a destructive flow needs before it runs, asked in one wording by whichever front end runs it.

The front end injects a :data:`Confirmer`: ``run`` asks at the terminal, ``fleet`` asks once for all its
phones (each phone's plan then gets :data:`ASSUME_YES`), ``--yes``, the demo and tests pass
:data:`ASSUME_YES`. ``None`` means there is nobody to ask: a destructive flow is then refused.
"""

from __future__ import annotations

from typing import Callable

from ..errors import UsageError
from ..flow.model import Flow

Confirmer = Callable[[str], bool]
"""``confirmer(question)``: True to go on."""


def ASSUME_YES(question: str) -> bool:  # noqa: N802 - a constant-like confirmer
    """``--yes``: every question answered yes without asking."""
    return True


def require_confirmer(flow: Flow, confirmer: Confirmer | None) -> None:
    """Checked first, before anything is probed or recorded: a destructive flow with nobody to ask needs ``--yes``."""
    if flow.destructive and confirmer is None:
        raise UsageError(f"flow {flow.name} is destructive: pass --yes to run it unattended")


def question(flow: Flow, where: str) -> str:
    return f"{flow.name} is destructive ({flow.description}). Run it on {where}?"


def confirm_destructive(flow: Flow, where: str, confirmer: Confirmer | None) -> None:
    """Nothing for a harmless flow; for a destructive one, a yes from ``confirmer`` or :class:`UsageError`."""
    if not flow.destructive:
        return
    require_confirmer(flow, confirmer)
    assert confirmer is not None
    if not confirmer(question(flow, where)):
        raise UsageError("not confirmed; nothing was done")
