"""Writes of the guarded-action framework, by topic: ``running`` (run_action, dry runs,
previews, reversals), ``checks`` (what must hold first), ``effects`` (the recorded effect and
the run's result) and ``approvals``. Other layers import from here; inside the package, import
from the module."""

from opsconsole.actions.services.approvals import approval_decide, approvals_alert_overdue, approvals_expire
from opsconsole.actions.services.running import (
    ActionOutcome,
    action_run_reverse,
    pending_run_preview,
    run_action,
)

__all__ = [
    "ActionOutcome",
    "action_run_reverse",
    "approval_decide",
    "approvals_alert_overdue",
    "approvals_expire",
    "pending_run_preview",
    "run_action",
]
