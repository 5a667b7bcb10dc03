"""Exceptions: an account that needs a person, opened once per reason and resolved with a note."""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.choices import UNRESOLVED_EXCEPTION_STATUSES, ExceptionStatus, Team
from accounts.models import Account, AccountEvent, OpsException, ReasonCode
from accounts.rules import response_target_minutes
from accounts.signals import exception_resolved
from opsconsole.errors import Conflict, ValidationFailed
from opsconsole.history import current_actor, service


def exception_open_locked(
    *,
    account: Account,
    reason: ReasonCode,
    summary: str = "",
    evidence: dict | None = None,
    opened_at: datetime | None = None,
    opened_by_event: AccountEvent | None = None,
    owner_user=None,
) -> OpsException:
    """Open an exception, or return the one already unresolved for (account, reason).

    For callers already inside a service that holds the account's lock."""
    existing = (
        OpsException.objects.select_for_update()
        .filter(account=account, reason_code=reason, status__in=UNRESOLVED_EXCEPTION_STATUSES)
        .first()
    )
    if existing is not None:
        return existing
    opened_at = opened_at or timezone.now()
    minutes = response_target_minutes(reason=reason, account=account)
    try:
        with transaction.atomic():
            return OpsException.objects.create(
                account=account,
                reason_code=reason,
                owner_team=reason.owner_team,
                owner_user=owner_user,
                target_response_minutes=minutes,
                respond_by=opened_at + timedelta(minutes=minutes),
                opened_at=opened_at,
                summary=summary[:300],
                evidence=evidence or {},
                opened_by_event=opened_by_event,
            )
    except IntegrityError:
        # A concurrent writer opened it first; the partial unique constraint kept it single.
        return OpsException.objects.get(
            account=account, reason_code=reason, status__in=UNRESOLVED_EXCEPTION_STATUSES
        )


def exception_resolve_locked(
    exception: OpsException, *, note: str, resolved_at: datetime | None = None
) -> OpsException:
    """``resolved_at`` is when the fix happened (a success event's time), so time-to-resolve
    stays true when the event reaches us late; never before the exception opened. The
    resolver is the actor of the service this runs in."""
    if exception.status == ExceptionStatus.RESOLVED:
        return exception
    exception.status = ExceptionStatus.RESOLVED
    exception.resolved_at = max(resolved_at or timezone.now(), exception.opened_at)
    exception.resolved_by = current_actor()
    exception.resolution_note = note
    exception.save()
    exception_resolved.send(sender=OpsException, exception=exception, actor=exception.resolved_by)
    return exception


@service
def exception_open(
    *,
    account: Account,
    reason_code: str,
    summary: str = "",
    evidence: dict | None = None,
    owner_user=None,
    actor,
) -> OpsException:
    reason = ReasonCode.objects.filter(code=reason_code).first()
    if reason is None:
        raise ValidationFailed("unknown_reason_code", f"Unknown reason code {reason_code!r}.")
    # of=("self",): a plain FOR UPDATE would lock the joined channel row as well, serialising
    # every exception of a channel and deadlocking against inserts that reference it.
    account = Account.objects.select_for_update(of=("self",)).select_related("channel").get(pk=account.pk)
    return exception_open_locked(
        account=account, reason=reason, summary=summary, evidence=evidence, owner_user=owner_user
    )


@service
def exception_resolve(
    *, exception: OpsException, note: str, actor, resolved_at: datetime | None = None
) -> OpsException:
    """``resolved_at``: when the person resolved it, for work recorded after the fact (the
    demo's past); never later than now, never before the exception opened."""
    if not note or not note.strip():
        raise ValidationFailed("resolution_note_required", "A resolution note is required.")
    exception = OpsException.objects.select_for_update().get(pk=exception.pk)
    if exception.status == ExceptionStatus.RESOLVED:
        raise Conflict("exception_already_resolved", "This exception is already resolved.")
    now = timezone.now()
    resolved_at = max(min(resolved_at or now, now), exception.opened_at)
    if exception.first_response_at is None:
        exception.first_response_at = resolved_at
    return exception_resolve_locked(exception, note=note.strip(), resolved_at=resolved_at)


@service
def exception_set_status(*, exception: OpsException, status: str, actor, reason: str = "") -> OpsException:
    """Move an exception between its working states; resolving goes through exception_resolve.
    Leaving Open is the first response (the response clock stops). ``reason`` goes to history."""
    if status not in ExceptionStatus.values or status == ExceptionStatus.RESOLVED:
        raise ValidationFailed("invalid_status", f"Cannot set status {status!r} here.")
    exception = OpsException.objects.select_for_update().get(pk=exception.pk)
    if exception.status == ExceptionStatus.RESOLVED:
        raise Conflict("exception_already_resolved", "This exception is already resolved.")
    exception.status = status
    if exception.first_response_at is None and status != ExceptionStatus.OPEN:
        exception.first_response_at = timezone.now()
    exception._change_reason = (reason or f"Status set to {ExceptionStatus(status).label.lower()}.")[:100]
    exception.save()
    return exception


@service
def exception_reassign(
    *, exception: OpsException, team: str, owner_user=None, reason: str, actor
) -> OpsException:
    """Give an exception to another team, or a person in it, and say why (kept in history).
    A reassignment is not a response: the response clock keeps running."""
    if team not in Team.values:
        raise ValidationFailed("invalid_team", f"No team {team!r}.", {"team": ["Unknown team."]})
    if not reason or not reason.strip():
        raise ValidationFailed("reason_required", "Say why it goes there.", {"reason": ["Required."]})
    exception = OpsException.objects.select_for_update().get(pk=exception.pk)
    if exception.status == ExceptionStatus.RESOLVED:
        raise Conflict("exception_already_resolved", "This exception is already resolved.")
    if exception.owner_team == team and exception.owner_user_id == (owner_user.pk if owner_user else None):
        raise Conflict("already_owned", "The exception already has this owner.")
    exception.owner_team = team
    exception.owner_user = owner_user
    exception._change_reason = reason.strip()[:100]
    exception.save()
    return exception


def exception_fix_applied(exception: OpsException, action, actor) -> None:
    """A fix its runbook allows ran on the exception's account (``resend_invite``): that is
    its first response, and it now waits (on the customer, for ``resend_invite``) for the
    success event that resolves it. Registered as the exception target's ``fix_applied``."""
    status = getattr(action, "exception_status_after", ExceptionStatus.IN_PROGRESS)
    current = OpsException.objects.filter(pk=exception.pk).values_list("status", flat=True).first()
    if current in (None, ExceptionStatus.RESOLVED, status):
        return
    exception_set_status(
        exception=exception,
        status=status,
        reason=f"{action.name} ran; waiting for the success event.",
        actor=actor,
    )
