"""Reads for the console: action targets, runs, the actions a user is offered, approvals waiting."""

from dataclasses import dataclass

from django.db import models, transaction
from django.db.models import QuerySet

from opsconsole.actions import targets
from opsconsole.actions.permissions import may_run
from opsconsole.actions.registry import Action, ActionContext, actions_for_model, get_action
from opsconsole.errors import ApplicationError, NotFound, ValidationFailed
from opsconsole.links import admin_url
from opsconsole.models import ActionApproval, ActionRun, ApprovalStatus
from opsconsole.runbooks import case_runbook, runbook_for_action


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
    # Why its check refuses it now (the button is shown greyed with this), or "".
    refused: str = ""


def actions_offered(user, target) -> list[OfferedAction]:
    """The actions to show as buttons: those that apply, that this user may run, and, on a
    case with a runbook, that the runbook allows (its fixes, including those that act on the
    case's account, such as ``resend_invite``, and the actions that work the case). Each is
    checked as it would be now: one whose check refuses carries why (shown greyed)."""
    runbook = case_runbook(target)
    candidates = [(action, target) for action in actions_for_model(target._meta.label)]
    account = targets.target_for(target).account_of(target)
    if runbook is not None and account is not None and account != target:
        candidates += [
            (action, account)
            for action in actions_for_model(account._meta.label)
            if action.name in runbook.allowed_actions
        ]
    fix = _fix_on_the_account(target)
    if fix is not None and fix not in candidates:
        candidates.append(fix)
    offered = []
    for action, on in candidates:
        if runbook is not None and not action.works_the_case and action.name not in runbook.allowed_actions:
            continue
        if action.applies_to(on) and may_run(user, action, on):
            refused = check_refusal(user, action, on) if action.checked_on_page else ""
            offered.append(OfferedAction(action, action_form_url(action, on), refused))
    return offered


def check_refusal(user, action: Action, target) -> str:
    """What the action's own check says now, before any input: the refusal's message, or ""
    when it passes or cannot tell without the form's input. Nothing is written: the check
    runs in a transaction that is rolled back."""
    ctx = ActionContext(action, target, {}, user, runbook=runbook_for_action(action, target), dry_run=True)
    try:
        with transaction.atomic():
            try:
                action.check(ctx)
            finally:
                transaction.set_rollback(True)
    except ValidationFailed:
        return ""  # the input decides: the form asks for it
    except ApplicationError as exc:
        return exc.message
    except (KeyError, LookupError, TypeError):
        return ""  # a check that reads a parameter the form has not given yet
    return ""


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


def money_moves(changes: list[dict]) -> list[dict]:
    """The amounts of money (fields in cents, such as an account's ``mrr_cents``) a run's
    changes move, before and after, for an approver to read first: ``{"object", "label",
    "before", "after", "delta"}`` in cents."""
    moves = []
    for change in changes:
        for field in change.get("fields", []):
            name = field["field"]
            if not name.endswith("_cents"):
                continue
            label = name.removesuffix("_cents").replace("_", " ")
            before, after = field.get("before"), field.get("after")
            moves.append(
                {
                    "object": change.get("object") or f"{change.get('model')} #{change.get('pk')}",
                    "label": label.upper() if len(label) <= 3 else label.capitalize(),
                    "before": before,
                    "after": after,
                    "delta": (after or 0) - (before or 0),
                }
            )
    return moves
