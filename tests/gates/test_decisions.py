"""Decision records: drafting rules, signing, immutability in the database, amendments."""

from datetime import date, timedelta

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from gates.choices import Outcome, RampStatus
from gates.models import Decision, DecisionFix, HardeningCycle
from gates.services import decision_draft, decision_sign, review_open
from opsconsole.errors import Conflict, ValidationFailed

pytestmark = pytest.mark.django_db


def draft(review, actor, **fields):
    fields.setdefault("outcome", Outcome.HARDEN)
    fields.setdefault("rationale", "Imports fail for a third of partner accounts.")
    fields.setdefault("attendees", ["Dana (CEO)", "Ops lead"])
    fields.setdefault("expected_volume", 300)
    return decision_draft(review=review, **fields, actor=actor)


@pytest.fixture
def review(plan, owner):
    return review_open(plan=plan, actor=owner)


def test_a_rationale_is_required(review, owner):
    with pytest.raises(ValidationFailed) as refused:
        draft(review, owner, rationale="   ")
    assert refused.value.code == "rationale_required"
    assert not Decision.objects.exists()


def test_the_database_refuses_a_blank_rationale_too(review, owner):
    with pytest.raises(IntegrityError), transaction.atomic():
        Decision.objects.create(
            review=review, outcome="harden", rationale=" ", expected_volume=1, drafted_by=owner
        )


def test_proceed_needs_next_step_and_review_date(review, owner):
    with pytest.raises(ValidationFailed) as refused:
        draft(review, owner, outcome=Outcome.PROCEED)
    assert refused.value.code == "next_step_required"


def test_pause_needs_measurable_restart_conditions(review, owner):
    with pytest.raises(ValidationFailed) as refused:
        draft(review, owner, outcome=Outcome.PAUSE)
    assert refused.value.code == "restart_conditions_required"
    with pytest.raises(ValidationFailed) as refused:
        draft(
            review,
            owner,
            outcome=Outcome.PAUSE,
            restart_conditions=[{"metric": "mood", "comparator": "above"}],
        )
    assert refused.value.code == "invalid_condition"


def test_signing_proceed_ramps_the_plan(review, owner, plan):
    decision = draft(
        review, owner, outcome=Outcome.PROCEED, next_step="1.5x now", review_date=date(2026, 12, 15)
    )
    decision_sign(decision=decision, actor=owner)
    plan.refresh_from_db()
    assert plan.status == RampStatus.RAMPING
    assert plan.next_review == date(2026, 12, 15)
    assert plan.ramp_started_on == timezone.now().date()
    assert [h.status for h in plan.history.order_by("history_date")] == ["draft", "approved", "ramping"]


def test_signing_harden_starts_a_30_day_cycle(review, owner, ops_lead, plan):
    decision = draft(
        review,
        owner,
        fixes=[
            {
                "reason_code": "import_failed",
                "owner": ops_lead,
                "due_date": date(2026, 12, 20),
                "success_metric": "import_failed share below 5%",
            }
        ],
    )
    decision_sign(decision=decision, actor=owner)
    cycle = HardeningCycle.objects.get(decision=decision)
    assert (cycle.ends_on - cycle.starts_on).days == 30
    assert cycle.sponsor == owner
    assert cycle.technical_owner == ops_lead
    assert [c.reason_code for c in cycle.constraints.all()] == ["import_failed"]


def test_signed_is_final_in_the_service(review, owner):
    decision = draft(review, owner)
    decision_sign(decision=decision, actor=owner)
    with pytest.raises(Conflict) as refused:
        decision_sign(decision=decision, actor=owner)
    assert refused.value.code == "already_signed"


def test_the_database_refuses_to_change_a_signed_decision(review, owner, ops_lead):
    decision = draft(
        review,
        owner,
        fixes=[
            {
                "reason_code": "import_failed",
                "owner": ops_lead,
                "due_date": date(2026, 12, 20),
                "success_metric": "fewer failed imports",
            }
        ],
    )
    # before signing it may change
    Decision.objects.filter(pk=decision.pk).update(rationale="Reworded before signing.")
    decision_sign(decision=decision, actor=owner)
    for sql in (
        "UPDATE gates_decision SET rationale = 'rewritten' WHERE id = %s",
        "DELETE FROM gates_decision WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="Cannot update or delete"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [decision.pk])
    with pytest.raises(DatabaseError, match="decision is signed"), transaction.atomic():
        DecisionFix.objects.filter(decision=decision).update(due_date=date(2027, 6, 1))
    with pytest.raises(DatabaseError, match="decision is signed"), transaction.atomic():
        DecisionFix.objects.create(
            decision=decision, reason_code="x", owner=owner, due_date=date(2027, 1, 1), success_metric="x"
        )
    decision.refresh_from_db()
    assert decision.rationale == "Reworded before signing."
    assert decision.fixes.get().due_date == date(2026, 12, 20)


def test_an_amendment_is_a_new_linked_record(review, owner):
    decision = draft(review, owner)
    with pytest.raises(Conflict):
        draft(review, owner, amends=decision)  # a draft is edited, not amended
    decision_sign(decision=decision, actor=owner)
    amendment = draft(review, owner, amends=decision, rationale="Add the invite fix.")
    assert amendment.pk != decision.pk
    assert list(decision.amendments.all()) == [amendment]
    decision.refresh_from_db()
    assert decision.rationale == "Imports fail for a third of partner accounts."


def test_a_paused_plan_ramps_only_on_a_new_signed_proceed(review, owner, plan):
    pause = draft(
        review,
        owner,
        outcome=Outcome.PAUSE,
        restart_conditions=[
            {"metric": "activation_24h", "comparator": "above", "value": 0.62, "consecutive_days": 5}
        ],
    )
    decision_sign(decision=pause, actor=owner)
    plan.refresh_from_db()
    assert plan.status == RampStatus.PAUSED
    proceed = draft(
        review,
        owner,
        outcome=Outcome.PROCEED,
        next_step="1.5x now",
        review_date=timezone.now().date() + timedelta(days=14),
    )
    plan.refresh_from_db()
    assert plan.status == RampStatus.PAUSED  # a draft changes nothing
    decision_sign(decision=proceed, actor=owner)
    plan.refresh_from_db()
    assert plan.status == RampStatus.RAMPING
