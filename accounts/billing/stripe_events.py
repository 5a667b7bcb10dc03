"""Stripe events in: stored once by id (webhook or Events API), then applied to their account.

Handlers find the account a Stripe object belongs to (linking a new customer on first
sight), settle subscriptions through ``services``, record invoices on the timeline, and open
the payment-failure exception; routing hears of the failure through ``payment_failed``.
"""

import hashlib
import logging

from celery import current_app
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.billing import stripe_gateway
from accounts.billing.rules import epoch_to_datetime, subscription_superseded
from accounts.billing.services import (
    billing_event_intake,
    customer_link,
    duplicate_customer_drift_open,
    subscription_drift_lock,
    subscription_settle,
)
from accounts.billing.signals import payment_failed
from accounts.choices import StripeEventStatus
from accounts.models import Account, OpsException, ReasonCode, StripeEvent
from accounts.services import exception_open_locked, exception_resolve_locked
from opsconsole.history import current_actor, service

logger = logging.getLogger("accounts.billing")

SYSTEM_STRIPE = "system:stripe"
# The task that applies a stored event (accounts.billing.tasks), queued by name.
PROCESS_TASK = "accounts.process_stripe_event"


# --- Which account ------------------------------------------------------------------------


def _lock_stripe_key(key: str) -> None:
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


def _account_for_customer(*, customer_id: str, account_external_id: str = "") -> Account | None:
    """The account a Stripe customer belongs to, locked: by linked id, else by the external
    id the customer (or checkout session) names, linking it on first sight."""
    _lock_stripe_key(customer_id)
    candidates = list(
        Account.objects.select_for_update(of=("self",))
        .select_related("channel")
        .filter(Q(stripe_customer_id=customer_id or None) | Q(external_id=account_external_id or None))
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
        duplicate_customer_drift_open(account=named, customer_ids={named.stripe_customer_id, customer_id})
        return named
    customer_link(account=named, customer_id=customer_id, by="Stripe webhook")
    return named


def _account_named_by_customer(customer_id: str) -> str:
    try:
        customer = stripe_gateway.customer_retrieve(customer_id)
    except stripe_gateway.StripeNotFound:
        return ""
    return stripe_gateway.metadata_account(customer)


# --- Storing and applying -----------------------------------------------------------------


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
    itself) must not fail the delivery: the event is stored, and the pending sweep retries it.

    The task is looked up by name, not imported: the task module calls this one's services.
    The registered task runs eagerly when Celery does (``send_task`` never would)."""
    try:
        current_app.tasks[PROCESS_TASK].delay(stripe_event_id)
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


# --- Handlers: (changed, outcome, account) ------------------------------------------------


def _object(event: StripeEvent) -> dict:
    return event.payload["data"]["object"]


def _on_customer(event: StripeEvent):
    customer = _object(event)
    account = _account_for_customer(
        customer_id=customer["id"], account_external_id=stripe_gateway.metadata_account(customer)
    )
    if account is None:
        return False, "no account for this customer (reconciliation reports it)", None
    if event.type == "customer.deleted" and account.stripe_customer_id == customer["id"]:
        account.stripe_customer_id = ""
        account.billing_synced_at = timezone.now()
        account.save(update_fields=["stripe_customer_id", "billing_synced_at", "updated_at"])
    billing_event_intake(
        account=account,
        event_id=f"stripe:{event.stripe_id}",
        type=f"billing.{event.type}",
        occurred_at=event.created,
        payload={"stripe_event": event.stripe_id, "customer": customer["id"]},
    )
    return True, f"{event.type} recorded", account


def _on_subscription(event: StripeEvent):
    subscription = _object(event)
    account = _account_for_customer(
        customer_id=subscription.get("customer") or "",
        account_external_id=stripe_gateway.metadata_account(subscription),
    )
    if account is None:
        return False, "no account for this subscription's customer", None
    if subscription_superseded(account, subscription):
        return False, "an ended subscription the account has moved on from", account
    watermark = account.stripe_state_at
    if watermark is not None and event.created < watermark:
        return False, f"older than the applied state ({watermark:%Y-%m-%d %H:%M:%S}); skipped", account
    if watermark is not None and event.created == watermark:
        # Same second as what we applied: the order is unknown, so ask Stripe for the truth.
        subscription = stripe_gateway.subscription_retrieve(subscription["id"])
    open_drift = subscription_drift_lock([account]).get(account.external_id, {})
    result = subscription_settle(
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
    account = _account_for_customer(customer_id=invoice.get("customer") or "")
    if account is None:
        return False, "no account for this invoice's customer", None
    billing_event_intake(
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
        # Routing opens the ticket; it runs in this transaction, as a direct call would.
        payment_failed.send(
            sender=StripeEvent, account=account, invoice=invoice, exception=exception, actor=current_actor()
        )
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
    account = _account_for_customer(
        customer_id=session.get("customer") or "",
        account_external_id=session.get("client_reference_id") or stripe_gateway.metadata_account(session),
    )
    if account is None:
        return False, "no account named by this checkout session", None
    subscription_id = session.get("subscription") or ""
    if subscription_id and not account.stripe_subscription_id:
        account.stripe_subscription_id = subscription_id
        account.save(update_fields=["stripe_subscription_id", "updated_at"])
    billing_event_intake(
        account=account,
        event_id=f"stripe:{event.stripe_id}",
        type="billing.checkout_completed",
        occurred_at=event.created,
        payload={"session": session.get("id"), "subscription": subscription_id},
    )
    return True, "checkout linked", account


def _on_charge_issue(event: StripeEvent):
    """A refund or a dispute changes nothing opsconsole keeps (Stripe holds the money), but it
    is the account's: recorded against it, the refunds report and the journey's change step
    read it from the account. Found read-only, never by linking: a charge is no authority on
    whose customer is whose (``_account_for_charge``)."""
    account = _account_for_charge(_object(event))
    if account is None:
        return False, "no account for this charge (the refunds report lists it as unmatched)", None
    return False, f"{event.type} recorded for the account", account


def _account_for_charge(charge: dict) -> Account | None:
    """The account already linked to the charge's customer; else the one its metadata names;
    else, for a dispute (which names its charge, not a customer), the account an earlier event
    about that charge was recorded for."""
    customer = charge.get("customer") or ""
    if customer:
        linked = Account.objects.filter(stripe_customer_id=customer).first()
        if linked is not None:
            return linked
    named = stripe_gateway.metadata_account(charge)
    if named:
        found = Account.objects.filter(external_id=named).first()
        if found is not None:
            return found
    charge_id = charge.get("charge") or ""
    if not charge_id:
        return None
    earlier = StripeEvent.objects.filter(object_id=charge_id, account__isnull=False).select_related("account")
    found = earlier.first()
    return found.account if found is not None else None


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
    "charge.refunded": _on_charge_issue,
    "charge.dispute.created": _on_charge_issue,
}
# Event types this processor applies; the Events API listing stores only these.
HANDLED_EVENT_TYPES = frozenset(EVENT_HANDLERS)
