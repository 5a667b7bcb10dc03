from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from routing.models import Ticket
from tests.helpers.clients import https_client

URL = "/api/v1/tickets/"


def payload(**overrides):
    body = {
        "source": "zendesk",
        "external_id": "zd-1001",
        "requester_email": "jo@customer.example",
        "subject": "Cannot log in with SSO",
        "body": "SAML says no",
        "error_code": "saml_invalid",
        "request_id": "req-1",
        "feature_area": "auth",
    }
    return {**body, **overrides}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role,status",
    [("product", 201), ("ops_lead", 201), ("support", 403), ("billing", 403), ("engineering", 403)],
)
def test_intake_role_matrix(api_client_for, role, status):
    response = api_client_for(role).post(URL, payload(), format="json")
    assert response.status_code == status, response.content
    if status == 403:
        assert response.json()["error"]["code"] == "permission_denied"
        assert Ticket.objects.count() == 0


@pytest.mark.django_db
def test_intake_without_token_is_401():
    response = https_client(APIClient).post(URL, payload(), format="json")
    assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.django_db
def test_get_is_not_declared_so_refused(api_client_for):
    assert api_client_for("product").get(URL).status_code == 403


@pytest.mark.django_db
def test_intake_answer_has_routing_decision_and_repeat_returns_first(api_client_for, make_account):
    account = make_account()
    client = api_client_for("product")
    first = client.post(URL, payload(account=account.external_id), format="json")
    assert first.status_code == 201
    body = first.json()
    assert (
        body["ticket"]["account"] == account.external_id and body["ticket"]["account_match"] == "external_id"
    )
    assert {"category", "severity", "queue", "owner", "rule", "reason", "sla", "status"} <= set(body)
    assert body["rule"]["key"] == "catch-all" and body["queue"] == "triage"
    assert body["sla"]["first_response_due_at"] is not None

    again = client.post(URL, payload(subject="edited later", account=account.external_id), format="json")
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json() == body
    assert Ticket.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"requester_email": "nope"}, "requester_email"),
        ({"subject": ""}, "subject"),
        ({"source": None}, "source"),
        ({"external_id": "x" * 101}, "external_id"),
        ({"error_code": "e" * 65}, "error_code"),
        ({"created_at": "yesterday"}, "created_at"),
        ({"created_at": "2999-01-01T00:00:00Z"}, "created_at"),
    ],
)
def test_bad_intake_is_400_in_the_error_shape(api_client_for, overrides, field):
    response = api_client_for("product").post(URL, payload(**overrides), format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["details"]
    assert Ticket.objects.count() == 0


@pytest.mark.django_db
def test_malformed_json_is_400(api_client_for):
    response = api_client_for("product").post(URL, "{not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "malformed_request"


@pytest.mark.django_db
def test_missing_fields_are_listed(api_client_for):
    response = api_client_for("product").post(URL, {}, format="json")
    assert response.status_code == 400
    assert {"source", "external_id", "requester_email", "subject"} <= set(response.json()["error"]["details"])


@pytest.mark.django_db
def test_created_at_is_the_help_desks_time_and_the_sla_clocks_start_from_it(api_client_for):
    created_at = timezone.now() - timedelta(days=20)
    response = api_client_for("product").post(URL, payload(created_at=created_at.isoformat()), format="json")
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get()
    assert ticket.created_at == created_at
    # Every target of the default policies falls within days of the ticket, not of today.
    assert ticket.first_response_due_at < created_at + timedelta(days=7) < timezone.now()


@pytest.mark.django_db
def test_created_at_defaults_to_now_and_a_little_clock_skew_is_accepted(api_client_for):
    ahead = timezone.now() + timedelta(minutes=5)
    client = api_client_for("product")
    assert client.post(URL, payload(created_at=ahead.isoformat()), format="json").status_code == 201
    before = timezone.now()
    assert client.post(URL, payload(external_id="zd-2"), format="json").status_code == 201
    assert Ticket.objects.get(external_id="zd-2").created_at >= before
