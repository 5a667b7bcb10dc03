"""The guarded fixes each billing drift names, run against a real localstripe after a real
reconciliation: they re-read Stripe, refuse what no longer applies, and resolve the drift."""

import itertools

import pytest
import requests

from accounts.billing.rules import BILLING_FIELDS, FIX_ACTIONS
from accounts.choices import BillingStatus, DriftKind, DriftStatus
from accounts.models import AccountEvent, BillingDrift
from opsconsole.actions.registry import get_action
from opsconsole.actions.services import approval_decide, run_action
from opsconsole.errors import Conflict, ValidationFailed
from opsconsole.models import ActionStatus
from tests.helpers.billing import open_drift, reconcile

pytestmark = pytest.mark.django_db
_keys = itertools.count()


def fix(name, target, actor, **params):
    """A live run, as the console submits it (with an idempotency key)."""
    return run_action(
        name=name, target=target, actor=actor, params=params, idempotency_key=f"fix-{next(_keys)}"
    )


def test_every_fix_a_drift_names_is_a_guarded_action():
    named = set(FIX_ACTIONS.values()) | {f.fix_action for f in BILLING_FIELDS if f.fix_action}
    for name in named:
        assert get_action(name).name == name


def exception_of(kind, account):
    drift = open_drift(kind).get(subject=account.external_id)
    return drift, drift.exception


def test_adopting_stripes_billing_status_fixes_the_account_and_resolves_the_drift(drifted, make_user):
    reconcile()
    account = drifted["status"]
    drift, exception = exception_of(DriftKind.BILLING_STATUS, account)
    assert drift.fix_action == "adopt_stripe_value"
    billing = make_user("billing")

    preview = run_action(
        name="adopt_stripe_value", target=exception, actor=billing, params={"note": "paid"}, dry_run=True
    )
    account.refresh_from_db()
    assert account.billing_status == BillingStatus.CANCELED and preview.preview
    run = fix("adopt_stripe_value", exception, billing, note="paid").run

    assert run.status == ActionStatus.SUCCEEDED
    account.refresh_from_db()
    drift.refresh_from_db()
    exception.refresh_from_db()
    assert account.billing_status == BillingStatus.ACTIVE
    assert account.history.first().history_user == billing
    assert drift.status == DriftStatus.RESOLVED and not exception.is_open
    assert f"action run #{run.pk}" in exception.resolution_note and "paid" in exception.resolution_note
    event = AccountEvent.objects.get(account=account, type="billing.value_adopted_from_stripe")
    assert event.payload["from"] == "canceled" and event.payload["to"] == "active"

    with pytest.raises(Conflict):
        fix("adopt_stripe_value", exception, billing, note="again")
    reconcile()
    assert not open_drift(DriftKind.BILLING_STATUS).filter(subject=account.external_id).exists()


def test_adopt_is_refused_for_a_drift_it_does_not_fix(drifted, make_user):
    reconcile()
    _, exception = exception_of(DriftKind.PLAN, drifted["plan"])
    with pytest.raises(Conflict) as info:
        fix("adopt_stripe_value", exception, make_user("billing"), note="x")
    assert info.value.code == "not_this_drift"


def test_ending_billing_without_a_subscription_unless_stripe_has_one_now(drifted, make_user, localstripe):
    reconcile()
    account = drifted["nosub"]
    _, exception = exception_of(DriftKind.NO_SUBSCRIPTION, account)
    billing = make_user("billing")
    customer = localstripe.create_customer(email="late@example.com", account_external_id=account.external_id)
    localstripe.attach_card(customer["id"])
    localstripe.create_subscription(customer=customer["id"], plan="team")
    account.stripe_customer_id = customer["id"]
    account.save()

    with pytest.raises(Conflict) as info:
        fix("end_product_billing", exception, billing, note="gone")
    assert info.value.code == "subscription_exists"

    account.stripe_customer_id = ""
    account.save()
    run = fix("end_product_billing", exception, billing, note="gone").run
    account.refresh_from_db()
    assert run.status == ActionStatus.SUCCEEDED
    assert (account.billing_status, account.mrr_cents) == (BillingStatus.CANCELED, 0)
    exception.refresh_from_db()
    assert not exception.is_open


def test_merging_customers_waits_for_a_lead_then_deletes_the_other_in_stripe(drifted, make_user, localstripe):
    reconcile()
    account = drifted["dup"]
    drift, exception = exception_of(DriftKind.DUPLICATE_CUSTOMER, account)
    (other,) = [c for c in drift.theirs["stripe_customer_ids"] if c != account.customer_id]
    billing, lead = make_user("billing"), make_user("ops_lead")

    with pytest.raises(ValidationFailed):
        fix("merge_stripe_customers", exception, billing, keep="cus_unknown", note="x")
    with pytest.raises(Conflict) as info:  # the linked customer pays: it cannot be the one deleted
        fix("merge_stripe_customers", exception, billing, keep=other, note="x")
    assert info.value.code == "customer_has_subscription"

    run = fix(
        "merge_stripe_customers",
        exception,
        billing,
        keep=account.customer_id,
        note="second profile made by mistake",
    ).run
    assert run.status == ActionStatus.AWAITING_APPROVAL
    assert localstripe.get(f"/v1/customers/{other}")["id"] == other
    approval_decide(approval=run.approval, approve=True, actor=lead)

    run.refresh_from_db()
    assert run.status == ActionStatus.SUCCEEDED
    with pytest.raises(requests.HTTPError):
        localstripe.get(f"/v1/customers/{other}")
    reconcile()
    assert not open_drift(DriftKind.DUPLICATE_CUSTOMER).exists()


def test_linking_an_unmatched_customer_names_the_account_in_stripe(localstripe, make_account, make_user):
    stray = localstripe.create_customer(email="stray@example.com")
    reconcile()
    unmatched = open_drift(DriftKind.UNMATCHED).get()
    assert unmatched.subject == unmatched.theirs["customer"] == stray["id"]
    account = make_account()
    billing = make_user("billing")

    run = fix(
        "link_stripe_customer", account, billing, customer=stray["id"], note="same company, other email"
    ).run

    assert run.status == ActionStatus.SUCCEEDED
    account.refresh_from_db()
    assert account.stripe_customer_id == stray["id"]
    assert (
        localstripe.get(f"/v1/customers/{stray['id']}")["metadata"]["account_external_id"]
        == account.external_id
    )
    drift = BillingDrift.objects.get(subject=stray["id"])
    assert drift.status == DriftStatus.RESOLVED and drift.account == account
    with pytest.raises(Conflict):
        fix("link_stripe_customer", make_account(), billing, customer=stray["id"], note="again")
    reconcile()
    assert not open_drift(DriftKind.UNMATCHED).exists()
