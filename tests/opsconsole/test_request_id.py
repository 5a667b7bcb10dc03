"""X-Request-ID: on every response, well-formed incoming ids kept, carried into rows and log lines."""

import re

import pytest
import structlog
from django.test import Client

from accounts.models import AccountEvent
from opsconsole.models import LoginEvent, OutboxMessage
from opsconsole.outbox import outbox_enqueue
from routing.models import Escalation
from routing.services.escalations import escalation_create
from tests.helpers.api import EVENTS_URL
from tests.helpers.clients import https_client

pytestmark = pytest.mark.django_db

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


@pytest.mark.parametrize(
    "path", ["/login/", "/api/schema/", "/api/v1/accounts/nope/", "/webhooks/stripe/", "/accounts/account/"]
)
def test_every_response_carries_a_generated_id(path):
    response = https_client().get(path)
    assert UUID.fullmatch(response["X-Request-ID"]), (path, response.status_code)


def test_two_requests_get_two_ids():
    client = https_client()
    assert client.get("/login/")["X-Request-ID"] != client.get("/login/")["X-Request-ID"]


@pytest.mark.parametrize(
    "incoming", ["req-9f2c", "01HZX3K4.prod:edge_7", "a" * 100, "c354f2c1-c5b4-475e-8440-c0f155b1f492"]
)
def test_a_well_formed_incoming_id_is_kept(incoming):
    assert https_client().get("/login/", HTTP_X_REQUEST_ID=incoming)["X-Request-ID"] == incoming


@pytest.mark.parametrize("incoming", ["", "a" * 101, "has space", "<script>", "id\u00e9", "a,b"])
def test_a_malformed_incoming_id_is_replaced(incoming):
    answered = https_client().get("/login/", HTTP_X_REQUEST_ID=incoming)["X-Request-ID"]
    assert UUID.fullmatch(answered)


def test_api_refusals_carry_it(product_api):
    product_api.credentials()  # no token
    response = product_api.post(EVENTS_URL, {}, format="json", HTTP_X_REQUEST_ID="req-refused")
    assert response.status_code == 401
    assert response["X-Request-ID"] == "req-refused"


def test_an_event_posted_through_the_api_records_the_request_id(product_api, account):
    body = {
        "event_id": "evt-rid",
        "account": account.external_id,
        "type": "report.viewed",
        "occurred_at": account.signed_up_at.isoformat(),
    }
    response = product_api.post(EVENTS_URL, body, format="json", HTTP_X_REQUEST_ID="req-from-product")
    assert response.status_code == 200, response.json()
    assert AccountEvent.objects.get(event_id="evt-rid").ingress_request_id == "req-from-product"


def test_outbox_messages_and_escalations_record_the_request_id(account, system):
    with structlog.contextvars.bound_contextvars(request_id="req-ctx-1"):
        message = outbox_enqueue(command="test.noop", payload={}, account=account)
        escalation = escalation_create(account=account, summary="Broken", actor=system)
    assert OutboxMessage.objects.get(pk=message.pk).ingress_request_id == "req-ctx-1"
    assert Escalation.objects.get(pk=escalation.pk).ingress_request_id == "req-ctx-1"


def test_rows_written_outside_a_request_have_none(account):
    message = outbox_enqueue(command="test.noop", payload={}, account=account)
    assert OutboxMessage.objects.get(pk=message.pk).ingress_request_id == ""


def test_a_failed_login_records_the_request_id(make_user):
    make_user("support", username="rid-user")
    response = Client(HTTP_X_FORWARDED_PROTO="https").post(
        "/login/", {"username": "rid-user", "password": "wrong"}, HTTP_X_REQUEST_ID="req-login-1"
    )
    assert response.status_code == 200
    assert LoginEvent.objects.get(username="rid-user").ingress_request_id == "req-login-1"
