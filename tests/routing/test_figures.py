from datetime import timedelta

import pytest
from django.utils import timezone

from routing import selectors, services


@pytest.mark.django_db
def test_queue_stats_percentiles_and_past_target(intake, triage_queue):
    now = timezone.now()
    for hours in (1, 2, 3, 4, 10):
        ticket = intake()
        ticket.created_at = now - timedelta(hours=hours)  # arrange ages
        ticket.owner_due_at = now - timedelta(minutes=1) if hours == 10 else now + timedelta(hours=1)
        ticket.save()
    stats = selectors.queue_stats(triage_queue, now=now)
    assert stats["open"] == 5
    assert stats["p50_hours"] == pytest.approx(3)
    assert stats["p90_hours"] == pytest.approx(4 + 0.6 * 6)
    assert stats["p99_hours"] == pytest.approx(4 + 0.96 * 6)
    assert stats["past_target"] == 1
    assert sum(b["count"] for b in stats["histogram"]) == 5


@pytest.mark.django_db
def test_weekly_rule_review_flags_high_reassignment(activate_rules, make_queue, make_user, intake, system):
    queue, other = make_queue("billing"), make_queue("other")
    activate_rules(
        [
            {
                "key": "billing",
                "queue": queue,
                "category": "billing",
                "conditions": [{"field": "text", "op": "contains", "value": "invoice"}],
            }
        ]
    )
    lead = make_user("ops_lead")
    tickets = [intake(subject=f"Invoice {i}") for i in range(5)]
    services.ticket_reassign(ticket=tickets[0], queue=other, owner=lead, reason="not billing", actor=lead)
    services.ticket_reassign(ticket=tickets[1], queue=other, owner=lead, reason="not billing", actor=lead)
    services.ticket_solve(ticket=tickets[0], final_category="product_defect", actor=lead)
    services.ticket_solve(ticket=tickets[2], final_category="billing", actor=lead)
    row = next(r for r in selectors.rule_review() if r["rule_key"] == "billing")
    assert row["routed"] == 5
    assert row["share_reassigned"] == pytest.approx(0.4)
    assert row["share_category_differed"] == pytest.approx(0.5)
    assert row["median_minutes_to_owner"] is not None
    assert row["high_reassignment"] is True
