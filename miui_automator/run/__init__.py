"""Running a flow on a phone: the one owner of the sequence every front end (``run``, ``fleet``,
``demo``) follows — bind params, preflight, backup gate, confirmation, then the engine with the
listeners that write the run folder and its reports.

``flow/`` holds the flow language (model, parser, engine) and knows nothing of backups, reports
or tasks; this package is where those meet. :func:`plan_run` does everything before the first tap
and returns a :class:`RunPlan`; :func:`execute` runs one. The front ends only supply their UI: how
to ask for a secret, how to ask for a yes, how to show progress.
"""

from __future__ import annotations

from .confirm import ASSUME_YES, Confirmer, confirm_destructive
from .execute import RunOutcome, execute, new_run_dir
from .gate import BackupGateRefused, GateResult, backup_gate
from .load import BUILTIN_DIR, builtin_flows, load
from .params import bind_params, read_secret_file
from .plan import RunPlan, plan_run, prepare
from .preflight import PreflightFailed, PreflightIssue, preflight

__all__ = ["ASSUME_YES", "BUILTIN_DIR", "BackupGateRefused", "Confirmer", "GateResult", "PreflightFailed", "PreflightIssue",
           "RunOutcome", "RunPlan", "backup_gate", "bind_params", "builtin_flows", "confirm_destructive", "execute", "load",
           "new_run_dir", "plan_run", "preflight", "prepare", "read_secret_file"]
