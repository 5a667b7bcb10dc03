"""Reads for the console: action targets, runs, the actions a user is offered, approvals waiting."""

from dataclasses import dataclass

from django.db import models
from django.db.models import QuerySet

from opsconsole.actions import targets
from opsconsole.actions.permissions import may_run
from opsconsole.actions.registry import Action, actions_for_model, get_action
from opsconsole.errors import NotFound
from opsconsole.links import admin_url
from opsconsole.models import ActionApproval, ActionRun, ApprovalStatus
from opsconsole.runbooks import case_runbook


def action_form_url(action: Action, target) -> str:
    return admin_url("admin:opsconsole_action_form", action.name, target._meta.model_name, target.pk)


def action_run_get(pk, *, user=None) -> ActionRun:
    """One action run; with ``user``, only one that user may see (the same not-found answer
    either way, so a run's existence is not given away)."""
    runs = ActionRun.objects.all() if user is None else ActionRun.objects.restrict(user)
    run = runs.filter(pk=pk).select_related("account").first()
    if run is None:
        raise NotFound("action_run_not_found", f"No action run {pk}.")
    return run


@dataclass(frozen=True)
class OfferedAction:
    action: Action
    url: str


def actions_offered(user, target) -> list[OfferedAction]:
    """The actions to show as buttons: ones that apply to the target, that its runbook allows
    (on a case with a runbook), and that this user may run."""
    runbook = case_runbook(target)
    candidates = [(action, target) for action in actions_for_model(target._meta.label)]
    fix = _fix_on_the_account(target)
    if fix is not None:
        candidates.append(fix)
    offered = []
    for action, on in candidates:
        if runbook is not None and action.name not in runbook.allowed_actions:
            continue
        if action.applies_to(on) and may_run(user, action, on):
            offered.append(OfferedAction(action, action_form_url(action, on)))
    return offered


def _fix_on_the_account(target) -> tuple[Action, models.Model] | None:
    """A case may name the fix that applies (reconciliation drift does); when that fix acts on
    the case's account, offer it on the case too, where the person reading the drift is."""
    fix = _registered((getattr(target, "evidence", None) or {}).get("fix_action") or "")
    account = targets.target_for(target).account_of(target)
    if fix is None or account is None or account == target or fix.target_model != account._meta.label:
        return None
    return fix, account


def _registered(name: str) -> Action | None:
    try:
        return get_action(name) if name else None
    except NotFound:
        return None


def approvals_waiting_for(user) -> QuerySet[ActionApproval]:
    """The approval inbox: pending requests this user may decide (never their own)."""
    pending = (
        ActionApproval.objects.restrict(user)
        .filter(status=ApprovalStatus.PENDING)
        .select_related("run", "requested_by")
    )
    if not user.has_perm("opsconsole.approve_actionrun"):
        return pending.none()
    return pending.exclude(requested_by=user).order_by("sla_due_at")


def action_target_get(*, action: Action, public_id: str, user):
    """An action's target from its public id (an account's external id, an exception's number),
    among what ``user`` may see."""
    return targets.target_for(action.target_model).get(public_id=public_id, user=user)


def action_target_by_pk(*, action: Action, pk: str, user):
    """An action's target from the console's URL, among what ``user`` may see: one they may
    not see is not found, so the page does not say it exists."""
    return targets.target_for(action.target_model).get_by_pk(pk=pk, user=user)
