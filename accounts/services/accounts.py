"""Accounts: a signup, its review and approval, plan changes and duplicates."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from accounts.choices import (
    UNRESOLVED_EXCEPTION_STATUSES,
    ChannelKind,
    EventSource,
    ProvisioningStepName,
    StepStatus,
)
from accounts.models import (
    UNATTRIBUTED_CHANNEL,
    Account,
    Channel,
    OpsException,
    ProvisioningStep,
    ReasonCode,
)
from accounts.rules import (
    applicable_steps,
    choose_onboarding_path,
    duplicate_link_check,
    review_reason_code,
)
from accounts.services.events import (
    SYSTEM_EVENT_ID_PREFIX,
    EventInput,
    account_event_note,
    insert_timeline_rows,
)
from accounts.services.exceptions import exception_open_locked, exception_resolve_locked
from accounts.services.provisioning import account_events_apply
from accounts.shapes import PLANS, SHAPES, shape_for
from accounts.signals import account_created
from opsconsole.errors import Conflict, ValidationFailed
from opsconsole.history import service


@service
def account_create(
    *,
    external_id: str,
    name: str,
    admin_email: str,
    shape: str,
    channel: Channel | None = None,
    plan: str | None = None,
    signed_up_at: datetime | None = None,
    utm_source: str = "",
    utm_medium: str = "",
    utm_campaign: str = "",
    partner: str = "",
    flags: list[str] | None = None,
    owner=None,
    actor,
) -> Account:
    """Create an account from a signup, with its provisioning steps and its first event.

    A signup without a ``channel`` (its attribution was lost) goes to the built-in
    ``unattributed`` channel: it is never refused for that."""
    if shape not in SHAPES:
        raise ValidationFailed("unknown_shape", f"Unknown shape {shape!r}.", {"shape": shape})
    channel = channel or _unattributed_channel()
    flags = list(flags or [])
    path, path_reason = choose_onboarding_path(shape_code=shape, channel=channel, flags=flags)
    signed_up_at = signed_up_at or timezone.now()
    try:
        with transaction.atomic():
            account = Account.objects.create(
                external_id=external_id,
                name=name,
                admin_email=admin_email,
                shape=shape,
                plan=plan or shape_for(shape).default_plan,
                channel=channel,
                utm_source=utm_source,
                utm_medium=utm_medium,
                utm_campaign=utm_campaign,
                partner=partner or channel.partner_name,
                flags=flags,
                onboarding_path=path,
                onboarding_path_reason=path_reason,
                owner=owner,
                signed_up_at=signed_up_at,
            )
    except IntegrityError as exc:
        raise Conflict(
            "account_exists",
            f"An account with external_id {external_id!r} already exists.",
            {"external_id": external_id},
        ) from exc
    account_created.send(sender=Account, account=account)
    # bulk_create writes no history; the steps' first history rows must say who created them.
    steps = bulk_create_with_history(
        [ProvisioningStep(account=account, step=step) for step in applicable_steps(account)],
        ProvisioningStep,
        default_user=actor,
    )
    _open_review_exception(account=account, steps=steps)
    created = EventInput(
        event_id=f"{SYSTEM_EVENT_ID_PREFIX}account.created:{account.external_id}",
        type="account.created",
        occurred_at=signed_up_at,
        source=EventSource.SYSTEM,
    )
    insert_timeline_rows(events=[(account, created)], actor=actor)
    return account


def _unattributed_channel() -> Channel:
    """The built-in channel for signups without one. A data migration creates it; should it be
    missing all the same (a test database emptied by a flush), it is created here once."""
    channel = Channel.objects.filter(code=UNATTRIBUTED_CHANNEL).first()
    if channel is not None:
        return channel
    try:
        with transaction.atomic():
            return Channel.objects.create(
                code=UNATTRIBUTED_CHANNEL, name="Unattributed", kind=ChannelKind.UNATTRIBUTED
            )
    except IntegrityError:
        return Channel.objects.get(code=UNATTRIBUTED_CHANNEL)


def _open_review_exception(*, account: Account, steps: list[ProvisioningStep]) -> None:
    """An account under review needs a person from the start: open the review exception and
    let the approve step carry it, so the approval resolves it like any other step success."""
    approve = next((s for s in steps if s.step == ProvisioningStepName.APPROVE), None)
    if approve is None:
        return
    reason = ReasonCode.objects.filter(code=review_reason_code(account)).first()
    if reason is None:
        return
    approve.blocking_exception = exception_open_locked(
        account=account,
        reason=reason,
        summary=f"{shape_for(account.shape).name} signup awaiting review",
        evidence={"flags": account.flags, "shape": account.shape},
        opened_at=account.signed_up_at,
    )
    approve.save()


@service
def account_approve(*, account: Account, note: str = "", actor) -> Account:
    """A staff member approves an account that is under review (enterprise, identity review)."""
    account = Account.objects.select_for_update().get(pk=account.pk)
    step = ProvisioningStep.objects.filter(account=account, step=ProvisioningStepName.APPROVE).first()
    if step is None:
        raise Conflict("approval_not_required", "This account does not need approval.")
    if step.status == StepStatus.SUCCEEDED:
        raise Conflict("already_approved", "This account is already approved.")
    approved = EventInput(
        event_id=f"{SYSTEM_EVENT_ID_PREFIX}account.approved:{account.external_id}",
        type="account.approved",
        occurred_at=timezone.now(),
        source=EventSource.OPS,
        payload={"approved_by": actor.get_username(), "note": note},
    )
    new_rows = insert_timeline_rows(events=[(account, approved)], actor=actor)
    account_events_apply(account=account, new_events=new_rows, actor=actor)
    return account


@service
def account_plan_change(*, account: Account, plan: str, mrr_cents: int, note: str = "", actor) -> Account:
    """Put the account on ``plan`` at ``mrr_cents`` and record it on the timeline.

    Stripe, when it owns the plan, is updated by the caller (the reassign_plan action) so that
    a dry run can list that call instead of making it.
    """
    if plan not in PLANS:
        raise ValidationFailed("unknown_plan", f"Unknown plan {plan!r}.", {"plan": plan})
    account = Account.objects.select_for_update().get(pk=account.pk)
    previous = account.plan
    account.plan = plan
    account.mrr_cents = mrr_cents
    account.save()
    account_event_note(
        account=account,
        type="plan.changed",
        payload={"from": previous, "to": plan, "mrr_cents": mrr_cents, "note": note},
        actor=actor,
    )
    return account


@service
def account_mark_duplicate(*, account: Account, canonical: Account, actor) -> Account:
    """Link a duplicate to its canonical account and close the duplicate's open exceptions."""
    duplicate_link_check(account=account, canonical=canonical)
    account = Account.objects.select_for_update().get(pk=account.pk)
    account.duplicate_of = canonical
    account.save()
    note = f"Closed: the account is a duplicate of {canonical.external_id}."
    for exception in OpsException.objects.select_for_update().filter(
        account=account, status__in=UNRESOLVED_EXCEPTION_STATUSES
    ):
        if exception.first_response_at is None:
            exception.first_response_at = timezone.now()
        exception_resolve_locked(exception, note=note)
    account_event_note(
        account=account,
        type="account.marked_duplicate",
        payload={"canonical": canonical.external_id},
        actor=actor,
    )
    return account
