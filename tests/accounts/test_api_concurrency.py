"""Concurrent API requests, with real threads and real transactions: one effect each."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Account, AccountEvent
from opsconsole.models import IdempotencyRecord
from opsconsole.services import service_token_issue
from tests.helpers.api import EVENTS_URL, create_account, signup_body
from tests.helpers.clients import https_client
from tests.helpers.race import run_together

THREADS = 8

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _client_with_key(key: str):
    client = https_client(APIClient)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def token_key(system):
    _, key = service_token_issue(name="product-concurrency", role="product", actor=system)
    return key


def test_concurrent_creates_with_one_key_make_one_account(token_key, channel):
    body = signup_body(channel.code)
    responses = run_together(THREADS, lambda i: create_account(_client_with_key(token_key), body, key="race"))

    statuses = sorted(r.status_code for r in responses)
    assert 500 not in statuses
    first = [r for r in responses if r.status_code == 201 and "Idempotent-Replayed" not in r.headers]
    assert len(first) == 1, statuses
    for r in responses:
        if r.status_code == 201:
            assert r.json() == first[0].json()
        else:
            assert r.status_code == 409, r.json()
            assert r.json()["error"]["code"] == "idempotency_request_in_flight"
    assert Account.objects.filter(external_id=body["external_id"]).count() == 1
    assert AccountEvent.objects.filter(type="account.created").count() == 1
    record = IdempotencyRecord.objects.get(key="race")
    assert record.state == IdempotencyRecord.State.COMPLETED

    # Whoever was told 409 gets the first answer when retrying.
    retry = create_account(_client_with_key(token_key), body, key="race")
    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first[0].json()


def test_two_keys_for_one_external_id_give_one_201_and_one_account_exists(token_key, channel):
    body = signup_body(channel.code)
    responses = run_together(2, lambda i: create_account(_client_with_key(token_key), body, key=f"k{i}"))

    assert sorted(r.status_code for r in responses) == [201, 409]
    refused = next(r for r in responses if r.status_code == 409)
    assert refused.json()["error"]["code"] == "account_exists"
    assert Account.objects.filter(external_id=body["external_id"]).count() == 1
    # The refused request's claim was released: only the winner's key is in the ledger.
    assert IdempotencyRecord.objects.count() == 1


def test_concurrent_deliveries_of_one_event_store_it_once(token_key, make_account):
    account = make_account(signed_up_at=timezone.now() - timedelta(hours=1))
    event = {
        "event_id": "evt-race",
        "account": account.external_id,
        "type": "import.failed",
        "occurred_at": (account.signed_up_at + timedelta(minutes=5)).isoformat(),
    }

    responses = run_together(
        THREADS, lambda i: _client_with_key(token_key).post(EVENTS_URL, event, format="json")
    )

    assert all(r.status_code == 200 for r in responses), [r.status_code for r in responses]
    bodies = [r.json() for r in responses]
    assert sum(b["accepted"] for b in bodies) == 1
    assert sum(b["duplicates"] for b in bodies) == THREADS - 1
    assert AccountEvent.objects.filter(event_id="evt-race").count() == 1
    assert account.exceptions.count() == 1


def test_concurrent_batches_sharing_events_store_each_once(token_key, make_account):
    """Overlapping batches across two accounts: no deadlock, no double insert."""
    accounts = [make_account(signed_up_at=timezone.now() - timedelta(hours=1)) for _ in range(2)]
    events = [
        {
            "event_id": f"shared-{a.pk}-{n}",
            "account": a.external_id,
            "type": "user.login",
            "occurred_at": (a.signed_up_at + timedelta(minutes=n)).isoformat(),
        }
        for a in accounts
        for n in range(20)
    ]

    def send(i):
        # Each thread sends the events in its own order.
        ordered = events if i % 2 == 0 else list(reversed(events))
        return _client_with_key(token_key).post(EVENTS_URL, {"events": ordered}, format="json")

    responses = run_together(4, send)
    assert all(r.status_code == 200 for r in responses)
    assert sum(r.json()["accepted"] for r in responses) == len(events)
    assert AccountEvent.objects.filter(event_id__startswith="shared-").count() == len(events)
