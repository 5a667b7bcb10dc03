"""The routing decision and console reassignments go back to the help desk through the outbox
and the Zendesk adapter, against a local server speaking Zendesk's shapes."""

import pytest

from opsconsole.models import OutboxMessage
from opsconsole.outbox import outbox_deliver_once
from routing.services import ticket_reassign
from routing.support.helpdesk import HelpdeskUnavailable, RoutingNews, ZendeskAdapter


def deliver():
    """Deliver the help-desk messages written so far, as the outbox task does after commit."""
    for pk in OutboxMessage.objects.filter(destination="helpdesk", status="pending").values_list(
        "pk", flat=True
    ):
        outbox_deliver_once(pk)


NEWS = RoutingNews(
    queue="triage",
    group="",
    tier=1,
    assignee_email="",
    severity="sev2",
    category="billing",
    ticket_type="bug",
)


@pytest.mark.django_db
def test_intake_sends_the_routing_decision_to_zendesk(zendesk, intake, activate_rules, make_queue):
    queue = make_queue("billing-desk", helpdesk_group="360001", tier=2)
    activate_rules(
        [
            {
                "key": "billing",
                "conditions": [{"field": "feature_area", "op": "eq", "value": "billing"}],
                "queue": queue,
                "severity": "sev2",
                "category": "billing",
                "ticket_type": "billing",
            }
        ]
    )
    ticket = intake(external_id="4242", feature_area="billing", via="email")
    assert ticket.ticket_type == "billing"
    deliver()
    message = OutboxMessage.objects.get(destination="helpdesk", command="helpdesk.route")
    assert message.status == "delivered"
    sent = dict(zendesk.puts)["4242"]["ticket"]
    assert sent["group_id"] == 360001
    assert sent["priority"] == "high"
    assert set(sent["tags"]) == {"queue_billing-desk", "tier_2", "category_billing", "type_billing"}
    assert zendesk.basic_user() == "bot@ops.example/token:zd-test-token"


@pytest.mark.django_db
def test_console_reassignment_goes_out_the_same_way(zendesk, intake, make_user, make_queue):
    lead = make_user("ops_lead", email="lead@ops.example")
    ticket = intake(external_id="77")
    ticket_reassign(
        ticket=ticket, queue=make_queue("specialists"), owner=lead, reason="needs a specialist", actor=lead
    )
    deliver()
    assert OutboxMessage.objects.filter(destination="helpdesk", command="helpdesk.route").count() == 2
    last = zendesk.puts[-1][1]["ticket"]
    assert last["assignee_email"] == "lead@ops.example"
    assert "queue_specialists" in last["tags"]


@pytest.mark.django_db
def test_tickets_from_elsewhere_send_nothing(zendesk, intake):
    intake(source="stripe", external_id="payment_failed:in_1")
    assert not OutboxMessage.objects.filter(destination="helpdesk").exists()
    assert zendesk.puts == []


@pytest.mark.django_db
def test_not_configured_is_logged_not_sent(settings, intake):
    settings.ZENDESK_API_TOKEN = ""
    intake(external_id="99")
    deliver()
    assert OutboxMessage.objects.get(destination="helpdesk").status == "not_configured"


def test_429_waits_retry_after_then_succeeds(zendesk):
    zendesk.statuses = [(429, {"Retry-After": "7"}), (429, {"Retry-After": "2"})]
    ZendeskAdapter().route_ticket(external_id="5", news=NEWS)
    assert zendesk.slept == [7.0, 2.0]
    assert [tid for tid, _ in zendesk.puts] == ["5"]


def test_5xx_backs_off_then_succeeds(zendesk):
    zendesk.statuses = [(503, {}), (500, {})]
    ZendeskAdapter(backoff=0.5).public_reply(external_id="6", body="Fixed in 2026.12.1")
    assert zendesk.slept == [0.5, 1.0]
    assert zendesk.comments == [("6", {"body": "Fixed in 2026.12.1", "public": True})]


def test_5xx_every_time_gives_up_with_the_status(zendesk):
    zendesk.statuses = [(503, {})] * 4
    with pytest.raises(HelpdeskUnavailable) as caught:
        ZendeskAdapter(tries=4).route_ticket(external_id="5", news=NEWS)
    assert caught.value.status == 503 and zendesk.puts == []


def test_long_retry_after_goes_back_to_the_outbox(zendesk):
    zendesk.statuses = [(429, {"Retry-After": "600"})]
    with pytest.raises(HelpdeskUnavailable) as caught:
        ZendeskAdapter().route_ticket(external_id="5", news=NEWS)
    assert caught.value.status == 429 and zendesk.slept == []


@pytest.mark.django_db
def test_a_refusal_fails_the_message_without_retry(zendesk, intake, monkeypatch):
    zendesk.statuses = [(422, {})]
    intake(external_id="31")
    deliver()
    message = OutboxMessage.objects.get(destination="helpdesk")
    assert message.status == "failed" and message.response_status == 422 and message.attempts == 1


@pytest.mark.django_db
def test_a_5xx_outlasting_the_adapter_stays_pending_for_the_outbox(zendesk, intake):
    zendesk.statuses = [(502, {})] * 4
    intake(external_id="32")
    deliver()
    message = OutboxMessage.objects.get(destination="helpdesk")
    assert message.status == "pending" and message.response_status == 502
