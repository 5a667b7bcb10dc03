"""The accounts part of REST API v1: signup create with Idempotency-Key, and the reads."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Account, AccountEvent, EntitlementOverride, ProvisioningStep
from accounts.selectors import provisioning_status
from accounts.services import EventInput, account_events_record
from opsconsole.api.idempotency import request_fingerprint
from opsconsole.models import IdempotencyRecord
from opsconsole.services import STALE_IN_FLIGHT_AFTER, idempotency_claim
from tests.helpers.api import (
    ACCOUNTS_URL,
    create_account,
    detail_url,
    entitlements_url,
    error_code,
    provisioning_url,
    signup_body,
)

pytestmark = pytest.mark.django_db


def _counts():
    return (
        Account.objects.count(),
        AccountEvent.objects.count(),
        ProvisioningStep.objects.count(),
        IdempotencyRecord.objects.count(),
    )


# --- Create --------------------------------------------------------------------------------


def test_create_returns_the_account_with_its_provisioning_status(product_api, channel):
    body = signup_body(
        channel.code,
        shape="sales_assisted_business",
        utm_source="google",
        utm_campaign="q4-brand",
        flags=["white_glove"],
        signed_up_at="2026-11-01T09:30:00Z",
    )
    response = create_account(product_api, body)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["external_id"] == body["external_id"]
    assert data["channel"] == channel.code
    assert data["plan"] == "business"  # the shape's default plan
    assert data["onboarding_path"] == "managed"
    assert data["signed_up_at"] == "2026-11-01T09:30:00Z"
    assert data["flags"] == ["white_glove"]
    assert data["provisioning"]["status"] == "pending"
    assert data["provisioning"]["blocking"] is None
    assert "Idempotent-Replayed" not in response.headers
    account = Account.objects.get(external_id=body["external_id"])
    assert account.utm_campaign == "q4-brand"
    assert account.events.filter(type="account.created").count() == 1


def test_account_created_through_the_api_is_attributed_to_the_token_user(product_api, channel):
    body = signup_body(channel.code)
    assert create_account(product_api, body).status_code == 201
    account = Account.objects.get(external_id=body["external_id"])
    created = account.history.earliest("history_date")
    assert created.history_type == "+"
    assert created.history_user == product_api.token.user


def test_missing_idempotency_key_is_refused_and_changes_nothing(product_api, channel):
    before = _counts()
    response = product_api.post(ACCOUNTS_URL, signup_body(channel.code), format="json")
    assert response.status_code == 400
    assert error_code(response) == "idempotency_key_required"
    assert _counts() == before


def test_blank_or_over_long_idempotency_key_is_refused(product_api, channel):
    before = _counts()
    blank = create_account(product_api, signup_body(channel.code), key="   ")
    assert (blank.status_code, error_code(blank)) == (400, "idempotency_key_required")
    too_long = create_account(product_api, signup_body(channel.code), key="k" * 256)
    assert (too_long.status_code, error_code(too_long)) == (400, "idempotency_key_invalid")
    assert _counts() == before


@pytest.mark.parametrize(
    "raw",
    ['{"external_id": "x",', "not json at all", '{"name": "\\x"}'],
    ids=["truncated", "garbage", "bad-escape"],
)
def test_malformed_json_is_a_400_in_the_error_shape(product_api, raw):
    before = _counts()
    response = product_api.post(
        ACCOUNTS_URL, raw, content_type="application/json", HTTP_IDEMPOTENCY_KEY="malformed"
    )
    assert response.status_code == 400
    assert error_code(response) == "malformed_request"
    assert _counts() == before


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"shape": "galactic_empire"}, "shape"),
        ({"channel": "no-such-channel"}, "channel"),
        ({"plan": "platinum"}, "plan"),
        ({"admin_email": "not-an-email"}, "admin_email"),
        ({"external_id": "x" * 65}, "external_id"),
        ({"external_id": "has/slash"}, "external_id"),
        ({"external_id": ""}, "external_id"),
        ({"name": "n" * 201}, "name"),
        ({"admin_email": ("a" * 250) + "@example.com"}, "admin_email"),
        ({"utm_source": "u" * 101}, "utm_source"),
        ({"utm_medium": "u" * 101}, "utm_medium"),
        ({"utm_campaign": "u" * 101}, "utm_campaign"),
        ({"partner": "p" * 121}, "partner"),
        ({"flags": "white_glove"}, "flags"),
        ({"flags": ["ok"] * 21}, "flags"),
        ({"flags": ["not a slug"]}, "flags"),
        ({"signed_up_at": "yesterday"}, "signed_up_at"),
        ({"signed_up_at": "2999-01-01T00:00:00Z"}, "signed_up_at"),
    ],
)
def test_invalid_signup_fields_get_field_errors_and_change_nothing(product_api, channel, fields, bad_field):
    before = _counts()
    response = create_account(product_api, signup_body(channel.code, **fields))
    assert response.status_code == 400
    assert error_code(response) == "invalid"
    assert set(response.json()["error"]["details"]) == {bad_field}
    assert _counts() == before


def test_missing_required_fields_are_each_named(product_api):
    response = create_account(product_api, {})
    assert response.status_code == 400
    required = {"external_id", "name", "admin_email", "shape"}  # channel is optional
    assert set(response.json()["error"]["details"]) == required


def test_unknown_shape_and_channel_messages_name_the_value(product_api):
    response = create_account(product_api, signup_body("nowhere", shape="galactic_empire"))
    details = response.json()["error"]["details"]
    assert details["shape"] == ['Unknown shape "galactic_empire".']
    assert details["channel"] == ['Unknown channel "nowhere".']


def test_a_refused_request_does_not_use_up_its_key(product_api, channel):
    body = signup_body(channel.code)
    refused = create_account(product_api, {**body, "shape": "nope"}, key="retry-me")
    assert refused.status_code == 400
    fixed = create_account(product_api, body, key="retry-me")
    assert fixed.status_code == 201


def test_same_key_and_body_replays_the_first_response(product_api, channel):
    body = signup_body(channel.code)
    first = create_account(product_api, body, key="signup-1")
    # The same JSON with its keys in another order is the same request.
    reordered = dict(reversed(list(body.items())))
    second = create_account(product_api, reordered, key="signup-1")
    assert first.status_code == second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert Account.objects.filter(external_id=body["external_id"]).count() == 1
    assert AccountEvent.objects.filter(type="account.created").count() == 1


def test_same_key_with_another_body_is_422_and_changes_nothing(product_api, channel):
    create_account(product_api, signup_body(channel.code), key="signup-2")
    before = _counts()
    response = create_account(product_api, signup_body(channel.code), key="signup-2")
    assert response.status_code == 422
    assert error_code(response) == "idempotency_key_reused"
    assert _counts() == before


def test_keys_belong_to_their_caller(api_client_for, channel):
    """Two services may pick the same key without seeing each other's requests."""
    one, other = api_client_for("product"), api_client_for("product")
    assert create_account(one, signup_body(channel.code), key="shared").status_code == 201
    assert create_account(other, signup_body(channel.code), key="shared").status_code == 201


def test_existing_external_id_under_another_key_is_409_account_exists(product_api, channel):
    body = signup_body(channel.code)
    create_account(product_api, body, key="first")
    before = _counts()
    response = create_account(product_api, {**body, "name": "Another name"}, key="second")
    assert response.status_code == 409
    assert error_code(response) == "account_exists"
    assert response.json()["error"]["details"] == {"external_id": body["external_id"]}
    assert _counts() == before


def test_same_key_while_the_first_request_is_in_flight_is_409(product_api, channel):
    body = signup_body(channel.code)
    # The first request has claimed the key and not finished: its ledger row is in flight.
    idempotency_claim(
        principal=product_api.token.user,
        scope="accounts.create",
        key="busy",
        fingerprint=request_fingerprint(body),
    )
    before = _counts()
    response = create_account(product_api, body, key="busy")
    assert response.status_code == 409
    assert error_code(response) == "idempotency_request_in_flight"
    assert _counts() == before


def test_a_claim_abandoned_by_a_dead_request_is_taken_over(product_api, channel):
    body = signup_body(channel.code)
    outcome = idempotency_claim(
        principal=product_api.token.user,
        scope="accounts.create",
        key="orphan",
        fingerprint=request_fingerprint(body),
    )
    outcome.record.created_at = timezone.now() - STALE_IN_FLIGHT_AFTER - timedelta(seconds=1)
    outcome.record.save(update_fields=["created_at"])
    response = create_account(product_api, body, key="orphan")
    assert response.status_code == 201
    assert IdempotencyRecord.objects.get(key="orphan").state == IdempotencyRecord.State.COMPLETED


# --- Reads ---------------------------------------------------------------------------------


def test_detail_shows_the_account_and_its_provisioning(product_api, make_account):
    account = make_account(shape="enterprise")
    response = product_api.get(detail_url(account.external_id))
    assert response.status_code == 200
    data = response.json()
    assert data["external_id"] == account.external_id
    assert data["shape"] == "enterprise"
    assert data["provisioning"]["status"] == "under_review"


def test_provisioning_status_has_exactly_the_documented_shape(product_api, account, system):
    account_events_record(
        account=account,
        events=[
            EventInput("ps-1", "workspace.provisioned", account.signed_up_at + timedelta(minutes=1)),
            EventInput("ps-2", "import.failed", account.signed_up_at + timedelta(minutes=2)),
        ],
        actor=system,
    )
    response = product_api.get(provisioning_url(account.external_id))
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"account", "status", "steps", "blocking", "updated_at"}
    assert data["account"] == account.external_id
    assert data["status"] == "action_required"
    assert [s["step"] for s in data["steps"]] == [
        "assign_plan",
        "create_workspace",
        "invite_admin",
        "connect_integration",
        "import_data",
    ]
    assert all(set(s) == {"step", "status", "updated_at"} for s in data["steps"])
    statuses = {s["step"]: s["status"] for s in data["steps"]}
    assert statuses["create_workspace"] == "succeeded"
    assert statuses["import_data"] == "failed"
    assert data["blocking"] == {
        "step": "import_data",
        "reason_code": "import_failed",
        "message": "Your data import did not finish.",
        "next_action": "We are looking at it; you can retry the import from Settings > Import.",
        "help_url": None,  # no help article names import_failed here (tests/routing/support/test_tier0.py)
    }
    assert data["status"] == provisioning_status(account).status


def test_entitlements_come_from_shape_plan_and_overrides(product_api, make_account):
    account = make_account(shape="free_trial")
    expires = timezone.now() + timedelta(days=7)
    # No service grants overrides on this branch yet (staff do it through a guarded action).
    EntitlementOverride.objects.create(
        account=account, key="reports", kind="temporary", reason="Sales trial extension", expires_at=expires
    )
    EntitlementOverride.objects.create(
        account=account, key="seats", limit_value=10, kind="grandfathered", reason="Old deal"
    )
    response = product_api.get(entitlements_url(account.external_id))
    assert response.status_code == 200
    data = response.json()
    assert data["account"] == account.external_id
    by_key = {e["key"]: e for e in data["entitlements"]}
    assert by_key["core"]["granted_by"] == "shape:free_trial"
    assert by_key["core"]["value"] is True
    assert by_key["workspaces"] == {
        "key": "workspaces",
        "type": "limit",
        "value": 1,
        "granted_by": "shape:free_trial",
        "kind": "standard",
        "temporary": False,
        "beta": False,
        "grandfathered": False,
        "expires_at": None,
    }
    assert by_key["reports"]["temporary"] is True
    assert by_key["reports"]["expires_at"] is not None
    assert by_key["seats"]["value"] == 10 and by_key["seats"]["grandfathered"] is True
    assert by_key["seats"]["granted_by"].startswith("override:")
    assert "sso" not in by_key


@pytest.mark.parametrize("url", [detail_url, provisioning_url, entitlements_url])
def test_unknown_account_is_404_in_the_error_shape(product_api, url):
    response = product_api.get(url("no-such-account"))
    assert response.status_code == 404
    assert error_code(response) == "account_not_found"


@pytest.mark.parametrize("channel", [None, "missing"])
def test_a_signup_without_a_channel_goes_to_unattributed_and_is_never_refused(product_api, channel):
    body = signup_body("unused")
    if channel == "missing":
        del body["channel"]
    else:
        body["channel"] = None
    response = create_account(product_api, body)
    assert response.status_code == 201, response.content
    assert response.json()["channel"] == "unattributed"
    assert Account.objects.get(external_id=body["external_id"]).channel.kind == "unattributed"
