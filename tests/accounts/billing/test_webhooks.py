"""POST /webhooks/stripe/: signatures, storing once, processing, order and races."""

import json
import logging
import time

import pytest
import requests
from django.test import Client, TestCase

from accounts.billing import stripe_gateway
from accounts.choices import BillingStatus, DriftKind, StripeEventStatus, SystemOfRecord
from accounts.models import AccountEvent, BillingDrift, OpsException, StripeEvent
from routing.models import Ticket
from tests.helpers.localstripe import API_KEY
from tests.helpers.race import run_together
from tests.helpers.stripe_objects import WEBHOOK_SECRET, make_event, sign, subscription_object

URL = "/webhooks/stripe/"


def post_event(client: Client, event: dict, **sign_kwargs):
    """Deliver a signed event; processing, queued on commit, runs before this returns."""
    body = json.dumps(event).encode()
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            URL,
            data=body,
            content_type="application/json",
            secure=True,
            HTTP_STRIPE_SIGNATURE=sign(body, **sign_kwargs),
        )


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET


@pytest.mark.django_db
def test_signed_subscription_event_updates_billing_fields_and_timeline(linked_account):
    response = post_event(Client(), make_event("customer.subscription.updated", subscription_object()))

    assert response.status_code == 200
    stored = StripeEvent.objects.get()
    assert stored.status == StripeEventStatus.PROCESSED
    linked_account.refresh_from_db()
    assert linked_account.billing_status == BillingStatus.ACTIVE
    assert linked_account.stripe_subscription_id == "sub_1"
    assert linked_account.mrr_cents == 19_900
    assert linked_account.stripe_state_at is not None
    synced = AccountEvent.objects.get(account=linked_account, type="billing.synced_from_stripe")
    assert synced.payload["changes"]["billing_status"] == {"from": "none", "to": "active"}
    assert linked_account.history.first().history_user.username == "system:stripe"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    [None, "t=1,v1=deadbeef", "garbage"],
    ids=["missing", "wrong", "malformed"],
)
def test_bad_signature_is_refused_stores_nothing_and_is_logged(linked_account, header, caplog):
    body = json.dumps(make_event("customer.subscription.updated", subscription_object())).encode()
    extra = {"HTTP_STRIPE_SIGNATURE": header} if header else {}
    with caplog.at_level(logging.WARNING, logger="accounts.webhooks"):
        response = Client().post(URL, data=body, content_type="application/json", secure=True, **extra)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_signature"
    assert not StripeEvent.objects.exists()
    assert "Refused a Stripe webhook" in caplog.text


@pytest.mark.django_db
def test_stale_signature_is_refused(linked_account):
    event = make_event("customer.subscription.updated", subscription_object())
    response = post_event(Client(), event, timestamp=int(time.time()) - 301)
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


@pytest.mark.django_db
def test_signature_by_another_secret_is_refused(linked_account):
    event = make_event("customer.subscription.updated", subscription_object())
    response = post_event(Client(), event, secret="whsec_someone_else")
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


@pytest.mark.django_db
def test_same_event_delivered_twice_has_one_effect(linked_account):
    event = make_event("invoice.payment_failed", {"id": "in_1", "customer": "cus_1", "amount_due": 19_900})
    first = post_event(Client(), event)
    second = post_event(Client(), event)

    assert first.json()["duplicate"] is False
    assert second.status_code == 200 and second.json()["duplicate"] is True
    assert StripeEvent.objects.count() == 1
    assert AccountEvent.objects.filter(type="billing.invoice.payment_failed").count() == 1
    assert (
        OpsException.objects.filter(account=linked_account, reason_code__code="payment_failed").count() == 1
    )


@pytest.mark.django_db
def test_payment_failure_opens_exception_and_paid_invoice_resolves_it(linked_account):
    post_event(
        Client(), make_event("invoice.payment_failed", {"id": "in_1", "customer": "cus_1", "amount_due": 900})
    )
    exception = OpsException.objects.get(account=linked_account, reason_code__code="payment_failed")
    assert exception.is_open
    assert exception.evidence["invoice"] == "in_1"
    ticket = Ticket.objects.get(source="stripe", external_id="payment_failed:in_1")
    assert ticket.account == linked_account and "Payment failed" in ticket.subject

    post_event(Client(), make_event("invoice.paid", {"id": "in_1", "customer": "cus_1", "amount_due": 900}))
    exception.refresh_from_db()
    assert not exception.is_open
    assert "in_1 paid" in exception.resolution_note


@pytest.mark.django_db
def test_older_event_after_newer_never_moves_state_back(linked_account):
    linked_account.plan_source = SystemOfRecord.STRIPE
    linked_account.save()
    now = int(time.time())
    newer = make_event("customer.subscription.updated", subscription_object(plan="business"), created=now)
    older = make_event(
        "customer.subscription.updated",
        subscription_object(plan="starter", status="past_due"),
        created=now - 60,
    )

    post_event(Client(), newer)
    post_event(Client(), older)

    linked_account.refresh_from_db()
    assert linked_account.plan == "business"
    assert linked_account.billing_status == BillingStatus.ACTIVE
    assert "older than the applied state" in StripeEvent.objects.get(stripe_id=older["id"]).outcome


@pytest.mark.django_db
def test_event_in_the_same_second_is_settled_by_refetching_from_stripe(localstripe, make_account):
    customer = localstripe.create_customer(email="tie@example.com")
    localstripe.attach_card(customer["id"])
    live = localstripe.create_subscription(customer=customer["id"], plan="business")
    account = make_account()
    account.stripe_customer_id = customer["id"]
    account.plan_source = SystemOfRecord.STRIPE
    account.save()
    second = int(time.time())
    # Both claim the same second; the second one to arrive is stale. Stripe says "business".
    fresh = make_event("customer.subscription.updated", {**live, "status": "active"}, created=second)
    stale = make_event(
        "customer.subscription.updated",
        {**live, "items": {"data": [{**live["items"]["data"][0], "plan": {"id": "starter"}}]}},
        created=second,
    )

    post_event(Client(), fresh)
    # Stripe moves on before the stale copy arrives: only a re-fetch can know that.
    localstripe.set_plan(live["id"], "enterprise")
    post_event(Client(), stale)

    account.refresh_from_db()
    assert account.plan == "enterprise"
    assert account.stripe_subscription_id == live["id"]


def _post_concurrently(bodies: list[tuple[bytes, str]]) -> list[int]:
    def deliver(i):
        body, header = bodies[i]
        response = Client().post(
            URL, data=body, content_type="application/json", secure=True, HTTP_STRIPE_SIGNATURE=header
        )
        return response.status_code

    return run_together(len(bodies), deliver)


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_deliveries_of_one_event_have_one_effect(linked_account):
    event = make_event("invoice.payment_failed", {"id": "in_9", "customer": "cus_1", "amount_due": 100})
    body = json.dumps(event).encode()

    statuses = _post_concurrently([(body, sign(body))] * 10)

    assert statuses == [200] * 10
    assert StripeEvent.objects.count() == 1
    assert StripeEvent.objects.get().status == StripeEventStatus.PROCESSED
    assert AccountEvent.objects.filter(type="billing.invoice.payment_failed").count() == 1
    assert OpsException.objects.filter(reason_code__code="payment_failed").count() == 1
    assert Ticket.objects.filter(source="stripe").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_webhooks_creating_the_same_customer_link_it_once(make_account):
    account = make_account(external_id="acct_race")
    customer = {
        "id": "cus_race",
        "object": "customer",
        "email": "x@example.com",
        "metadata": {"account_external_id": "acct_race"},
    }
    session = {
        "id": "cs_1",
        "object": "checkout.session",
        "customer": "cus_race",
        "client_reference_id": "acct_race",
        "subscription": "sub_race",
        "metadata": {},
    }
    events = [
        make_event("customer.created", customer),
        make_event("customer.updated", customer),
        make_event("checkout.session.completed", session),
    ] * 3
    bodies = [(json.dumps(e).encode(),) for e in events]
    bodies = [(b, sign(b)) for (b,) in bodies]

    statuses = _post_concurrently(bodies)

    assert statuses == [200] * len(bodies)
    account.refresh_from_db()
    assert account.stripe_customer_id == "cus_race"
    assert account.stripe_subscription_id == "sub_race"
    assert AccountEvent.objects.filter(account=account, type="billing.customer_linked").count() == 1
    assert StripeEvent.objects.filter(status=StripeEventStatus.PROCESSED).count() == 3


@pytest.mark.django_db(transaction=True)
def test_webhooks_delivered_by_localstripe_itself(localstripe, http_server, make_account):
    account = make_account(external_id="acct_live")
    localstripe.register_webhook(f"{http_server}{URL}")
    customer = localstripe.create_customer(email="live@example.com", account_external_id="acct_live")
    localstripe.attach_card(customer["id"])
    subscription = localstripe.create_subscription(customer=customer["id"], plan="team")

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        account.refresh_from_db()
        delivered = StripeEvent.objects.filter(type="invoice.payment_succeeded").exists()
        if delivered and not StripeEvent.objects.filter(status=StripeEventStatus.PENDING).exists():
            break
        time.sleep(0.2)

    assert account.stripe_customer_id == customer["id"]
    assert account.stripe_subscription_id == subscription["id"]
    assert account.billing_status == BillingStatus.ACTIVE
    types = set(StripeEvent.objects.values_list("type", flat=True))
    assert {"customer.created", "customer.subscription.created", "invoice.payment_succeeded"} <= types
    assert not StripeEvent.objects.filter(status=StripeEventStatus.PENDING).exists()


@pytest.mark.django_db
def test_method_other_than_post_is_refused(client):
    assert client.get(URL, secure=True).status_code == 405


def test_localstripe_answers_through_the_sdk(localstripe):
    customer = localstripe.create_customer(email="sdk@example.com")
    localstripe.attach_card(customer["id"])
    created = localstripe.create_subscription(customer=customer["id"], plan="team")

    fetched = stripe_gateway.subscription_retrieve(created["id"])
    assert stripe_gateway.subscription_plan_code(fetched) == "team"
    moved = stripe_gateway.subscription_set_plan(created["id"], "business")
    assert stripe_gateway.subscription_plan_code(moved) == "business"
    page = stripe_gateway.subscriptions_page()
    assert [s["id"] for s in page.objects] == [created["id"]] and page.has_more is False
    assert requests.get(localstripe.url + "/v1/plans", auth=(API_KEY, "")).ok


@pytest.mark.django_db
def test_unknown_stripe_plan_is_reported_not_written(linked_account):
    linked_account.plan_source = SystemOfRecord.STRIPE
    linked_account.save()
    post_event(Client(), make_event("customer.subscription.updated", subscription_object(plan="legacy_gold")))

    linked_account.refresh_from_db()
    assert linked_account.plan == "team"
    drift = BillingDrift.objects.get(kind=DriftKind.PLAN)
    assert drift.theirs["plan"] == "legacy_gold" and drift.exception.is_open


def _signed_post(body: bytes, *, timestamp: int | None = None):
    return Client().post(
        URL,
        data=body,
        content_type="application/json",
        secure=True,
        HTTP_STRIPE_SIGNATURE=sign(body, timestamp=timestamp),
    )


def _valid_event_with(**changes) -> bytes:
    event = make_event("customer.subscription.updated", subscription_object())
    event.update(changes)
    return json.dumps(event).encode()


ODD_BODIES = {
    "empty_list": b"[]",
    "string": b'"x"',
    "null": b"null",
    "number": b"42",
    "data_is_string": _valid_event_with(data="x"),
    "object_is_list": _valid_event_with(data={"object": []}),
    "created_is_word": _valid_event_with(created="yesterday"),
    "created_is_bool": _valid_event_with(created=True),
    "no_type": _valid_event_with(type=None),
    "id_is_number": _valid_event_with(id=7),
    "deep_lists": b"[" * 100_000 + b"]" * 100_000,
    "deep_in_data": _valid_event_with(data={"object": {"id": "x", "n": 0}}).replace(
        b'"n": 0', b'"n": ' + b"[" * 100_000 + b"]" * 100_000
    ),
    "not_json": b"{not json",
    "not_utf8": b'{"id": "\xff"}',
}


@pytest.mark.django_db
@pytest.mark.parametrize("body", ODD_BODIES.values(), ids=ODD_BODIES.keys())
def test_signed_body_that_is_not_an_event_answers_400_and_stores_nothing(body):
    response = _signed_post(body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_event"
    assert not StripeEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("ahead", [301, 3600])
def test_signature_from_the_future_is_refused(ahead):
    response = _signed_post(_valid_event_with(), timestamp=int(time.time()) + ahead)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_signature"
    assert not StripeEvent.objects.exists()


@pytest.mark.django_db
def test_signature_a_little_ahead_of_our_clock_is_accepted(linked_account):
    # Clocks drift: within the tolerance, ahead is as good as behind.
    assert _signed_post(_valid_event_with(), timestamp=int(time.time()) + 60).status_code == 200
