"""Writes for accounts: signups, the event timeline, provisioning, exceptions and activation.

Every function takes the acting user as ``actor`` and runs in one transaction (``@service``).
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Min, Q
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from accounts.choices import (
    UNRESOLVED_EXCEPTION_STATUSES,
    EventSource,
    ExceptionStatus,
    LifecycleStage,
    OnboardingPath,
    ProvisioningStepName,
    StepStatus,
)
from accounts.models import (
    Account,
    AccountEvent,
    Channel,
    OpsException,
    ProvisioningStep,
    ReasonCode,
)
from accounts.shapes import EVENT_STEP_TRANSITIONS, PLANS, SHAPES, is_failure_event, shape_for
from opsconsole.actions.recorder import current_recorder, record_created
from opsconsole.bulk import insert_rows
from opsconsole.errors import Conflict, ValidationFailed
from opsconsole.history import service

# Flags on a signup that ask for a person to walk the customer through onboarding.
MANAGED_ONBOARDING_FLAGS = frozenset({"white_glove", "migration_assist", "regulated"})
IDENTITY_REVIEW_FLAG = "identity_review"
# Event ids opsconsole writes itself start with this; the API refuses it from outside.
SYSTEM_EVENT_ID_PREFIX = "opsconsole:"
REVIEW_REASON_IDENTITY = "identity_review"
REVIEW_REASON_ENTERPRISE = "enterprise_review"


def choose_onboarding_path(*, shape_code: str, channel: Channel, flags: list[str]) -> tuple[str, str]:
    """The onboarding rule: returns (path, the reason in words)."""
    shape = shape_for(shape_code)
    if shape.onboarding_path == OnboardingPath.MANAGED:
        return OnboardingPath.MANAGED, f"Shape {shape.code} is onboarded by a person."
    if channel.managed_onboarding:
        return OnboardingPath.MANAGED, f"Channel {channel.code} promises managed onboarding."
    asked = sorted(MANAGED_ONBOARDING_FLAGS.intersection(flags))
    if asked:
        return OnboardingPath.MANAGED, f"Signup flagged {', '.join(asked)}."
    return OnboardingPath.SELF_SERVE, f"Shape {shape.code} from {channel.code} is self-serve."


def applicable_steps(account: Account) -> tuple[str, ...]:
    steps = shape_for(account.shape).steps
    if IDENTITY_REVIEW_FLAG in (account.flags or []) and ProvisioningStepName.APPROVE not in steps:
        steps = (ProvisioningStepName.APPROVE,) + steps
    return steps


def requires_review(account: Account) -> bool:
    return ProvisioningStepName.APPROVE in applicable_steps(account)


@service
def account_create(
    *,
    external_id: str,
    name: str,
    admin_email: str,
    shape: str,
    channel: Channel,
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
    """Create an account from a signup, with its provisioning steps and its first event."""
    if shape not in SHAPES:
        raise ValidationFailed("unknown_shape", f"Unknown shape {shape!r}.", {"shape": shape})
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
    # bulk_create writes no history; the steps' first history rows must say who created them.
    steps = bulk_create_with_history(
        [ProvisioningStep(account=account, step=step) for step in applicable_steps(account)],
        ProvisioningStep,
        default_user=actor,
    )
    _open_review_exception(account=account, steps=steps)
    _insert_events(
        account=account,
        events=[
            EventInput(
                event_id=f"{SYSTEM_EVENT_ID_PREFIX}account.created:{account.external_id}",
                type="account.created",
                occurred_at=signed_up_at,
                source=EventSource.SYSTEM,
            )
        ],
        actor=actor,
    )
    return account


def _open_review_exception(*, account: Account, steps: list[ProvisioningStep]) -> None:
    """An account under review needs a person from the start: open the review exception and
    let the approve step carry it, so the approval resolves it like any other step success."""
    approve = next((s for s in steps if s.step == ProvisioningStepName.APPROVE), None)
    if approve is None:
        return
    code = REVIEW_REASON_IDENTITY if IDENTITY_REVIEW_FLAG in account.flags else REVIEW_REASON_ENTERPRISE
    reason = ReasonCode.objects.filter(code=code).first()
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


# --- Events -------------------------------------------------------------------------------


@dataclass
class EventInput:
    """One validated event, ready to be recorded."""

    event_id: str
    type: str
    occurred_at: datetime
    source: str = EventSource.PRODUCT
    request_id: str = ""
    error_code: str = ""
    feature_area: str = ""
    payload: dict = field(default_factory=dict)


@dataclass
class EventIntakeResult:
    accepted: int = 0
    duplicates: int = 0


def _insert_events(*, account: Account, events: list[EventInput], actor) -> list[AccountEvent]:
    """Insert events that are new, skip known ``event_id``s; returns the new rows."""
    return insert_timeline_rows(events=[(account, e) for e in events], actor=actor)


def insert_timeline_rows(
    *, events: list[tuple[Account, EventInput]], actor, return_rows: bool = True
) -> list[AccountEvent]:
    """Insert timeline rows for any number of accounts in one statement, skipping known
    ``event_id``s; returns the new rows (unless ``return_rows`` is false: then they are not
    read back). Nothing is applied to provisioning or lifecycle: that is
    ``account_events_record``'s work."""
    if not events:
        return []
    # A repeat inside one batch is a duplicate like any other: the first delivery wins, and
    # its reason code must not be taken from a later copy with the same id.
    first_by_id: dict[str, tuple[Account, EventInput]] = {}
    for account, e in events:
        first_by_id.setdefault(e.event_id, (account, e))
    intake_id = uuid.uuid4()
    reason_codes = _reason_codes_for([e for _, e in first_by_id.values()])
    rows = [
        AccountEvent(
            event_id=e.event_id,
            account=account,
            channel_id=account.channel_id,
            source=e.source,
            type=e.type,
            occurred_at=e.occurred_at,
            request_id=e.request_id,
            error_code=e.error_code,
            reason_code=reason_codes.get(e.event_id),
            feature_area=e.feature_area,
            payload=e.payload,
            recorded_by=actor,
            intake_id=intake_id,
        )
        for account, e in first_by_id.values()
    ]
    # The unique event_id is what makes a redelivered event count once (invariant 3).
    insert_rows(rows, ignore_conflicts=True)
    if not return_rows and current_recorder() is None:
        return []
    new_rows = list(
        AccountEvent.objects.filter(intake_id=intake_id)
        .select_related("reason_code")
        .order_by("occurred_at", "id")
    )
    # bulk_create sends no signals; a guarded action's preview must still list the events.
    record_created(new_rows)
    return new_rows


def _reason_codes_for(events: list[EventInput]) -> dict[str, ReasonCode]:
    """The reason code of each failure event: its error_code if known, else its step default."""
    wanted = {}
    for e in events:
        transition = EVENT_STEP_TRANSITIONS.get(e.type)
        is_failure = is_failure_event(e.type)
        if is_failure or (transition is not None and transition.outcome == "failed"):
            wanted[e.event_id] = (e.error_code, transition.default_reason_code if transition else None)
    if not wanted:
        return {}
    candidates = {c for pair in wanted.values() for c in pair if c}
    known = {rc.code: rc for rc in ReasonCode.objects.filter(code__in=candidates)}
    result = {}
    for event_id, (error_code, default) in wanted.items():
        reason = known.get(error_code) or known.get(default)
        if reason is not None:
            result[event_id] = reason
    return result


@service
def account_events_record(*, account: Account, events: list[EventInput], actor) -> EventIntakeResult:
    """Record events for one account and apply them to provisioning, exceptions and activation.

    Events may arrive in any order and more than once; the account row is locked so that
    concurrent batches for the same account apply one after the other.
    """
    account = Account.objects.select_for_update().get(pk=account.pk)
    new_rows = _insert_events(account=account, events=events, actor=actor)
    result = EventIntakeResult(accepted=len(new_rows), duplicates=len(events) - len(new_rows))
    if new_rows:
        _apply_events(account=account, new_events=new_rows, actor=actor)
    return result


def account_events_record_batch(*, events: list[tuple[Account, EventInput]], actor) -> EventIntakeResult:
    """Record a batch that spans accounts: one ``account_events_record`` per account.

    Deliberately not one transaction: each account commits on its own, so one slow or locked
    account does not hold the others back. Accounts go in primary-key order, so two batches
    touching the same accounts lock them in the same order and cannot deadlock.
    """
    per_account: dict[Account, list[EventInput]] = defaultdict(list)
    for account, event in events:
        per_account[account].append(event)
    total = EventIntakeResult()
    for account in sorted(per_account, key=lambda a: a.pk):
        result = account_events_record(account=account, events=per_account[account], actor=actor)
        total.accepted += result.accepted
        total.duplicates += result.duplicates
    return total


def _apply_events(*, account: Account, new_events: list[AccountEvent], actor) -> None:
    steps = {s.step: s for s in ProvisioningStep.objects.select_for_update().filter(account=account)}
    moved: dict[str, ProvisioningStep] = {}
    for event in new_events:
        transition = EVENT_STEP_TRANSITIONS.get(event.type)
        if transition is not None and transition.step in steps:
            step = steps[transition.step]
            if _apply_step_transition(account=account, step=step, event=event, outcome=transition.outcome):
                moved[step.step] = step
        elif event.type == "subscription.cancelled":
            _set_lifecycle(account, LifecycleStage.CHURNED)
    # One save, and one history row, per step per batch, however many of its events arrived.
    for step in moved.values():
        step.save()
    if moved and account.lifecycle_stage == LifecycleStage.SIGNED_UP:
        _set_lifecycle(account, LifecycleStage.ONBOARDING)
    _refresh_activation(account, new_events)


def _apply_step_transition(
    *, account: Account, step: ProvisioningStep, event: AccountEvent, outcome: str
) -> bool:
    """Move ``step`` in memory (the caller saves it); returns whether it moved."""
    # Invariant 4: an event older than the one that set the step cannot move it back.
    if step.status_at is not None and event.occurred_at < step.status_at:
        return False
    step.status_at = event.occurred_at
    step.last_event = event
    if outcome == "started":
        step.status = StepStatus.IN_PROGRESS
    elif outcome == "succeeded":
        step.status = StepStatus.SUCCEEDED
        if step.blocking_exception_id:
            _resolve_step_exceptions(account=account, step=step, event=event)
            step.blocking_exception = None
    elif outcome == "failed":
        step.status = StepStatus.FAILED
        if event.reason_code is not None:
            exception = exception_open_locked(
                account=account,
                reason=event.reason_code,
                summary=f"{event.type}" + (f" ({event.error_code})" if event.error_code else ""),
                evidence={
                    "event_id": event.event_id,
                    "error_code": event.error_code,
                    "request_id": event.request_id,
                    "feature_area": event.feature_area,
                },
                opened_at=event.occurred_at,
                opened_by_event=event,
            )
            step.blocking_exception = exception
    return True


def _failure_types_of(step: str) -> list[str]:
    return [t for t, tr in EVENT_STEP_TRANSITIONS.items() if tr.step == step and tr.outcome == "failed"]


def _resolve_step_exceptions(*, account: Account, step: ProvisioningStep, event: AccountEvent) -> None:
    """A success fixes every problem this step had: the blocking exception and any earlier one
    a different failure of the same step opened (token expired, then permissions missing)."""
    unresolved = OpsException.objects.select_for_update(of=("self",)).filter(
        Q(pk=step.blocking_exception_id) | Q(opened_by_event__type__in=_failure_types_of(step.step)),
        account=account,
        status__in=UNRESOLVED_EXCEPTION_STATUSES,
    )
    for exception in unresolved.order_by("pk"):
        exception_resolve_locked(
            exception,
            resolved_at=event.occurred_at,
            note=f"Resolved automatically: {event.type} ({event.event_id}) at "
            f"{event.occurred_at:%Y-%m-%d %H:%M} UTC.",
        )


def _set_lifecycle(account: Account, stage: str) -> None:
    if account.lifecycle_stage != stage:
        account.lifecycle_stage = stage
        account.save(update_fields=["lifecycle_stage", "updated_at"])


def _refresh_activation(account: Account, new_events: list[AccountEvent]) -> None:
    """Set ``activated_at`` once the shape's defining events have all arrived, in any order."""
    if account.activated_at is not None:
        return
    definition = shape_for(account.shape).activation
    required = definition.required_event_types
    if not any(e.type in required for e in new_events):
        return  # nothing that defines activation arrived, so nothing can have changed
    deadline = account.signed_up_at + definition.window
    firsts = dict(
        AccountEvent.objects.filter(account=account, type__in=required, occurred_at__lte=deadline)
        .order_by()
        .values("type")
        .annotate(first=Min("occurred_at"))
        .values_list("type", "first")
    )
    if len(firsts) < len(required):
        return
    account.activated_at = max(firsts.values())
    fields = ["activated_at", "updated_at"]
    if account.lifecycle_stage in (LifecycleStage.SIGNED_UP, LifecycleStage.ONBOARDING):
        account.lifecycle_stage = LifecycleStage.ACTIVATED
        fields.append("lifecycle_stage")
    account.save(update_fields=fields)


# --- Exceptions ---------------------------------------------------------------------------


def response_target_minutes(*, reason: ReasonCode, account: Account) -> int:
    """The tightest of the reason code's default, the shape's ceiling and the channel's SLA."""
    candidates = [reason.target_response_minutes, shape_for(account.shape).max_response_minutes]
    if account.channel.support_sla_minutes:
        candidates.append(account.channel.support_sla_minutes)
    return min(candidates)


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
    """Open an exception, or return the one already unresolved for (account, reason)."""
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
    stays true when the event reaches us late; never before the exception opened."""
    if exception.status == ExceptionStatus.RESOLVED:
        return exception
    exception.status = ExceptionStatus.RESOLVED
    exception.resolved_at = max(resolved_at or timezone.now(), exception.opened_at)
    exception.resolution_note = note
    exception.save()
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
def exception_resolve(*, exception: OpsException, note: str, actor) -> OpsException:
    if not note or not note.strip():
        raise ValidationFailed("resolution_note_required", "A resolution note is required.")
    exception = OpsException.objects.select_for_update().get(pk=exception.pk)
    if exception.status == ExceptionStatus.RESOLVED:
        raise Conflict("exception_already_resolved", "This exception is already resolved.")
    if exception.first_response_at is None:
        exception.first_response_at = timezone.now()
    return exception_resolve_locked(exception, note=note.strip())


@service
def exception_set_status(*, exception: OpsException, status: str, actor) -> OpsException:
    """Move an exception between its working states; resolving goes through exception_resolve."""
    if status not in ExceptionStatus.values or status == ExceptionStatus.RESOLVED:
        raise ValidationFailed("invalid_status", f"Cannot set status {status!r} here.")
    exception = OpsException.objects.select_for_update().get(pk=exception.pk)
    if exception.status == ExceptionStatus.RESOLVED:
        raise Conflict("exception_already_resolved", "This exception is already resolved.")
    exception.status = status
    if exception.first_response_at is None and status != ExceptionStatus.OPEN:
        exception.first_response_at = timezone.now()
    exception.save()
    return exception


# --- Review -------------------------------------------------------------------------------


@service
def account_approve(*, account: Account, note: str = "", actor) -> Account:
    """A staff member approves an account that is under review (enterprise, identity review)."""
    account = Account.objects.select_for_update().get(pk=account.pk)
    step = ProvisioningStep.objects.filter(account=account, step=ProvisioningStepName.APPROVE).first()
    if step is None:
        raise Conflict("approval_not_required", "This account does not need approval.")
    if step.status == StepStatus.SUCCEEDED:
        raise Conflict("already_approved", "This account is already approved.")
    now = timezone.now()
    new_rows = _insert_events(
        account=account,
        events=[
            EventInput(
                event_id=f"{SYSTEM_EVENT_ID_PREFIX}account.approved:{account.external_id}",
                type="account.approved",
                occurred_at=now,
                source=EventSource.OPS,
                payload={"approved_by": actor.get_username(), "note": note},
            )
        ],
        actor=actor,
    )
    _apply_events(account=account, new_events=new_rows, actor=actor)
    return account


# --- Catalogue edits (console) ------------------------------------------------------------

CHANNEL_EDITABLE_FIELDS = ("name", "kind", "partner_name", "support_sla_minutes", "managed_onboarding")
# Ops leads tune what customers read; the code, layer and team stay as the code expects them.
REASON_CODE_EDITABLE_FIELDS = ("title", "customer_message", "customer_next_action")


def _apply_changes(obj, changes: dict, allowed: tuple[str, ...]) -> None:
    refused = sorted(set(changes) - set(allowed))
    if refused:
        raise ValidationFailed(
            "field_not_editable",
            f"These fields cannot be changed here: {', '.join(refused)}.",
            {"fields": refused},
        )
    for name, value in changes.items():
        setattr(obj, name, value)
    try:
        obj.full_clean()
    except DjangoValidationError as exc:
        raise ValidationFailed("invalid_fields", "Some values are not valid.", exc.message_dict) from exc
    obj.save()


@service
def channel_create(
    *,
    code: str,
    name: str,
    kind: str,
    partner_name: str = "",
    support_sla_minutes: int | None = None,
    managed_onboarding: bool = False,
    actor,
) -> Channel:
    try:
        with transaction.atomic():
            return Channel.objects.create(
                code=code,
                name=name,
                kind=kind,
                partner_name=partner_name,
                support_sla_minutes=support_sla_minutes,
                managed_onboarding=managed_onboarding,
            )
    except IntegrityError as exc:
        raise Conflict("channel_exists", f"A channel with code {code!r} already exists.") from exc


@service
def channel_update(*, channel: Channel, changes: dict, actor) -> Channel:
    channel = Channel.objects.select_for_update().get(pk=channel.pk)
    _apply_changes(channel, changes, CHANNEL_EDITABLE_FIELDS)
    return channel


@service
def reason_code_update(*, reason_code: ReasonCode, changes: dict, actor) -> ReasonCode:
    reason_code = ReasonCode.objects.select_for_update().get(pk=reason_code.pk)
    _apply_changes(reason_code, changes, REASON_CODE_EDITABLE_FIELDS)
    return reason_code


# --- Plan changes (the reassign_plan guarded action) ----------------------------------------


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
def account_event_note(*, account: Account, type: str, payload: dict, actor) -> AccountEvent:
    """Append an ops event (something staff did) to the account's timeline."""
    event_id = f"{SYSTEM_EVENT_ID_PREFIX}{type}:{account.pk}:{uuid.uuid4().hex}"
    (row,) = _insert_events(
        account=account,
        events=[
            EventInput(
                event_id=event_id,
                type=type,
                occurred_at=timezone.now(),
                source=EventSource.OPS,
                payload=payload,
            )
        ],
        actor=actor,
    )
    return row


@service
def account_mark_duplicate(*, account: Account, canonical: Account, actor) -> Account:
    """Link a duplicate to its canonical account and close the duplicate's open exceptions."""
    if canonical.pk == account.pk:
        raise ValidationFailed("duplicate_of_itself", "An account cannot duplicate itself.")
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
