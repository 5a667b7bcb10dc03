"""The routing decision and console reassignments go back to the help desk through the outbox
and the Zendesk adapter, against a local server speaking Zendesk's shapes."""

import pytest

from opsconsole.models import OutboxMessage
from opsconsole.outbox import outbox_deliver_once
from routing.services import ticket_reassign
from routing.support import helpdesk
from routing.support.helpdesk import HelpdeskUnavailable, RoutingNews, ZendeskAdapter
from routing.support.services.helpdesk import helpdesk_reply_push


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
    ZendeskAdapter(backoff=0.5).route_ticket(external_id="6", news=NEWS)
    assert zendesk.slept == [0.5, 1.0]
    assert [tid for tid, _ in zendesk.puts] == ["6"]


def test_a_reply_is_retried_at_once_only_when_zendesk_did_not_act_on_it(zendesk):
    # 429: refused before Zendesk did anything, so it is sent again after Retry-After.
    zendesk.statuses = [(429, {"Retry-After": "3"})]
    ZendeskAdapter().public_reply(external_id="6", body="Fixed in 2026.12.1", key="m1")
    assert zendesk.slept == [3.0]
    assert zendesk.comments == [("6", {"body": "Fixed in 2026.12.1", "public": True})]
    # A 5xx may come after the comment was added: no second try here; the outbox retries later.
    zendesk.statuses = [(503, {})]
    with pytest.raises(HelpdeskUnavailable) as caught:
        ZendeskAdapter().public_reply(external_id="7", body="Fixed", key="m2")
    assert caught.value.status == 503 and zendesk.slept == [3.0]


def test_the_same_reply_key_posts_once(zendesk):
    for _ in range(2):
        ZendeskAdapter().public_reply(external_id="8", body="Fixed in 2026.12.1", key="m9")
    assert zendesk.comments == [("8", {"body": "Fixed in 2026.12.1", "public": True})]
    assert "opsconsole_reply_m9" in zendesk.tickets["8"]["tags"]


@pytest.mark.django_db
@pytest.mark.parametrize("lost", ["drop", 1.0], ids=["connection reset", "timeout"])
def test_a_reply_whose_answer_was_lost_is_not_posted_twice(zendesk, intake, settings, monkeypatch, lost):
    """Zendesk added the comment, but its answer never came back: the adapter does not post it
    again, and the outbox's next attempt finds it there and counts it delivered."""
    monkeypatch.setattr(helpdesk, "TIMEOUT_SECONDS", 0.3)
    settings.OUTBOX_BACKOFF_SECONDS = 0  # the next attempt is due at once
    ticket = intake(external_id="4711")
    deliver()
    helpdesk_reply_push(ticket=ticket, body="Fixed in 2026.12.1", dedupe_key="notice:1")
    zendesk.lost_answers = [lost]
    deliver()
    message = OutboxMessage.objects.get(command="helpdesk.reply")
    assert message.status == "pending" and message.attempts == 1
    assert zendesk.comments == [("4711", {"body": "Fixed in 2026.12.1", "public": True})]
    deliver()
    message.refresh_from_db()
    assert message.status == "delivered" and message.attempts == 2
    assert len(zendesk.comments) == 1


@pytest.mark.django_db
def test_a_reply_that_failed_before_arriving_is_sent_on_the_next_attempt(zendesk, intake, settings):
    settings.OUTBOX_BACKOFF_SECONDS = 0
    ticket = intake(external_id="4712")
    deliver()
    helpdesk_reply_push(ticket=ticket, body="Fixed in 2026.12.1", dedupe_key="notice:2")
    zendesk.statuses = [(502, {})]
    deliver()
    assert OutboxMessage.objects.get(command="helpdesk.reply").status == "pending" and not zendesk.comments
    deliver()
    assert OutboxMessage.objects.get(command="helpdesk.reply").status == "delivered"
    assert zendesk.comments == [("4712", {"body": "Fixed in 2026.12.1", "public": True})]


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
