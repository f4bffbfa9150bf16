"""Everything before the first tap, in one order for every front end: bind params, preflight, backup
gate, confirmation. The result is a :class:`RunPlan`, the only thing :func:`~miui_automator.run.execute.execute`
runs.

:func:`plan_run` is the whole sequence for one phone (``run``, ``demo``). A fleet binds every phone's
params first, checks each phone with :func:`prepare` (preflight and gate), then asks once for all the
phones that passed (:func:`~miui_automator.run.confirm.confirm_destructive`), so the order holds there too.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Mapping

from ..device.info import DeviceInfo
from ..errors import UsageError
from ..flow.model import Flow
from .confirm import Confirmer, confirm_destructive
from .gate import GateResult, backup_gate
from .params import SecretSource, bind_params
from .preflight import PreflightFailed, preflight

AccountConfirmer = Callable[["RunPlan"], str]
"""For a flow with ``confirm:`` (account deletion): the account id the user confirmed for this plan."""


@dataclass(frozen=True)
class RunPlan:
    """A run that passed preflight and the gate: the flow, the phone, the bound params and why the gate let it through.

    Secrets are held for the engine but never shown: ``repr`` names them only.
    """

    flow: Flow
    device: DeviceInfo
    params: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    gate: GateResult | None = None

    def __repr__(self) -> str:
        return (f"RunPlan(flow={self.flow.name!r}, device={self.device.serial!r}, params={dict(self.params)!r}, "
                f"secrets={sorted(self.secrets)!r}, gate={self.gate!r})")


def prepare(flow: Flow, info: DeviceInfo, params: Mapping[str, str], secrets: Mapping[str, str] | None = None, *,
            no_backup_gate: bool = False, start_at: int = 1) -> RunPlan:
    """Preflight, then the backup gate, for params already bound.

    Raises :class:`~miui_automator.run.preflight.PreflightFailed` (exit 3) or
    :class:`~miui_automator.run.gate.BackupGateRefused` (exit 2).
    """
    issues = preflight(info)
    if issues:
        raise PreflightFailed(info.serial, issues)
    gate = backup_gate(flow, info, params, no_backup_gate=no_backup_gate, start_at=start_at)
    return RunPlan(flow, info, dict(params), dict(secrets or {}), gate)


def plan_run(flow: Flow, info: DeviceInfo, *, given: Mapping[str, str], secret_source: SecretSource,
             confirmer: Confirmer | None, no_backup_gate: bool = False,
             account_confirmer: AccountConfirmer | None = None) -> RunPlan:
    """The whole plan of one run on one phone: bind ``given`` (``--param`` values) and the secrets, preflight,
    gate, then the destructive-flow confirmation through ``confirmer`` (None: nobody to ask, so a destructive
    flow is refused), and for a flow with ``confirm:`` the typed account confirmation."""
    params, secrets = bind_params(flow, given, secret_source=secret_source)
    plan = prepare(flow, info, params, secrets, no_backup_gate=no_backup_gate)
    confirm_destructive(flow, info.serial, confirmer)
    if flow.confirm is not None:
        if account_confirmer is None:
            raise UsageError(f"flow {flow.name} needs its account confirmed: run it with `miui-automator run`")
        plan = replace(plan, params={**plan.params, flow.confirm: account_confirmer(plan)})
    return plan
