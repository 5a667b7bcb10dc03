"""The guarded-action services (a package: its modules split by topic follow)."""

from opsconsole.actions.services.running import (
    ActionOutcome,
    action_run_reverse,
    approval_decide,
    approvals_alert_overdue,
    approvals_expire,
    may_run,
    permission_problem,
    run_action,
)

__all__ = [
    "ActionOutcome",
    "action_run_reverse",
    "approval_decide",
    "approvals_alert_overdue",
    "approvals_expire",
    "may_run",
    "permission_problem",
    "run_action",
]
