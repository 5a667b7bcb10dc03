"""The account timeline: product, Stripe and ops events, recorded once each by ``event_id``."""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from accounts.choices import EventSource
from accounts.eventflags import BASIS_PK, EventFlagBasis, before_signup_q, is_before_signup, is_late, late_q
from accounts.models import Account, AccountEvent, ReasonCode
from accounts.rejections import RejectedEvent
from accounts.services.provisioning import account_events_apply
from accounts.shapes import EVENT_STEP_TRANSITIONS, is_failure_event
from accounts.signals import account_events_recorded
from opsconsole.actions.recorder import current_recorder, record_created
from opsconsole.bulk import insert_rows
from opsconsole.history import service

# Event ids opsconsole writes itself start with this; the API refuses it from outside.
SYSTEM_EVENT_ID_PREFIX = "opsconsole:"


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


def insert_timeline_rows(
    *, events: list[tuple[Account, EventInput]], actor, return_rows: bool = True
) -> list[AccountEvent]:
    """Insert timeline rows for any number of accounts in one statement, skipping known
    ``event_id``s; returns the new rows (unless ``return_rows`` is false: then they are not
    read back). Nothing is applied to provisioning or lifecycle: that is
    ``account_events_record``'s work (``account_events_apply``)."""
    if not events:
        return []
    # A repeat inside one batch is a duplicate like any other: the first delivery wins, and
    # its reason code must not be taken from a later copy with the same id.
    first_by_id: dict[str, tuple[Account, EventInput]] = {}
    for account, e in events:
        first_by_id.setdefault(e.event_id, (account, e))
    intake_id = uuid.uuid4()
    reason_codes = _reason_codes_for([e for _, e in first_by_id.values()])
    # One recorded_at for the batch, stored as decided: the data-quality flags are decided from
    # it here, once (accounts/eventflags.py; the account's signed_up_at never changes).
    recorded_at = timezone.now()
    rows = [
        AccountEvent(
            event_id=e.event_id,
            account=account,
            channel_id=account.channel_id,
            source=e.source,
            type=e.type,
            occurred_at=e.occurred_at,
            recorded_at=recorded_at,
            before_signup=is_before_signup(
                source=e.source, occurred_at=e.occurred_at, signed_up_at=account.signed_up_at
            ),
            late=is_late(source=e.source, occurred_at=e.occurred_at, recorded_at=recorded_at),
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
    announce = account_events_recorded.has_listeners()
    if not return_rows and current_recorder() is None and not announce:
        return []
    new_rows = list(
        AccountEvent.objects.filter(intake_id=intake_id)
        .select_related("reason_code")
        .order_by("occurred_at", "id")
    )
    # bulk_create sends no signals; a guarded action's preview must still list the events.
    record_created(new_rows)
    if announce:
        _announce(new_rows, accounts={account.pk: account for account, _ in first_by_id.values()})
    return new_rows


def _announce(rows: list[AccountEvent], *, accounts: dict[int, Account]) -> None:
    """Tell the layers above which rows each account's timeline gained (reports' facts)."""
    by_account: dict[int, list[AccountEvent]] = defaultdict(list)
    for row in rows:
        by_account[row.account_id].append(row)
    for account_id, account_rows in by_account.items():
        account_events_recorded.send(sender=Account, account=accounts[account_id], events=account_rows)


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
    new_rows = insert_timeline_rows(events=[(account, e) for e in events], actor=actor)
    result = EventIntakeResult(accepted=len(new_rows), duplicates=len(events) - len(new_rows))
    if new_rows:
        account_events_apply(account=account, new_events=new_rows, actor=actor)
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


@service
def account_event_note(*, account: Account, type: str, payload: dict, actor) -> AccountEvent:
    """Append an ops event (something staff did) to the account's timeline."""
    event_id = f"{SYSTEM_EVENT_ID_PREFIX}{type}:{account.pk}:{uuid.uuid4().hex}"
    note = EventInput(
        event_id=event_id, type=type, occurred_at=timezone.now(), source=EventSource.OPS, payload=payload
    )
    (row,) = insert_timeline_rows(events=[(account, note)], actor=actor)
    return row


@dataclass
class Rejection:
    """One event the intake refused: what it named, and why."""

    reason: str
    errors: dict
    event_id: str = ""
    account_ref: str = ""
    type: str = ""
    occurred_at: datetime | None = None


@service
def rejected_events_record(*, rejections: list[Rejection], actor) -> None:
    """Keep the intake's refusals (the data-quality panel counts them); a refusal delivered
    again is kept once (unique event id and reason)."""
    now = timezone.now()
    rows = [
        RejectedEvent(
            event_id=r.event_id[:200],
            account_ref=r.account_ref[:200],
            type=r.type[:64],
            occurred_at=r.occurred_at,
            reason=r.reason,
            errors=r.errors,
            received_at=now,
            received_by=actor,
        )
        for r in rejections
    ]
    insert_rows(rows, ignore_conflicts=True)


@service
def event_flags_rebuild(*, actor) -> dict[str, int]:
    """Decide every event's data-quality flags again from its stored times, with today's
    ``REPORTS_LATE_EVENT_HOURS``, and record that threshold as the flags' basis (the panel
    reads the ``late`` flags only while the basis equals the setting). Run it after changing
    the setting (``manage.py rebuild_event_flags``); returns the rows changed per flag."""
    rules = {"late": late_q(), "before_signup": before_signup_q()}
    changed = {}
    for flag, rule in rules.items():
        # Off where the rule no longer holds (through the partial index of the flagged rows),
        # then on where it holds and the flag is off.
        cleared = AccountEvent.objects.filter(**{flag: True}).exclude(rule).update(**{flag: False})
        marked = AccountEvent.objects.filter(rule, **{flag: False}).update(**{flag: True})
        changed[flag] = cleared + marked
    EventFlagBasis.objects.update_or_create(
        pk=BASIS_PK,
        defaults={
            "late_event_hours": float(settings.REPORTS_LATE_EVENT_HOURS),
            "decided_at": timezone.now(),
        },
    )
    return changed
