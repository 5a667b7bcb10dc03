"""Ticket type: a rule sets it, the agent confirms or changes it at solve, and a change is
recorded like a reassignment so the rule review can show type accuracy."""

import pytest

from opsconsole.actions.services import run_action
from opsconsole.errors import ApplicationError
from routing.models import RoutingDecision
from routing.selectors.figures import rule_review


@pytest.mark.django_db
@pytest.mark.parametrize("final_type,decisions", [(None, 1), ("bug", 1), ("friction", 2)])
def test_type_confirmed_or_changed_at_solve(
    final_type, decisions, intake, activate_rules, triage_queue, make_user
):
    activate_rules(
        [
            {
                "key": "bugs",
                "conditions": [{"field": "error_code", "op": "eq", "value": "e500"}],
                "queue": triage_queue,
                "ticket_type": "bug",
            }
        ]
    )
    ticket = intake(error_code="e500")
    assert ticket.ticket_type == "bug" and ticket.intake_result["ticket_type"] == "bug"
    params = {"final_category": "product_defect", **({"final_type": final_type} if final_type else {})}
    run_action(
        name="solve_ticket", target=ticket, actor=make_user("ops_lead"), params=params, idempotency_key="s"
    )
    ticket.refresh_from_db()
    assert ticket.final_type == (final_type or "bug")
    assert ticket.decisions.count() == decisions
    if decisions == 2:
        change = ticket.decisions.filter(kind="manual").get()
        assert change.ticket_type == "friction" and "not bug" in change.reason


@pytest.mark.django_db
def test_unknown_type_is_refused(intake, make_user):
    ticket = intake()
    with pytest.raises(ApplicationError):
        run_action(
            name="solve_ticket",
            target=ticket,
            actor=make_user("ops_lead"),
            params={"final_category": "billing", "final_type": "complaint"},
            idempotency_key="s",
        )
    assert not RoutingDecision.objects.filter(kind="manual").exists()


@pytest.mark.django_db
def test_rule_review_shows_type_accuracy(intake, activate_rules, triage_queue, make_user):
    activate_rules(
        [
            {
                "key": "bugs",
                "conditions": [{"field": "error_code", "op": "eq", "value": "e500"}],
                "queue": triage_queue,
                "ticket_type": "bug",
            }
        ]
    )
    lead = make_user("ops_lead")
    for i, final_type in enumerate(["bug", "bug", "friction", None]):
        ticket = intake(error_code="e500")
        params = {"final_category": "product_defect", **({"final_type": final_type} if final_type else {})}
        run_action(name="solve_ticket", target=ticket, actor=lead, params=params, idempotency_key=f"s{i}")
    (row,) = [r for r in rule_review() if r["rule_key"] == "bugs"]
    assert row["type_accuracy"] == 3 / 4
