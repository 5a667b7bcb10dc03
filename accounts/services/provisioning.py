"""Provisioning: what recorded events do to an account's steps, exceptions, lifecycle and
activation. Events may arrive late, twice or out of order; the rules here keep state moving
forward only (invariant 4)."""

from django.db.models import Min, Q

from accounts.choices import UNRESOLVED_EXCEPTION_STATUSES, LifecycleStage, StepStatus
from accounts.models import Account, AccountEvent, OpsException, ProvisioningStep
from accounts.rules import step_failure_event_types
from accounts.services.exceptions import exception_open_locked, exception_resolve_locked
from accounts.shapes import EVENT_STEP_TRANSITIONS, shape_for


def account_events_apply(*, account: Account, new_events: list[AccountEvent], actor) -> None:
    """Apply events just added to the timeline. The caller holds the account's lock and runs
    in a service's transaction (``account_events_record``, ``account_approve``)."""
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


def _resolve_step_exceptions(*, account: Account, step: ProvisioningStep, event: AccountEvent) -> None:
    """A success fixes every problem this step had: the blocking exception and any earlier one
    a different failure of the same step opened (token expired, then permissions missing)."""
    unresolved = OpsException.objects.select_for_update(of=("self",)).filter(
        Q(pk=step.blocking_exception_id) | Q(opened_by_event__type__in=step_failure_event_types(step.step)),
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
    """Keep ``activated_at`` exact: the latest of the first occurrences of the shape's required
    event types, counting only events up to the shape's window (METRICS.md).

    Events arrive in any order. A late event dated before ``activated_at`` can move it
    earlier (it may be a new first occurrence), so it is read again from the timeline; an
    event dated after it cannot change any first occurrence, and is skipped without a query.
    """
    definition = shape_for(account.shape).activation
    required = definition.required_event_types
    deadline = account.signed_up_at + definition.window
    if not any(
        e.type in required
        and e.occurred_at <= deadline
        and (account.activated_at is None or e.occurred_at < account.activated_at)
        for e in new_events
    ):
        return  # nothing arrived that could set or move activation
    firsts = dict(
        AccountEvent.objects.filter(account=account, type__in=required, occurred_at__lte=deadline)
        .order_by()
        .values("type")
        .annotate(first=Min("occurred_at"))
        .values_list("type", "first")
    )
    if len(firsts) < len(required):
        return
    activated_at = max(firsts.values())
    if activated_at == account.activated_at:
        return
    account.activated_at = activated_at
    fields = ["activated_at", "updated_at"]
    if account.lifecycle_stage in (LifecycleStage.SIGNED_UP, LifecycleStage.ONBOARDING):
        account.lifecycle_stage = LifecycleStage.ACTIVATED
        fields.append("lifecycle_stage")
    account.save(update_fields=fields)
