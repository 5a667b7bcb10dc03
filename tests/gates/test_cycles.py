"""Hardening cycles: started by harden, two constraints, scored moves sorted by score or cost,
before/after metrics with "moved or not moved" after three business days, a new review at the end."""

from datetime import date, timedelta

import pytest

from gates.choices import CycleStatus, Outcome, ReviewKind
from gates.models import CycleConstraint
from gates.selectors import add_business_days, constraint_progress, ranked_moves
from gates.services import (
    candidate_move_add,
    cycle_close,
    cycle_constraint_ship,
    decision_draft,
    decision_sign,
    review_open,
)
from opsconsole.errors import ValidationFailed

pytestmark = pytest.mark.django_db


@pytest.fixture
def cycle(plan, owner, ops_lead):
    review = review_open(plan=plan, actor=ops_lead)
    fixes = [
        {"reason_code": code, "owner": ops_lead, "due_date": date(2026, 12, 20), "success_metric": "x"}
        for code in ("import_failed", "integration_failed", "invite_expired")
    ]
    decision = decision_draft(
        review=review,
        outcome=Outcome.HARDEN,
        rationale="Imports fail.",
        attendees=["Dana"],
        expected_volume=1,
        fixes=fixes,
        actor=ops_lead,
    )
    decision_sign(decision=decision, actor=owner)
    return decision.cycle


def test_two_constraints_each_with_an_owner_and_a_metric(cycle, ops_lead):
    assert [(c.reason_code, c.cost_rank, c.owner) for c in cycle.constraints.all()] == [
        ("import_failed", 1, ops_lead),
        ("integration_failed", 2, ops_lead),
    ]


def test_moves_sort_by_score_or_by_cost_and_scores_stay_1_to_5(cycle, ops_lead):
    for title, scores, cost in (("a", (5, 5, 5, 5), 3), ("b", (1, 2, 1, 2), 1), ("c", (3, 3, 3, 3), 2)):
        candidate_move_add(
            cycle=cycle,
            title=title,
            cost_rank=cost,
            business_impact=scores[0],
            evidence_strength=scores[1],
            execution_confidence=scores[2],
            strategic_timing=scores[3],
            actor=ops_lead,
        )
    assert [m.title for m in ranked_moves(cycle, by="score")] == ["a", "c", "b"]
    assert [m.title for m in ranked_moves(cycle, by="cost")] == ["b", "c", "a"]
    with pytest.raises(ValidationFailed) as refused:
        candidate_move_add(
            cycle=cycle,
            title="d",
            cost_rank=1,
            business_impact=6,
            evidence_strength=1,
            execution_confidence=1,
            strategic_timing=1,
            actor=ops_lead,
        )
    assert refused.value.code == "invalid_score"


def test_before_and_after_the_ship_date_and_the_verdict_after_three_business_days(cycle, ops_lead, snapshot):
    constraint = cycle.constraints.get(reason_code="import_failed")
    CycleConstraint.objects.filter(pk=constraint.pk).update(success_metric="provisioning_failure_rate")
    ship = date(2026, 11, 18)  # a Wednesday: three business days later is Monday the 23rd
    cycle_constraint_ship(constraint=constraint, shipped_on=ship, actor=ops_lead)
    constraint.refresh_from_db()
    for i in range(1, 15):
        snapshot("provisioning_failure_rate", ship - timedelta(days=i), 10, 50)  # 20% before
    for i in range(0, 5):
        snapshot("provisioning_failure_rate", ship + timedelta(days=i), 5, 50)  # 10% after
    assert add_business_days(ship, 3) == date(2026, 11, 23)
    waiting = constraint_progress(constraint, today=date(2026, 11, 20))
    assert waiting["verdict"] == "wait until 2026-11-23"
    done = constraint_progress(constraint, today=date(2026, 11, 23))
    assert done["before"] == {"value": 0.2, "n": 700, "days": 14}
    assert done["after"] == {"value": 0.1, "n": 250, "days": 5}
    assert done["verdict"] == "moved"


def test_a_metric_that_got_worse_did_not_move(cycle, ops_lead, snapshot):
    constraint = cycle.constraints.first()
    CycleConstraint.objects.filter(pk=constraint.pk).update(success_metric="activation_24h")
    ship = date(2026, 11, 18)
    cycle_constraint_ship(constraint=constraint, shipped_on=ship, actor=ops_lead)
    constraint.refresh_from_db()
    snapshot("activation_24h", ship - timedelta(days=1), 30, 50)
    snapshot("activation_24h", ship, 20, 50)
    assert constraint_progress(constraint, today=date(2026, 12, 1))["verdict"] == "not moved"


def test_the_cycle_ends_with_a_new_review(cycle, ops_lead):
    review = cycle_close(cycle=cycle, actor=ops_lead)
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.CLOSED
    assert cycle.closing_review == review
    assert review.kind == ReviewKind.CYCLE_END
