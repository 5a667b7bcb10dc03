"""The second pair of eyes: a run that needs approval waits in the inbox, one request per
action and target, until an ops lead decides it, it expires, or its SLA passes (an alert)."""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from opsconsole.actions.registry import ActionContext, get_action
from opsconsole.actions.services.checks import action_check
from opsconsole.actions.services.effects import action_execute, run_finish
from opsconsole.alerts import Alert, alert_send
from opsconsole.errors import ApplicationError, Conflict, PermissionRefused, ValidationFailed
from opsconsole.history import SYSTEM_SCHEDULER, acting_as, system_user
from opsconsole.links import action_run_url
from opsconsole.models import ActionApproval, ActionRun, ActionStatus, ApprovalStatus


def approval_request(*, run: ActionRun, reason: str, actor) -> Conflict | None:
    """Put the run in the approvers' inbox, unless the same action on the same target is
    already there: a lead should decide one request, not two that do the same thing. Returns
    the refusal in that case."""
    waiting = approval_waiting(run.action, run.target_type_id, run.target_id, exclude=run.pk)
    if waiting is None:
        now = timezone.now()
        try:
            with transaction.atomic():
                run.status = ActionStatus.AWAITING_APPROVAL
                run.save()
                ActionApproval.objects.create(
                    run=run,
                    reason=reason[:300],
                    requested_by=actor,
                    expires_at=now + settings.ACTION_APPROVAL_TTL,
                    sla_due_at=now + settings.ACTION_APPROVAL_SLA,
                )
                return None
        except IntegrityError:
            # A concurrent request on a target whose lock does not cover it won the race.
            run.status = ActionStatus.RUNNING
            waiting = approval_waiting(run.action, run.target_type_id, run.target_id, exclude=run.pk)
            if waiting is None:
                raise
    refusal = already_requested(waiting)
    run_finish(run, ActionStatus.REFUSED, error=refusal)
    return refusal


def approval_waiting(action_name: str, target_type_id: int, target_id, *, exclude=None) -> ActionRun | None:
    """The request already in the inbox for this action and target; one past its expiry that
    the sweep has not reached yet is expired now instead of blocking a new request."""
    waiting = (
        ActionRun.objects.filter(
            action=action_name,
            target_type=target_type_id,
            target_id=str(target_id),
            status=ActionStatus.AWAITING_APPROVAL,
        )
        .exclude(pk=exclude)
        .select_related("actor", "approval")
        .first()
    )
    if waiting is not None and waiting.approval.expires_at <= timezone.now():
        _approval_expire(waiting.approval.pk)
        return None
    return waiting


def already_requested(waiting: ActionRun) -> Conflict:
    """The refusal of a second request while ``waiting`` is in the inbox."""
    return Conflict(
        "approval_already_requested",
        f"Run #{waiting.pk} ({waiting.action} by {waiting.actor.get_username()}) is already waiting "
        "for approval on this target; it must be approved or rejected before asking again.",
        {"waiting_run": waiting.pk},
    )


def approval_decide(*, approval: ActionApproval, approve: bool, note: str = "", actor) -> ActionApproval:
    """Approve (which runs the action, once) or reject a pending approval.

    The requester cannot decide their own request. An expired approval is marked expired and
    refused. A state change since the request refuses the run: it must be requested again.
    """
    outcome_error = None
    with transaction.atomic(), acting_as(actor):
        approval = ActionApproval.objects.select_for_update().select_related("run").get(pk=approval.pk)
        run = ActionRun.objects.select_for_update().get(pk=approval.run_id)
        if approval.status != ApprovalStatus.PENDING:
            raise Conflict(
                "approval_already_decided", f"This approval is already {approval.status}.", {"run": run.pk}
            )
        if approval.requested_by_id == actor.pk:
            raise PermissionRefused("self_approval", "You cannot approve or reject your own request.")
        if not actor.has_perm("opsconsole.approve_actionrun"):
            raise PermissionRefused("approval_not_permitted", "Your role may not decide approvals.")
        if not approve and not (note or "").strip():
            raise ValidationFailed(
                "rejection_note_required",
                "Say why you reject it: the requester reads your comment.",
                {"note": ["Required to reject."]},
            )
        now = timezone.now()
        if approval.expires_at <= now:
            _close_approval(approval, ApprovalStatus.EXPIRED, actor=None, note="")
            outcome_error = Conflict("approval_expired", "This approval request expired; request it again.")
            run_finish(run, ActionStatus.REFUSED, error=outcome_error)
        elif not approve:
            _close_approval(approval, ApprovalStatus.REJECTED, actor=actor, note=note)
            run_finish(run, ActionStatus.REFUSED, error=Conflict("approval_rejected", note or "Rejected."))
        else:
            _close_approval(approval, ApprovalStatus.APPROVED, actor=actor, note=note)
            outcome_error = _run_approved(run)
    if outcome_error is not None:
        raise outcome_error
    return approval


def _close_approval(approval: ActionApproval, status: str, *, actor, note: str) -> None:
    approval.status = status
    approval.decided_by = actor
    approval.decided_at = timezone.now()
    approval.decision_note = note
    approval.save()


def _run_approved(run: ActionRun) -> ApplicationError | None:
    """Run an approved action as requested; returns the refusal if it can no longer run."""
    action = get_action(run.action)
    target = run.target_type.get_object_for_this_type(pk=run.target_id)
    locked = action.lock(target)
    ctx = ActionContext(action, locked, run.params, run.actor, run.evidence, run.runbook, run=run)
    try:
        action_check(ctx)
        if action.fingerprint(locked) != run.state_fingerprint:
            raise Conflict("state_changed", "State changed since the request; request it again.")
    except ApplicationError as exc:
        run_finish(run, ActionStatus.REFUSED, error=exc)
        return exc
    action_execute(ctx)
    return None


def approvals_expire(*, now=None) -> int:
    """Mark pending approvals past their expiry as expired and refuse their runs."""
    now = now or timezone.now()
    expired = list(
        ActionApproval.objects.filter(status=ApprovalStatus.PENDING, expires_at__lte=now).values_list(
            "pk", flat=True
        )
    )
    if not expired:
        return 0
    scheduler = system_user(SYSTEM_SCHEDULER)
    return sum(_approval_expire(pk, scheduler=scheduler) for pk in expired)


def _approval_expire(approval_pk, *, scheduler=None) -> bool:
    # An expiry is the clock's doing, not a decision of whoever happened to trigger it.
    with transaction.atomic(), acting_as(scheduler or system_user(SYSTEM_SCHEDULER)):
        approval = ActionApproval.objects.select_for_update().get(pk=approval_pk)
        if approval.status != ApprovalStatus.PENDING:
            return False
        _close_approval(approval, ApprovalStatus.EXPIRED, actor=None, note="")
        run = ActionRun.objects.select_for_update().get(pk=approval.run_id)
        run_finish(run, ActionStatus.REFUSED, error=Conflict("approval_expired", "The approval expired."))
        return True


def approvals_alert_overdue(*, now=None) -> int:
    """Alert once for each approval waiting past its SLA (compare-and-set on sla_alerted_at)."""
    now = now or timezone.now()
    count = 0
    overdue = ActionApproval.objects.filter(
        status=ApprovalStatus.PENDING, sla_due_at__lte=now, sla_alerted_at__isnull=True
    )
    for pk in overdue.values_list("pk", flat=True):
        with transaction.atomic():
            approval = (
                ActionApproval.objects.select_for_update(skip_locked=True)
                .select_related("run", "requested_by")
                .filter(pk=pk, sla_alerted_at__isnull=True)
                .first()
            )
            if approval is None:
                continue
            approval.sla_alerted_at = now
            approval.save()
            waited = int((now - approval.requested_at).total_seconds() // 60)
            alert_send(
                Alert(
                    kind="approval_overdue",
                    title=f"Approval waiting {waited} min: {approval.run.action} "
                    f"on {approval.run.target_repr}",
                    text=approval.reason,
                    severity="warning",
                    fields={
                        "action_run": approval.run_id,
                        "requested_by": approval.requested_by.get_username(),
                        "expires_at": approval.expires_at.isoformat(),
                    },
                    link=action_run_url(approval.run),
                )
            )
            count += 1
    return count
