"""The event intake keeps what it refused (id, account named, reason), once per delivery, so
the data-quality panel can count events whose account matches no account."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AccountEvent
from accounts.rejections import RejectedEvent
from tests.helpers.api import EVENTS_URL

pytestmark = pytest.mark.django_db


def test_refused_events_are_kept_once_with_their_reason(api_client_for, make_account):
    account = make_account(signed_up_at=timezone.now() - timedelta(days=1))
    client = api_client_for("product")
    at = (timezone.now() - timedelta(hours=1)).isoformat()
    body = {
        "events": [
            {"event_id": "ok-1", "account": account.external_id, "type": "user.login", "occurred_at": at},
            {"event_id": "lost-1", "account": "acct_nobody", "type": "user.login", "occurred_at": at},
            {
                "event_id": "bad-1",
                "account": account.external_id,
                "type": "user.login",
                "occurred_at": "soon",
            },
        ]
    }

    for _ in range(2):  # delivered twice
        response = client.post(EVENTS_URL, body, format="json")
        assert response.status_code == 200
        assert [r["index"] for r in response.json()["rejected"]] == [1, 2]

    kept = {(r.event_id, r.reason, r.account_ref) for r in RejectedEvent.objects.all()}
    assert kept == {("lost-1", "unknown_account", "acct_nobody"), ("bad-1", "invalid", account.external_id)}
    assert RejectedEvent.objects.get(event_id="bad-1").errors.keys() == {"occurred_at"}
    assert AccountEvent.objects.filter(event_id="ok-1").count() == 1
    assert RejectedEvent.objects.get(event_id="lost-1").received_by == client.token.user


def test_a_refused_event_with_a_nul_character_does_not_fail_the_batch(api_client_for, make_account):
    # PostgreSQL stores no NUL in text: keeping the refusal must not refuse the valid events too.
    account = make_account(signed_up_at=timezone.now() - timedelta(days=1))
    at = (timezone.now() - timedelta(hours=1)).isoformat()
    body = {
        "events": [
            {"event_id": "ok-nul", "account": account.external_id, "type": "user.login", "occurred_at": at},
            {"event_id": "bad\u0000id", "account": "acct\u0000x", "type": "user.login", "occurred_at": at},
        ]
    }
    response = api_client_for("product").post(EVENTS_URL, body, format="json")
    assert response.status_code == 200
    assert [r["index"] for r in response.json()["rejected"]] == [1]
    assert AccountEvent.objects.filter(event_id="ok-nul").count() == 1
    assert RejectedEvent.objects.get(reason="invalid").event_id == "badid"
