"""Reads for the console: which actions a user is offered, approvals waiting, the timeline."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from opsconsole.actions.registry import Action, actions_for_model, get_action
from opsconsole.actions.services import may_run
from opsconsole.actions.targets import target_for
from opsconsole.errors import NotFound
from opsconsole.links import action_run_url, admin_change_url, admin_url
from opsconsole.models import ActionApproval, ActionRun, ApprovalStatus
from opsconsole.runbooks import runbook_for_exception


def action_form_url(action: Action, target) -> str:
    return admin_url("admin:opsconsole_action_form", action.name, target._meta.model_name, target.pk)


def action_run_get(pk, *, user=None) -> ActionRun:
    """One action run; with ``user``, only a run on an account that user may see (the same
    not-found answer either way, so a run's existence is not given away)."""
    from accounts.selectors import account_visible_to

    run = ActionRun.objects.filter(pk=pk).select_related("account").first()
    if run is None or (user is not None and run.account_id and not account_visible_to(user, run.account)):
        raise NotFound("action_run_not_found", f"No action run {pk}.")
    return run


@dataclass(frozen=True)
class OfferedAction:
    action: Action
    url: str


def actions_offered(user, target) -> list[OfferedAction]:
    """The actions to show as buttons: ones that apply to the target, that its runbook allows
    (on an exception with a runbook), and that this user may run."""
    is_exception = target._meta.label == "accounts.OpsException"
    runbook = runbook_for_exception(target) if is_exception else None
    candidates = [(action, target) for action in actions_for_model(target._meta.label)]
    if is_exception:
        # An exception may name the fix that applies (reconciliation drift does); when that
        # fix acts on the account, offer it here too, where the person reading the drift is.
        fix = _registered((target.evidence or {}).get("fix_action") or "")
        if fix is not None and fix.target_model == "accounts.Account":
            candidates.append((fix, target.account))
    offered = []
    for action, on in candidates:
        if runbook is not None and action.name not in runbook.allowed_actions:
            continue
        if action.applies_to(on) and may_run(user, action, on):
            offered.append(OfferedAction(action, action_form_url(action, on)))
    return offered


def _registered(name: str) -> Action | None:
    try:
        return get_action(name) if name else None
    except NotFound:
        return None


def approvals_waiting_for(user) -> QuerySet[ActionApproval]:
    """The approval inbox: pending requests this user may decide (never their own)."""
    pending = ActionApproval.objects.filter(status=ApprovalStatus.PENDING).select_related(
        "run", "requested_by"
    )
    if not user.has_perm("opsconsole.approve_actionrun"):
        return pending.none()
    return pending.exclude(requested_by=user).order_by("sla_due_at")


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "event", "action", "exception", "change"
    title: str
    detail: str = ""
    url: str = ""


def _history_entries(account, *, limit: int) -> list[TimelineEntry]:
    """The account's newest ``limit`` field changes (a change is a record and the one before it)."""
    entries = []
    newest_first = account.history.select_related("history_user").order_by("-history_date", "-history_id")
    records = list(newest_first[: limit + 1])[::-1]
    for previous, record in zip([None, *records], records, strict=False):
        if previous is None:
            continue
        delta = record.diff_against(previous, excluded_fields=["updated_at"])
        if not delta.changes:
            continue
        changed = ", ".join(f"{c.field}: {c.old} → {c.new}" for c in delta.changes)
        who = record.history_user.get_username() if record.history_user else "unknown"
        entries.append(TimelineEntry(record.history_date, "change", f"Account changed by {who}", changed))
    return entries


def account_timeline(account, *, limit: int = 200) -> list[TimelineEntry]:
    """One timeline of the account, newest first: its events, the actions run on it or its
    exceptions, its exceptions opening and closing, and every recorded change of its fields."""
    from accounts.models import AccountEvent, OpsException

    entries: list[TimelineEntry] = []
    for event in AccountEvent.objects.filter(account=account).order_by("-occurred_at")[:limit]:
        detail = " ".join(x for x in (event.error_code, event.request_id) if x)
        entries.append(TimelineEntry(event.occurred_at, "event", event.type, detail))
    runs = ActionRun.objects.filter(account=account).select_related("actor").order_by("-created_at")[:limit]
    for run in runs:
        entries.append(
            TimelineEntry(
                run.created_at,
                "action",
                f"{run.action} by {run.actor.get_username()}: {run.status}",
                run.error_message,
                action_run_url(run),
            )
        )
    exceptions = OpsException.objects.filter(account=account).select_related("reason_code")
    for exception in exceptions:
        url = admin_change_url(exception)
        entries.append(
            TimelineEntry(
                exception.opened_at,
                "exception",
                f"Exception opened: {exception.reason_code.code}",
                exception.summary,
                url,
            )
        )
        if exception.resolved_at:
            entries.append(
                TimelineEntry(
                    exception.resolved_at,
                    "exception",
                    f"Exception resolved: {exception.reason_code.code}",
                    exception.resolution_note,
                    url,
                )
            )
    entries.extend(_history_entries(account, limit=limit))
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


def _visible_targets(action: Action, user) -> QuerySet:
    from accounts.selectors import accounts_visible_to, exceptions_visible_to

    if action.target_model == "accounts.Account":
        return accounts_visible_to(user)
    if action.target_model == "accounts.OpsException":
        return exceptions_visible_to(user)
    # Any other target (a routing ticket) is registered by its app, with how to restrict it.
    return target_for(action.target_model).visible_to(user)


def _not_found(action: Action, ref: str) -> NotFound:
    label = action.target_model.split(".")[-1]
    return NotFound("target_not_found", f"No {label} {ref!r} you can see.")


def action_target_get(*, action: Action, public_id: str, user):
    """An action's target from its public id (an account's external id, an exception's number),
    among what ``user`` may see."""
    visible = _visible_targets(action, user)
    if action.target_model == "accounts.Account":
        target = visible.filter(external_id=public_id).first()
    else:
        target = visible.filter(pk=public_id).first() if public_id.isdigit() else None
    if target is None:
        raise _not_found(action, public_id)
    return target


def action_target_by_pk(*, action: Action, pk: str, user):
    """An action's target from the console's URL, among what ``user`` may see: one they may
    not see is not found, so the page does not say it exists."""
    target = _visible_targets(action, user).filter(pk=pk).first() if str(pk).isdigit() else None
    if target is None:
        raise _not_found(action, str(pk))
    return target
