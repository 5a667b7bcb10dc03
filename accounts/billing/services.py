"""Writes for billing: account billing fields from Stripe, and drift as exceptions.

Stripe is the system of record for the fields whose ``*_source`` says so; only those are
written from Stripe (with a timeline event). Every other disagreement becomes a
``BillingDrift`` with the evidence from both sides and one open ``OpsException``.
Stripe events come in through ``stripe_events``, reconciliation pages through
``reconciliation``; both settle here. The fixes a person chooses are in ``fixes``.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.billing.rules import (
    FIX_ACTIONS,
    OWNED_SUBSCRIPTION_FIELDS,
    STRIPE_ONLY_FIELDS,
    json_value,
    subscription_state,
)
from accounts.choices import (
    BillingStatus,
    DriftKind,
    DriftStatus,
    EventSource,
    ReconciliationTarget,
    SystemOfRecord,
)
from accounts.models import Account, BillingDrift, OpsException, ReasonCode
from accounts.services import (
    EventInput,
    account_events_record,
    exception_open_locked,
    exception_resolve_locked,
    insert_timeline_rows,
)
from accounts.shapes import EVENT_STEP_TRANSITIONS, PLANS
from opsconsole.actions.recorder import current_recorder
from opsconsole.bulk import update_rows_with_history
from opsconsole.history import current_actor

# --- Account writes -----------------------------------------------------------------------


class AccountWrites:
    """Account field changes and timeline rows, held back and written together.

    A reconciliation page may change every account it names (the first sync links 10,000
    customers and writes five Stripe-owned fields on each). Saved one by one that is an
    UPDATE, a history INSERT and an event INSERT per account; held here it is one of each
    per page. The accounts must be locked and read again by the caller, so writing the union
    of the changed fields on every one of them writes only values they already hold.

    Under an effect recorder (a guarded action, or its dry run) rows are saved one by one,
    because the recorder listens to ``save()``.
    """

    def __init__(self):
        self._fields: dict[int, tuple[Account, set[str]]] = {}
        self._events: list[tuple[Account, EventInput]] = []

    def save(self, account: Account, fields: list[str]) -> None:
        _, pending = self._fields.setdefault(account.pk, (account, set()))
        pending.update(fields)

    def event(self, account: Account, event: EventInput) -> None:
        self._events.append((account, event))

    def flush(self) -> None:
        actor = current_actor()
        pending = list(self._fields.values())
        self._fields = {}
        one_by_one = (
            len(pending) < 2
            or current_recorder() is not None
            or any(account.get_deferred_fields() for account, _ in pending)
        )
        if one_by_one:
            for account, fields in pending:
                account.save(update_fields=[*sorted(fields), "updated_at"])
        else:
            now = timezone.now()
            for account, _ in pending:
                account.updated_at = now
            names = sorted(set().union(*(fields for _, fields in pending)) | {"updated_at"})
            update_rows_with_history([account for account, _ in pending], names)
        events, self._events = self._events, []
        insert_timeline_rows(events=events, actor=actor, return_rows=False)


def customer_link(
    *, account: Account, customer_id: str, by: str, writes: AccountWrites | None = None
) -> None:
    """Record that this Stripe customer is the account's (a Stripe-owned id), on its timeline.
    The account is locked by the caller; with ``writes`` the rows wait for its flush."""
    own_writes = writes is None
    writes = writes or AccountWrites()
    account.stripe_customer_id = customer_id
    account.billing_synced_at = timezone.now()
    writes.save(account, ["stripe_customer_id", "billing_synced_at"])
    billing_event_intake(
        account=account,
        event_id=f"stripe:customer.linked:{customer_id}",
        type="billing.customer_linked",
        occurred_at=timezone.now(),
        payload={"stripe_customer_id": customer_id, "by": by},
        writes=writes,
    )
    if own_writes:
        writes.flush()


def billing_event_intake(
    *,
    account: Account,
    event_id: str,
    type: str,
    occurred_at,
    payload: dict,
    writes: AccountWrites | None = None,
) -> None:
    """Put a billing event on the account's timeline (once per ``event_id``).

    Only ``subscription.cancelled`` moves provisioning or lifecycle state, so only it goes
    through the full event service (after the held-back writes, which it must see); the rest
    are plain timeline rows (the account row is already locked by the caller).
    """
    event = EventInput(
        event_id=event_id,
        type=type,
        occurred_at=occurred_at,
        source=EventSource.STRIPE,
        feature_area="billing",
        payload=payload,
    )
    if type in EVENT_STEP_TRANSITIONS or type == "subscription.cancelled":
        if writes is not None:
            writes.flush()
        account_events_record(account=account, events=[event], actor=current_actor())
        # It saved its own copy of the row (lifecycle); later history rows start from that.
        account.refresh_from_db()
    elif writes is not None:
        writes.event(account, event)
    else:
        insert_timeline_rows(events=[(account, event)], actor=current_actor())


# --- Drift --------------------------------------------------------------------------------


def drift_open(
    *,
    system: str,
    kind: str,
    subject: str,
    account: Account | None,
    field: str = "",
    ours: dict,
    theirs: dict,
    summary: str,
    run=None,
) -> tuple[BillingDrift, bool]:
    """Open the drift (or refresh the one already open) and keep exactly one open exception."""
    now = timezone.now()
    fix_action = FIX_ACTIONS.get(kind, "")
    drift = (
        BillingDrift.objects.select_for_update()
        .filter(system=system, kind=kind, subject=subject, status=DriftStatus.OPEN)
        .first()
    )
    created = drift is None
    if created:
        try:
            with transaction.atomic():
                drift = BillingDrift.objects.create(
                    system=system,
                    kind=kind,
                    subject=subject,
                    account=account,
                    field=field,
                    ours=ours,
                    theirs=theirs,
                    fix_action=fix_action,
                    opened_at=now,
                    last_seen_at=now,
                    opened_by_run=run,
                )
        except IntegrityError:
            created = False
            drift = BillingDrift.objects.select_for_update().get(
                system=system, kind=kind, subject=subject, status=DriftStatus.OPEN
            )
    if not created:
        drift.ours, drift.theirs, drift.last_seen_at = ours, theirs, now
    if account is not None and (drift.exception_id is None or not drift.exception.is_open):
        drift.exception = exception_open_locked(
            account=account,
            reason=ReasonCode.objects.get(code=kind),
            summary=summary,
            evidence={
                "drift_id": drift.pk,
                "field": field,
                "opsconsole": ours,
                system: theirs,
                "fix_action": fix_action,
            },
        )
    drift.save()
    return drift, created


def drift_resolve(drift: BillingDrift, *, note: str) -> bool:
    """Resolve an open drift (already locked by the caller's query) and its exception."""
    if drift.status != DriftStatus.OPEN:
        return False
    drift.status = DriftStatus.RESOLVED
    drift.resolved_at = timezone.now()
    drift.resolution_note = note
    drift.save()
    if drift.exception_id is not None:
        exception = OpsException.objects.select_for_update().get(pk=drift.exception_id)
        exception_resolve_locked(exception, note=note)
    return True


def duplicate_customer_drift_open(
    *, account: Account, customer_ids: set[str] | list[str], run=None
) -> tuple[BillingDrift, bool]:
    """Report that several Stripe customers name one account; the account keeps its link."""
    customers = sorted(set(customer_ids))
    return drift_open(
        system=ReconciliationTarget.STRIPE,
        kind=DriftKind.DUPLICATE_CUSTOMER,
        subject=account.external_id,
        account=account,
        field="stripe_customer_id",
        ours={"stripe_customer_id": account.stripe_customer_id},
        theirs={"stripe_customer_ids": customers},
        summary=f"{len(customers)} Stripe customers for this account: {', '.join(customers)}",
        run=run,
    )


def drift_resolve_unseen(*, system: str, run) -> int:
    """Drift a complete scan did not see again is fixed: resolve it with a note."""
    stale = BillingDrift.objects.select_for_update().filter(
        system=system, status=DriftStatus.OPEN, last_seen_at__lt=run.started_at
    )
    note = (
        f"Resolved automatically: reconciliation run #{run.pk} ({run.started_at:%Y-%m-%d %H:%M} UTC) "
        "found the two sides in agreement."
    )
    return sum(drift_resolve(drift, note=note) for drift in stale)


def subscription_drift_lock(accounts: list[Account]) -> dict[str, dict[str, BillingDrift]]:
    """Open Stripe drift of these accounts, by external id then kind, locked (one query)."""
    by_subject: dict[str, dict[str, BillingDrift]] = {}
    rows = BillingDrift.objects.select_for_update().filter(
        system=ReconciliationTarget.STRIPE,
        status=DriftStatus.OPEN,
        subject__in=[a.external_id for a in accounts],
    )
    for drift in rows:
        by_subject.setdefault(drift.subject, {})[drift.kind] = drift
    return by_subject


# --- Subscriptions ------------------------------------------------------------------------


@dataclass
class SettleResult:
    corrected: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    opened: int = 0
    refreshed: int = 0
    resolved: int = 0

    @property
    def mismatches(self) -> int:
        return len(self.corrected) + self.opened + self.refreshed


def subscription_settle(
    *,
    account: Account,
    subscription: dict,
    observed_at: datetime,
    open_drift: dict[str, BillingDrift],
    origin: str,
    run=None,
    writes: AccountWrites | None = None,
) -> SettleResult:
    """Make the account agree with a subscription where Stripe owns the field, and turn every
    other difference into drift. ``account`` is locked; ``open_drift`` maps kind -> the
    account's open subscription drift (the caller loads it, one query for a whole page).
    With ``writes`` the account's changes wait for its flush (a reconciliation page)."""
    own_writes = writes is None
    writes = writes or AccountWrites()
    result = SettleResult()
    theirs = subscription_state(subscription)
    for name in STRIPE_ONLY_FIELDS:
        if getattr(account, name) != theirs[name]:
            result.corrected[name] = (getattr(account, name), theirs[name])
    for owned in OWNED_SUBSCRIPTION_FIELDS:
        name, kind = owned.name, owned.drift_kind
        ours_value = getattr(account, name)
        # A Stripe plan we do not know cannot be written; it is reported instead.
        writable = name != "plan" or theirs[name] in PLANS
        stripe_owned = owned.system_of_record(account) == SystemOfRecord.STRIPE and writable
        if ours_value == theirs[name]:
            pass
        elif stripe_owned:
            result.corrected[name] = (ours_value, theirs[name])
            continue
        elif kind is not None:
            _, created = drift_open(
                system=ReconciliationTarget.STRIPE,
                kind=kind,
                subject=account.external_id,
                account=account,
                field=name,
                ours={name: json_value(ours_value), "system_of_record": owned.system_of_record(account)},
                theirs={name: json_value(theirs[name]), "subscription": subscription["id"]},
                summary=f"{name}: {json_value(ours_value)} here, {json_value(theirs[name])} in Stripe",
                run=run,
            )
            result.opened += created
            result.refreshed += not created
            continue
        if kind is not None and kind in open_drift:
            result.resolved += drift_resolve(
                open_drift[kind],
                note=f"Resolved automatically by {origin}: {name} now agrees with Stripe "
                f"({json_value(theirs[name])}).",
            )
    if DriftKind.NO_SUBSCRIPTION in open_drift:
        result.resolved += drift_resolve(
            open_drift[DriftKind.NO_SUBSCRIPTION],
            note=f"Resolved automatically by {origin}: subscription {subscription['id']} found.",
        )
    if result.corrected:
        for name, (_, new) in result.corrected.items():
            setattr(account, name, new)
        account.stripe_state_at = max(filter(None, [account.stripe_state_at, observed_at]))
        account.billing_synced_at = timezone.now()
        writes.save(account, [*result.corrected, "stripe_state_at", "billing_synced_at"])
        billing_event_intake(
            account=account,
            event_id=f"{origin}:billing.synced:{subscription['id']}:{int(observed_at.timestamp())}"
            f":{_fingerprint(result.corrected)}",
            type="billing.synced_from_stripe",
            occurred_at=observed_at,
            payload={
                "origin": origin,
                "subscription": subscription["id"],
                "changes": {
                    k: {"from": json_value(a), "to": json_value(b)} for k, (a, b) in result.corrected.items()
                },
            },
            writes=writes,
        )
        if result.corrected.get("billing_status", (None, None))[1] == BillingStatus.CANCELED:
            # The product's own vocabulary for the end of a subscription (moves the lifecycle),
            # once per subscription whichever event or run noticed it first.
            billing_event_intake(
                account=account,
                event_id=f"stripe:subscription.cancelled:{subscription['id']}",
                type="subscription.cancelled",
                occurred_at=observed_at,
                payload={"subscription": subscription["id"], "origin": origin},
                writes=writes,
            )
    if own_writes:
        writes.flush()
    return result


def _fingerprint(changes: dict) -> str:
    text = repr(sorted((k, json_value(b)) for k, (_, b) in changes.items()))
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()
