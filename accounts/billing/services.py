"""Writes for billing: Stripe events in, account billing fields, and drift as exceptions.

Stripe is the system of record for the fields whose ``*_source`` says so; only those are
written from Stripe (with a timeline event). Every other disagreement becomes a
``BillingDrift`` with the evidence from both sides and one open ``OpsException``.
"""

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.billing import crm, stripe_gateway
from accounts.choices import (
    BillingStatus,
    DriftKind,
    DriftStatus,
    EventSource,
    ReconciliationTarget,
    StripeEventStatus,
    SystemOfRecord,
)
from accounts.models import Account, BillingDrift, OpsException, ReasonCode, StripeEvent
from accounts.services import (
    EventInput,
    account_event_note,
    account_events_record,
    exception_open_locked,
    exception_resolve_locked,
    insert_timeline_rows,
)
from accounts.shapes import EVENT_STEP_TRANSITIONS, PLANS
from opsconsole.actions.recorder import current_recorder
from opsconsole.bulk import update_rows_with_history
from opsconsole.history import current_actor, service

logger = logging.getLogger("accounts.billing")

SYSTEM_STRIPE = "system:stripe"

STRIPE_STATUS_TO_BILLING = {
    "trialing": BillingStatus.TRIALING,
    "active": BillingStatus.ACTIVE,
    "past_due": BillingStatus.PAST_DUE,
    "unpaid": BillingStatus.UNPAID,
    "canceled": BillingStatus.CANCELED,
    "incomplete": BillingStatus.INCOMPLETE,
    "incomplete_expired": BillingStatus.CANCELED,
    "paused": BillingStatus.UNPAID,
}
LIVE_BILLING_STATUSES = (BillingStatus.TRIALING, BillingStatus.ACTIVE, BillingStatus.PAST_DUE)
# Stripe subscription statuses that still bill (or may): one of these is a live subscription.
STRIPE_LIVE_SUBSCRIPTION = ("trialing", "active", "past_due", "unpaid", "incomplete")

# Which account field each drift class compares, the field saying who owns it, and the
# guarded action that fixes it when the product (not Stripe) is right.
SUBSCRIPTION_FIELDS = {
    "plan": ("plan_source", DriftKind.PLAN, "reassign_plan"),
    "billing_status": ("billing_status_source", DriftKind.BILLING_STATUS, "adopt_stripe_value"),
    "trial_ends_at": ("trial_end_source", DriftKind.TRIAL_END, "adopt_stripe_value"),
    "renews_at": ("renewal_source", None, ""),
}
# Identifiers and amounts only Stripe can know: always taken from Stripe.
STRIPE_ONLY_FIELDS = ("stripe_subscription_id", "mrr_cents")

# The guarded action each drift kind names as its fix (the exception page offers it).
FIX_ACTIONS = {
    **{kind: action for _, kind, action in SUBSCRIPTION_FIELDS.values() if kind},
    DriftKind.NO_SUBSCRIPTION: "end_product_billing",
    # On the account the record belongs to: the drift itself has no account.
    DriftKind.UNMATCHED: "link_stripe_customer",
    DriftKind.DUPLICATE_CUSTOMER: "merge_stripe_customers",
    # The CRM mirrors us: whatever field disagrees, the fix is to push our value there.
    **dict.fromkeys(crm.DRIFT_KINDS.values(), "push_to_crm"),
}


def epoch_to_datetime(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


# --- Locks --------------------------------------------------------------------------------


def lock_stripe_key(key: str) -> None:
    """Serialise work on one Stripe object across processes until the transaction ends.

    Two webhooks about a new customer may arrive at once; both would link it. A transaction
    advisory lock on a hash of the id makes the second wait and then see the first's link.
    SQLite (``make run``) serialises writers anyway.
    """
    if connection.vendor != "postgresql" or not key:
        return
    digest = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [digest])


def account_for_stripe_customer(*, customer_id: str, account_external_id: str = "") -> Account | None:
    """The account a Stripe customer belongs to, locked: by linked id, else by the external
    id the customer (or checkout session) names, linking it on first sight."""
    lock_stripe_key(customer_id)
    candidates = list(
        Account.objects.select_for_update(of=("self",))
        .select_related("channel")
        .filter(Q(stripe_customer_id=customer_id) | Q(external_id=account_external_id or None))
        .order_by("pk")
    )
    linked = next((a for a in candidates if customer_id and a.stripe_customer_id == customer_id), None)
    if linked is not None:
        return linked
    if not candidates and customer_id and not account_external_id:
        # Events about one customer arrive in any order: a subscription may come before the
        # customer.created that names the account. Stripe's customer record says which.
        account_external_id = _account_named_by_customer(customer_id)
        if account_external_id:
            candidates = list(
                Account.objects.select_for_update(of=("self",))
                .select_related("channel")
                .filter(external_id=account_external_id)
            )
    named = next((a for a in candidates if a.external_id == account_external_id), None)
    if named is None or not customer_id:
        return named
    if named.stripe_customer_id:
        # The account already has another customer: that is drift, not a silent relink.
        drift_open(
            system=ReconciliationTarget.STRIPE,
            kind=DriftKind.DUPLICATE_CUSTOMER,
            subject=named.external_id,
            account=named,
            field="stripe_customer_id",
            ours={"stripe_customer_id": named.stripe_customer_id},
            theirs={"stripe_customer_ids": sorted({named.stripe_customer_id, customer_id})},
            summary=f"Stripe customers {named.stripe_customer_id} and {customer_id} both name this account",
        )
        return named
    link_customer(account=named, customer_id=customer_id, by="Stripe webhook")
    return named


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


def link_customer(
    *, account: Account, customer_id: str, by: str, writes: AccountWrites | None = None
) -> None:
    """Record that this Stripe customer is the account's (a Stripe-owned id), on its timeline.
    The account is locked by the caller; with ``writes`` the rows wait for its flush."""
    own_writes = writes is None
    writes = writes or AccountWrites()
    account.stripe_customer_id = customer_id
    account.billing_synced_at = timezone.now()
    writes.save(account, ["stripe_customer_id", "billing_synced_at"])
    record_billing_event(
        account=account,
        event_id=f"stripe:customer.linked:{customer_id}",
        type="billing.customer_linked",
        occurred_at=timezone.now(),
        payload={"stripe_customer_id": customer_id, "by": by},
        writes=writes,
    )
    if own_writes:
        writes.flush()


def _account_named_by_customer(customer_id: str) -> str:
    try:
        customer = stripe_gateway.customer_retrieve(customer_id)
    except stripe_gateway.StripeNotFound:
        return ""
    return metadata_account(customer)


def record_billing_event(
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


# --- Fixes a person chose (the guarded actions in accounts/billing_actions.py) ------------


def _resolve_fixed(exception: OpsException, *, note: str) -> None:
    """Resolve the exception and the drift it was opened for, with the same note."""
    drift = (
        BillingDrift.objects.select_for_update().filter(exception=exception, status=DriftStatus.OPEN).first()
    )
    if drift is not None:
        drift_resolve(drift, note=note)
    else:
        exception_resolve_locked(OpsException.objects.select_for_update().get(pk=exception.pk), note=note)


@service
def billing_value_adopt(
    *, exception: OpsException, field: str, value, subscription_id: str, note: str, actor
):
    """Take Stripe's value for a field the product owns, once a person has compared the two;
    the field stays the product's, so later differences are reported again."""
    account = Account.objects.select_for_update().get(pk=exception.account_id)
    previous = getattr(account, field)
    setattr(account, field, value)
    account.billing_synced_at = timezone.now()
    account.save()
    account_event_note(
        account=account,
        type="billing.value_adopted_from_stripe",
        payload={
            "field": field,
            "from": _json_value(previous),
            "to": _json_value(value),
            "subscription": subscription_id,
            "exception": exception.pk,
        },
        actor=actor,
    )
    _resolve_fixed(exception, note=note)
    return account


@service
def billing_end_without_subscription(*, exception: OpsException, note: str, actor):
    """Stop counting the account as billed: Stripe has no subscription for it."""
    account = Account.objects.select_for_update().get(pk=exception.account_id)
    previous = {
        "billing_status": account.billing_status,
        "stripe_subscription_id": account.stripe_subscription_id,
        "mrr_cents": account.mrr_cents,
    }
    account.billing_status = BillingStatus.CANCELED
    account.stripe_subscription_id = ""
    account.mrr_cents = 0
    account.billing_synced_at = timezone.now()
    account.save()
    account_event_note(
        account=account,
        type="billing.ended_without_subscription",
        payload={"before": previous, "exception": exception.pk},
        actor=actor,
    )
    _resolve_fixed(exception, note=note)
    return account


@service
def stripe_customers_merge(*, exception: OpsException, keep: str, removed: list[str], note: str, actor):
    """Keep one of the account's Stripe customers. The action deletes the others in Stripe
    last, so a failure there rolls this back."""
    account = Account.objects.select_for_update().get(pk=exception.account_id)
    if account.stripe_customer_id != keep:
        account.stripe_customer_id = keep
        account.billing_synced_at = timezone.now()
        account.save()
    account_event_note(
        account=account,
        type="billing.customers_merged",
        payload={"kept": keep, "removed": removed, "exception": exception.pk},
        actor=actor,
    )
    _resolve_fixed(exception, note=note)
    return account


@service
def stripe_customer_link_by_hand(*, account: Account, customer_id: str, note: str, actor) -> Account:
    """Link a Stripe customer no account claimed to the account a person says it is, and
    resolve the drift that reported it."""
    account = Account.objects.select_for_update().get(pk=account.pk)
    link_customer(account=account, customer_id=customer_id, by=str(actor))
    unmatched = BillingDrift.objects.select_for_update().filter(
        system=ReconciliationTarget.STRIPE,
        kind=DriftKind.UNMATCHED,
        subject=customer_id,
        status=DriftStatus.OPEN,
    )
    for drift in unmatched:
        drift.account = account
        drift_resolve(drift, note=note)
    return account


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


def subscription_state(subscription: dict) -> dict[str, Any]:
    """The account fields a Stripe subscription implies."""
    item = stripe_gateway.subscription_item(subscription) or {}
    pricing = item.get("price") or item.get("plan") or {}
    amount = (pricing.get("unit_amount") or pricing.get("amount") or 0) * (item.get("quantity") or 1)
    interval = (pricing.get("recurring") or {}).get("interval") or pricing.get("interval") or "month"
    monthly = amount // 12 if interval == "year" else amount
    period_end = subscription.get("current_period_end") or item.get("current_period_end")
    status = STRIPE_STATUS_TO_BILLING.get(subscription.get("status"), BillingStatus.INCOMPLETE)
    return {
        "plan": stripe_gateway.subscription_plan_code(subscription) or "",
        "billing_status": status,
        "trial_ends_at": epoch_to_datetime(subscription.get("trial_end")),
        "renews_at": epoch_to_datetime(period_end),
        "stripe_subscription_id": subscription["id"],
        "mrr_cents": monthly if status in LIVE_BILLING_STATUSES else 0,
    }


def subscription_agrees(account: Account, subscription: dict) -> bool:
    """Whether every field a subscription implies already has that value on the account."""
    theirs = subscription_state(subscription)
    return all(getattr(account, name) == value for name, value in theirs.items())


def settle_subscription(
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
    for name, (source_field, kind, _action) in SUBSCRIPTION_FIELDS.items():
        ours_value = getattr(account, name)
        # A Stripe plan we do not know cannot be written; it is reported instead.
        writable = name != "plan" or theirs[name] in PLANS
        stripe_owned = getattr(account, source_field) == SystemOfRecord.STRIPE and writable
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
                ours={name: _json_value(ours_value), "system_of_record": getattr(account, source_field)},
                theirs={name: _json_value(theirs[name]), "subscription": subscription["id"]},
                summary=f"{name}: {_json_value(ours_value)} here, {_json_value(theirs[name])} in Stripe",
                run=run,
            )
            result.opened += created
            result.refreshed += not created
            continue
        if kind is not None and kind in open_drift:
            result.resolved += drift_resolve(
                open_drift[kind],
                note=f"Resolved automatically by {origin}: {name} now agrees with Stripe "
                f"({_json_value(theirs[name])}).",
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
        record_billing_event(
            account=account,
            event_id=f"{origin}:billing.synced:{subscription['id']}:{int(observed_at.timestamp())}"
            f":{_fingerprint(result.corrected)}",
            type="billing.synced_from_stripe",
            occurred_at=observed_at,
            payload={
                "origin": origin,
                "subscription": subscription["id"],
                "changes": {
                    k: {"from": _json_value(a), "to": _json_value(b)}
                    for k, (a, b) in result.corrected.items()
                },
            },
            writes=writes,
        )
        if result.corrected.get("billing_status", (None, None))[1] == BillingStatus.CANCELED:
            # The product's own vocabulary for the end of a subscription (moves the lifecycle),
            # once per subscription whichever event or run noticed it first.
            record_billing_event(
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
    text = repr(sorted((k, _json_value(b)) for k, (_, b) in changes.items()))
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


def is_superseded(account: Account, subscription: dict) -> bool:
    """An ended subscription of an account that has another one now: history, not state."""
    other = account.stripe_subscription_id and account.stripe_subscription_id != subscription["id"]
    return bool(other) and subscription.get("status") in ("canceled", "incomplete_expired")


def open_subscription_drift(accounts: list[Account]) -> dict[str, dict[str, BillingDrift]]:
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


# --- Stripe events ------------------------------------------------------------------------


@service
def stripe_event_record(*, event: dict, via: str, dispatch: bool = True, actor) -> tuple[StripeEvent, bool]:
    """Store a Stripe event once by its id; a new one is queued for processing after commit
    (unless the caller applies it itself: ``dispatch=False``).

    Returns (the row, whether it is new). The unique ``stripe_id`` is what makes a
    redelivered or concurrently delivered event count once.
    """
    data_object = (event.get("data") or {}).get("object") or {}
    try:
        with transaction.atomic():
            row = StripeEvent.objects.create(
                stripe_id=event["id"],
                type=event.get("type", ""),
                created=epoch_to_datetime(event.get("created")) or timezone.now(),
                object_id=data_object.get("id", "") or "",
                payload=event,
                via=via,
            )
    except IntegrityError:
        return StripeEvent.objects.get(stripe_id=event["id"]), False
    if dispatch:
        transaction.on_commit(lambda: _dispatch_processing(row.pk))
    return row, True


def _dispatch_processing(stripe_event_id: int) -> None:
    """Queue processing; a failure here (or, when Celery runs eagerly, in the processing
    itself) must not fail the delivery: the event is stored, and the pending sweep retries it."""
    from accounts.billing.tasks import process_stripe_event

    try:
        process_stripe_event.delay(stripe_event_id)
    except Exception:
        logger.exception(
            "Processing Stripe event #%s failed; it stays pending for the sweep", stripe_event_id
        )


@service
def stripe_event_process(*, stripe_event: StripeEvent, actor) -> bool:
    """Apply a stored Stripe event to its account. True when it changed state.

    Idempotent: the event row is locked and processed once; a second call returns False.
    """
    event = StripeEvent.objects.select_for_update().get(pk=stripe_event.pk)
    if event.status in (StripeEventStatus.PROCESSED, StripeEventStatus.IGNORED):
        return False
    event.attempts += 1
    handler = EVENT_HANDLERS.get(event.type)
    if handler is None:
        changed, outcome, account = False, "no handler for this event type", None
        event.status = StripeEventStatus.IGNORED
    else:
        changed, outcome, account = handler(event)
        event.status = StripeEventStatus.PROCESSED if account is not None else StripeEventStatus.IGNORED
    event.account = account
    event.outcome = outcome[:300]
    event.processed_at = timezone.now()
    event.save()
    return changed


def _object(event: StripeEvent) -> dict:
    return event.payload["data"]["object"]


def metadata_account(obj: dict) -> str:
    """The account a Stripe object names in its metadata (our external id), or ""."""
    return (obj.get("metadata") or {}).get("account_external_id", "") or ""


def _on_customer(event: StripeEvent):
    customer = _object(event)
    account = account_for_stripe_customer(
        customer_id=customer["id"], account_external_id=metadata_account(customer)
    )
    if account is None:
        return False, "no account for this customer (reconciliation reports it)", None
    if event.type == "customer.deleted" and account.stripe_customer_id == customer["id"]:
        account.stripe_customer_id = ""
        account.billing_synced_at = timezone.now()
        account.save(update_fields=["stripe_customer_id", "billing_synced_at", "updated_at"])
    record_billing_event(
        account=account,
        event_id=f"stripe:{event.stripe_id}",
        type=f"billing.{event.type}",
        occurred_at=event.created,
        payload={"stripe_event": event.stripe_id, "customer": customer["id"]},
    )
    return True, f"{event.type} recorded", account


def _on_subscription(event: StripeEvent):
    subscription = _object(event)
    account = account_for_stripe_customer(
        customer_id=subscription.get("customer") or "", account_external_id=metadata_account(subscription)
    )
    if account is None:
        return False, "no account for this subscription's customer", None
    if is_superseded(account, subscription):
        return False, "an ended subscription the account has moved on from", account
    watermark = account.stripe_state_at
    if watermark is not None and event.created < watermark:
        return False, f"older than the applied state ({watermark:%Y-%m-%d %H:%M:%S}); skipped", account
    if watermark is not None and event.created == watermark:
        # Same second as what we applied: the order is unknown, so ask Stripe for the truth.
        subscription = stripe_gateway.subscription_retrieve(subscription["id"])
    open_drift = open_subscription_drift([account]).get(account.external_id, {})
    result = settle_subscription(
        account=account,
        subscription=subscription,
        observed_at=event.created,
        open_drift=open_drift,
        origin=f"Stripe event {event.stripe_id}",
    )
    changed = bool(result.corrected or result.opened or result.resolved)
    return changed, f"corrected {sorted(result.corrected)}; drift opened {result.opened}", account


def _on_invoice(event: StripeEvent):
    invoice = _object(event)
    account = account_for_stripe_customer(customer_id=invoice.get("customer") or "")
    if account is None:
        return False, "no account for this invoice's customer", None
    record_billing_event(
        account=account,
        event_id=f"stripe:{event.stripe_id}",
        type=f"billing.{event.type}",
        occurred_at=event.created,
        payload={
            "stripe_event": event.stripe_id,
            "invoice": invoice.get("id"),
            "amount_due": invoice.get("amount_due"),
            "attempt_count": invoice.get("attempt_count"),
        },
    )
    reason = ReasonCode.objects.get(code="payment_failed")
    if event.type == "invoice.payment_failed":
        exception = exception_open_locked(
            account=account,
            reason=reason,
            summary=f"Invoice {invoice.get('id')} payment failed",
            evidence={
                "invoice": invoice.get("id"),
                "amount_due": invoice.get("amount_due"),
                "stripe_event": event.stripe_id,
            },
            opened_at=event.created,
        )
        payment_failure_ticket_open(account=account, invoice=invoice, exception=exception)
        return True, f"payment_failed exception #{exception.pk}", account
    open_failure = OpsException.objects.select_for_update().filter(
        account=account, reason_code=reason, resolved_at__isnull=True
    )
    for exception in open_failure:
        exception_resolve_locked(
            exception, note=f"Resolved automatically: invoice {invoice.get('id')} paid ({event.stripe_id})."
        )
    return True, "invoice paid", account


def _on_checkout_completed(event: StripeEvent):
    session = _object(event)
    account = account_for_stripe_customer(
        customer_id=session.get("customer") or "",
        account_external_id=session.get("client_reference_id") or metadata_account(session),
    )
    if account is None:
        return False, "no account named by this checkout session", None
    subscription_id = session.get("subscription") or ""
    if subscription_id and not account.stripe_subscription_id:
        account.stripe_subscription_id = subscription_id
        account.save(update_fields=["stripe_subscription_id", "updated_at"])
    record_billing_event(
        account=account,
        event_id=f"stripe:{event.stripe_id}",
        type="billing.checkout_completed",
        occurred_at=event.created,
        payload={"session": session.get("id"), "subscription": subscription_id},
    )
    return True, "checkout linked", account


EVENT_HANDLERS = {
    "customer.created": _on_customer,
    "customer.updated": _on_customer,
    "customer.deleted": _on_customer,
    "customer.subscription.created": _on_subscription,
    "customer.subscription.updated": _on_subscription,
    "customer.subscription.deleted": _on_subscription,
    "invoice.paid": _on_invoice,
    "invoice.payment_succeeded": _on_invoice,
    "invoice.payment_failed": _on_invoice,
    "checkout.session.completed": _on_checkout_completed,
}


def payment_failure_ticket_open(*, account: Account, invoice: dict, exception: OpsException) -> None:
    """Open the payment-failure ticket through routing, idempotent on the invoice id; routing's
    rules decide its severity (sev1 for paid accounts)."""
    from routing.services import ticket_intake

    currency = str(invoice.get("currency") or "").upper()
    ticket_intake(
        source="stripe",
        external_id=f"payment_failed:{invoice.get('id')}",
        requester_email=account.admin_email,
        subject=f"Payment failed for {account.name}",
        body=f"Stripe invoice {invoice.get('id')} failed to collect "
        f"{(invoice.get('amount_due') or 0) / 100:.2f} {currency}. Exception #{exception.pk}.",
        account_external_id=account.external_id,
        error_code="payment_failed",
        feature_area="billing",
        actor=current_actor(),
    )
