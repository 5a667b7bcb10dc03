"""Product commands: signed, retried with backoff, deduplicated, visible on the run; CRM pushes
through the adapter against the fake HubSpot; and the alerts a failed action or a failed
delivery raise."""

import hashlib
import hmac

import pytest
from django.db import IntegrityError, transaction

import accounts.actions
from accounts.billing.crm import OUTBOX_DESTINATION
from opsconsole.actions.services import run_action
from opsconsole.models import ActionRun, ActionStatus, OutboxMessage, OutboxStatus
from opsconsole.outbox import backoff_seconds, outbox_deliver_once, outbox_enqueue
from opsconsole.tasks import outbox_deliver
from tests.opsconsole.conftest import transactional


@pytest.fixture
def product(receiver, settings):
    settings.PRODUCT_WEBHOOK_URL = receiver.url
    settings.PRODUCT_WEBHOOK_SECRET = "product-secret"
    settings.OUTBOX_BACKOFF_SECONDS = 0
    return receiver


def _restart(exception, actor, key="k"):
    return run_action(
        name="restart_import",
        target=exception,
        actor=actor,
        evidence={"note": "timeout"},
        idempotency_key=key,
    )


@transactional
def test_delivery_is_signed_retried_and_deduplicated(account, fail_import, make_user, product):
    product.statuses = [500, 503]  # then 200
    support = make_user("support")
    exception = fail_import(account)
    run = _restart(exception, support).run
    assert _restart(exception, support).duplicate  # a double submit adds no second command

    message = OutboxMessage.objects.get()
    assert message.action_run == run
    assert message.status == OutboxStatus.DELIVERED and message.attempts == 3
    assert [r["headers"]["X-Opsconsole-Command-Id"] for r in product.requests] == [str(message.pk)] * 3
    for request in product.requests:
        timestamp, signature = (
            part.split("=", 1)[1] for part in request["headers"]["X-Opsconsole-Signature"].split(",")
        )
        expected = hmac.new(b"product-secret", f"{timestamp}.".encode() + request["body"], hashlib.sha256)
        assert hmac.compare_digest(signature, expected.hexdigest())
    assert product.requests[0]["json"]["command"] == "import.restart"
    assert product.requests[0]["json"]["account"] == account.external_id

    # A redelivered task finds the message delivered and sends nothing.
    outbox_deliver.apply(args=(str(message.pk),))
    assert len(product.requests) == 3
    # The delivery is visible from the run.
    assert run.outbox_messages.get().status == OutboxStatus.DELIVERED


@transactional
def test_last_failed_delivery_alerts(account, fail_import, make_user, product, alert_receiver, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    product.statuses = [500] * 10
    _restart(fail_import(account), make_user("support"))
    message = OutboxMessage.objects.get()
    assert message.status == OutboxStatus.FAILED and message.attempts == 3
    assert len(product.requests) == 3
    (alert,) = alert_receiver.requests
    assert alert["json"]["opsconsole"]["kind"] == "outbox_delivery_failed"
    assert alert["json"]["opsconsole"]["fields"]["command_id"] == str(message.pk)
    assert alert["json"]["opsconsole"]["severity"] == "critical"


@transactional
def test_a_refusal_no_retry_changes_fails_at_once_and_alerts(
    account, fail_import, make_user, product, alert_receiver, settings
):
    settings.OUTBOX_MAX_ATTEMPTS = 5
    product.statuses = [422]
    _restart(fail_import(account), make_user("support"))
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts, message.response_status) == (OutboxStatus.FAILED, 1, 422)
    assert len(product.requests) == 1
    (alert,) = alert_receiver.requests
    assert "not delivered after 1 attempt" in alert["json"]["text"]


@transactional
def test_too_many_requests_is_retried(account, fail_import, make_user, product):
    product.statuses = [429, 408]  # then 200
    _restart(fail_import(account), make_user("support"))
    message = OutboxMessage.objects.get()
    assert message.status == OutboxStatus.DELIVERED and message.attempts == 3


def test_backoff_doubles(settings):
    settings.OUTBOX_BACKOFF_SECONDS = 30
    assert [backoff_seconds(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]


@transactional
def test_failed_action_rolls_back_and_alerts(account, fail_import, make_user, alert_receiver, monkeypatch):

    def broken(**kwargs):
        raise RuntimeError("timeline unavailable")

    monkeypatch.setattr(accounts.actions, "account_event_note", broken)
    exception = fail_import(account)
    run = _restart(exception, make_user("support")).run
    run = ActionRun.objects.get(pk=run.pk)
    assert run.status == ActionStatus.FAILED
    assert "timeline unavailable" in run.error_message
    exception.refresh_from_db()
    assert exception.status == "open"  # the effect was rolled back
    assert not OutboxMessage.objects.exists()
    (alert,) = alert_receiver.requests
    payload = alert["json"]
    assert payload["opsconsole"]["kind"] == "action_failed"
    assert payload["opsconsole"]["fields"]["action_run"] == run.pk
    assert "restart_import" in payload["text"]


@pytest.mark.redis
@transactional
def test_retry_goes_through_the_broker_with_a_countdown(
    account, fail_import, make_user, product, settings, celery_worker_on_redis
):
    import time

    settings.OUTBOX_BACKOFF_SECONDS = 0.2
    product.statuses = [503]  # then 200
    _restart(fail_import(account), make_user("support"))
    message = OutboxMessage.objects.get()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        message.refresh_from_db()
        if message.status == OutboxStatus.DELIVERED:
            break
        time.sleep(0.1)
    assert message.status == OutboxStatus.DELIVERED and message.attempts == 2
    assert len({r["headers"]["X-Opsconsole-Command-Id"] for r in product.requests}) == 1


# --- CRM pushes ----------------------------------------------------------------------------


def _crm_push(account, company, properties, *, key="", crm="hubspot"):
    return outbox_enqueue(
        destination=OUTBOX_DESTINATION,
        command="crm.update_company",
        payload={"crm": crm, "record_id": company["id"], "properties": properties},
        account=account,
        dedupe_key=key,
    )


@transactional
def test_crm_message_is_delivered_through_the_adapter_after_commit(account, hubspot):
    company = hubspot.add_company(account, stage="customer")
    with transaction.atomic():
        message = _crm_push(account, company, {"lifecyclestage": "opportunity"})
        assert hubspot.patches == []  # nothing leaves before the commit

    message.refresh_from_db()
    assert message.status == OutboxStatus.DELIVERED and message.attempts == 1
    # An earlier stage than HubSpot's own needs clearing first, or HubSpot ignores it.
    assert hubspot.patches == [
        (company["id"], {"properties": {"lifecyclestage": ""}}),
        (company["id"], {"properties": {"lifecyclestage": "opportunity"}}),
    ]
    assert company["properties"]["lifecyclestage"] == "opportunity"


@transactional
def test_crm_5xx_is_retried_with_backoff_then_delivered(account, hubspot, settings):
    settings.OUTBOX_BACKOFF_SECONDS = 0
    hubspot.patch_statuses = [502, 503]  # then 200
    company = hubspot.add_company(account, plan="enterprise")
    message = _crm_push(account, company, {"opsconsole_plan": "starter"})

    message.refresh_from_db()
    assert message.status == OutboxStatus.DELIVERED and message.attempts == 3
    assert [r[0] for r in hubspot.requests] == ["PATCH"] * 3
    assert hubspot.patches == [(company["id"], {"properties": {"opsconsole_plan": "starter"}})]
    assert message.last_error == ""


@transactional
def test_crm_failures_alert_after_the_last_attempt(account, hubspot, settings, alert_receiver):
    settings.OUTBOX_BACKOFF_SECONDS = 0
    settings.OUTBOX_MAX_ATTEMPTS = 2
    hubspot.patch_statuses = [503] * 5
    message = _crm_push(account, hubspot.add_company(account), {"opsconsole_plan": "starter"})

    message.refresh_from_db()
    assert message.status == OutboxStatus.FAILED and message.response_status == 503
    assert message.attempts == 2 and [r[0] for r in hubspot.requests] == ["PATCH", "PATCH"]
    assert "503" in message.last_error
    (alert,) = alert_receiver.requests
    assert alert["json"]["opsconsole"]["kind"] == "outbox_delivery_failed"
    assert "CRM (CRM_ADAPTER) command crm.update_company not delivered" in alert["json"]["text"]


@transactional
def test_crm_company_gone_is_not_retried(account, hubspot, settings, alert_receiver):
    settings.OUTBOX_BACKOFF_SECONDS = 0
    message = _crm_push(account, {"id": "424242"}, {"opsconsole_plan": "starter"})

    message.refresh_from_db()
    assert (message.status, message.attempts, message.response_status) == (OutboxStatus.FAILED, 1, 404)
    assert len(alert_receiver.requests) == 1


@pytest.mark.django_db
def test_crm_push_is_not_sent_to_a_crm_other_than_the_one_it_was_queued_for(account, hubspot):
    company = hubspot.add_company(account)
    message = _crm_push(account, company, {"opsconsole_plan": "starter"}, crm="salesforce")
    assert outbox_deliver_once(message.pk) is None
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, 1)
    assert "queued for the salesforce CRM, but CRM_ADAPTER is now hubspot" in message.last_error
    assert hubspot.patches == []


@pytest.mark.django_db
def test_crm_push_twice_while_in_flight_is_one_message(account, hubspot):
    company = hubspot.add_company(account)
    first = _crm_push(account, company, {"opsconsole_plan": "starter"}, key="crm:k")
    second = _crm_push(account, company, {"opsconsole_plan": "starter"}, key="crm:k")
    assert second.pk == first.pk
    assert OutboxMessage.objects.filter(status=OutboxStatus.PENDING).count() == 1

    # The database, not the enqueue function, is what refuses a second one in flight.
    with pytest.raises(IntegrityError), transaction.atomic():
        OutboxMessage.objects.create(destination="crm", command="crm.update_company", dedupe_key="crm:k")

    # Once delivered, the same push may be asked for again (the CRM may have changed since).
    assert outbox_deliver_once(first.pk) is None
    third = _crm_push(account, company, {"opsconsole_plan": "starter"}, key="crm:k")
    assert third.pk != first.pk
    assert OutboxMessage.objects.filter(status=OutboxStatus.PENDING).get() == third


@pytest.mark.django_db
def test_crm_message_without_crm_credentials_is_logged(account, settings):
    settings.HUBSPOT_ACCESS_TOKEN = ""
    message = _crm_push(account, {"id": "1"}, {"opsconsole_plan": "starter"})
    assert outbox_deliver_once(message.pk) is None
    message.refresh_from_db()
    assert message.status == OutboxStatus.NOT_CONFIGURED and message.attempts == 0
