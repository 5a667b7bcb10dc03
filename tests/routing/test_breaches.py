from datetime import timedelta

import pytest
from django.utils import timezone

from routing import selectors, services, tasks
from routing.choices import SlaTarget, TicketStatus
from routing.models import SlaBreach


@pytest.fixture
def sent_alerts(monkeypatch):
    sent = []
    monkeypatch.setattr(services, "alert_send", lambda alert, url=None: sent.append((alert, url)))
    return sent


@pytest.mark.django_db
def test_breach_fires_once_escalates_and_alerts_the_queue(intake, make_queue, activate_rules, sent_alerts):
    queue = make_queue("payments", pager_webhook_url="http://127.0.0.1:9/pager")
    activate_rules(
        [{"key": "all", "queue": queue, "conditions": [{"field": "source", "op": "eq", "value": "zendesk"}]}]
    )
    ticket = intake()
    assert ticket.owner is None and ticket.owner_due_at is not None
    ticket.owner_due_at = timezone.now() - timedelta(minutes=1)  # arrange: the target is missed
    ticket.save()

    assert tasks.sla_check() == 1
    assert tasks.sla_check() == 0  # the next minute finds it recorded
    breach = SlaBreach.objects.get()
    assert (breach.ticket_id, breach.target) == (ticket.pk, SlaTarget.OWNER)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ESCALATED
    assert [(a.kind, url) for a, url in sent_alerts] == [("sla_breach", "http://127.0.0.1:9/pager")]


@pytest.mark.django_db
def test_breach_record_is_idempotent_per_target(intake, system):
    ticket = intake()
    later = timezone.now() + timedelta(days=30)
    due = selectors.tickets_past_due(now=later)
    assert {target for pk, target in due if pk == ticket.pk} == {"owner", "first_response", "resolution"}
    for pk, target in due:
        assert services.sla_breach_record(ticket_id=pk, target=target, now=later, actor=system) is True
        assert services.sla_breach_record(ticket_id=pk, target=target, now=later, actor=system) is False
    assert SlaBreach.objects.filter(ticket=ticket).count() == 3
    assert selectors.tickets_past_due(now=later) == []


@pytest.mark.django_db
def test_met_or_waiting_targets_do_not_breach(intake, make_user, system):
    lead = make_user("ops_lead")
    ticket = services.ticket_respond(ticket=intake(), actor=lead)
    ticket = services.ticket_wait(ticket=ticket, actor=lead)
    later = timezone.now() + timedelta(days=30)
    assert [t for pk, t in selectors.tickets_past_due(now=later) if pk == ticket.pk] == []


@pytest.mark.django_db
def test_sev1_pages_the_queue_on_call(intake, make_queue, activate_rules, sent_alerts):
    queue = make_queue("incidents", pager_webhook_url="http://127.0.0.1:9/oncall")
    activate_rules(
        [
            {
                "key": "outage",
                "queue": queue,
                "severity": "sev1",
                "category": "product_defect",
                "conditions": [{"field": "text", "op": "contains", "value": "down"}],
            }
        ]
    )
    ticket = intake(subject="Everything is down")
    assert ticket.intake_result["paged"] is True
    assert [(a.kind, a.severity, url) for a, url in sent_alerts] == [
        ("page", "critical", "http://127.0.0.1:9/oncall")
    ]
    intake(subject="A question")
    assert len(sent_alerts) == 1
