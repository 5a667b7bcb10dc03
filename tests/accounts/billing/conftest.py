"""Billing accounts the tests share: one linked to the customer of the hand-built Stripe
objects, and accounts with customers and subscriptions in a real localstripe (reconciliation
and the billing fixes)."""

from datetime import UTC, datetime

import pytest

from accounts.choices import BillingStatus, SystemOfRecord


@pytest.fixture
def linked_account(make_account):
    """An account linked to Stripe customer cus_1, whose subscription_object() it receives."""
    account = make_account()
    account.stripe_customer_id = "cus_1"
    account.save()
    return account


@pytest.fixture
def billed(localstripe, make_account):
    """``billed(plan=..., **account_fields)``: an account with a paying Stripe customer."""

    def _make(*, stripe_plan="team", card=True, trial_end=None, link=True, **fields):
        account = make_account(**fields)
        customer = localstripe.create_customer(
            email=account.admin_email, account_external_id=account.external_id
        )
        if card:
            localstripe.attach_card(customer["id"])
        subscription = localstripe.create_subscription(
            customer=customer["id"], plan=stripe_plan, trial_end=trial_end
        )
        if link:
            account.stripe_customer_id = customer["id"]
            account.save()
        account.customer_id, account.subscription_id = customer["id"], subscription["id"]
        return account

    return _make


@pytest.fixture
def drifted(billed, make_account, localstripe):
    """One account per mismatch class, plus one whose Stripe-owned field is simply behind."""
    accounts = {
        "plan": billed(stripe_plan="business"),
        "status": billed(),
        "trial": billed(card=False, trial_end=2_000_000_000),
        "behind": billed(),
        "nosub": make_account(),
        "dup": billed(),
    }
    accounts["status"].billing_status_source = SystemOfRecord.PRODUCT
    accounts["status"].billing_status = BillingStatus.CANCELED
    accounts["status"].save()
    accounts["trial"].trial_end_source = SystemOfRecord.PRODUCT
    accounts["trial"].trial_ends_at = datetime(2033, 1, 1, tzinfo=UTC)
    accounts["trial"].save()
    accounts["nosub"].billing_status = BillingStatus.ACTIVE
    accounts["nosub"].save()
    localstripe.create_customer(email="second@example.com", account_external_id=accounts["dup"].external_id)
    stray = localstripe.create_customer(email="stray@example.com")
    localstripe.attach_card(stray["id"])
    localstripe.create_subscription(customer=stray["id"], plan="starter")
    return accounts
