from datetime import timedelta

import pytest
from django.utils import timezone

from routing import selectors, services, tasks
from routing.choices import SlaTarget, TicketStatus
from routing.models import SlaBreach, Ticket
from routing.services import alerts as routing_alerts
from tests.helpers.race import run_together


@pytest.fixture
def sent_alerts(monkeypatch):
    sent = []
    monkeypatch.setattr(routing_alerts, "alert_send", lambda alert, url=None: sent.append((alert, url)))
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


# serialized_rollback: the flush after a transactional test would drop the rows the migrations
# seed (queues, the catch-all rule, reason codes) that later tests rely on.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_checking_at_once_record_one_breach(intake, sent_alerts):
    ticket = intake()
    ticket.owner_due_at = timezone.now() - timedelta(minutes=1)  # arrange: the owner target is missed
    ticket.save()
    counts = run_together(4, lambda _: tasks.sla_check())
    assert sum(counts) == 1
    assert SlaBreach.objects.filter(ticket=ticket, target=SlaTarget.OWNER).count() == 1
    assert [a.kind for a, _ in sent_alerts] == ["sla_breach"]


@pytest.mark.django_db
def test_a_backlog_is_checked_longest_overdue_first_in_batches(intake):

    first, second, oldest = intake(), intake(), intake()
    now = timezone.now()
    # Two tickets due at the same moment (as every ticket opened out of business hours is),
    # and a later ticket that is the longest overdue.
    Ticket.objects.filter(pk__in=[first.pk, second.pk]).update(owner_due_at=now - timedelta(hours=1))
    Ticket.objects.filter(pk=oldest.pk).update(owner_due_at=now - timedelta(hours=3))

    def owner_batch(limit):
        return [pk for pk, target in selectors.tickets_past_due(now=now, limit=limit) if target == "owner"]

    assert owner_batch(1) == [oldest.pk]
    assert owner_batch(3) == [oldest.pk, first.pk, second.pk]  # a tie goes to the older ticket
    # Each target is batched on its own.
    later = selectors.tickets_past_due(now=now + timedelta(days=30), limit=1)
    assert sorted(target for _, target in later) == sorted(SlaTarget.values)
