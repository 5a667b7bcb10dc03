"""The fixes a person chose for billing drift, as writes (the guarded actions in ``actions``
decide when they apply and make the Stripe calls). Each resolves the drift it answers and its
exception with the same note.
"""

from django.utils import timezone

from accounts.billing.rules import json_value
from accounts.billing.services import customer_link, drift_resolve
from accounts.choices import BillingStatus, DriftKind, DriftStatus, ReconciliationTarget
from accounts.models import Account, BillingDrift, OpsException
from accounts.services import account_event_note, exception_resolve_locked
from opsconsole.history import service


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
            "from": json_value(previous),
            "to": json_value(value),
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
    customer_link(account=account, customer_id=customer_id, by=str(actor))
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
