"""Who may edit a plan, open and evaluate reviews, override a check, sign a decision, run a
cycle: the role × action matrix, refusals included (and nothing changes when refused)."""

import pytest

from gates.choices import Outcome
from gates.models import CheckOverride, CheckResult, Decision, GateEvaluation
from gates.services import (
    candidate_move_add,
    check_override,
    decision_draft,
    decision_sign,
    ramp_plan_create,
    ramp_plan_update,
    review_evaluate,
    review_open,
)
from opsconsole.errors import PermissionRefused, ValidationFailed
from tests.gates.conftest import STEPS, TARGETS

pytestmark = pytest.mark.django_db
JUSTIFICATION = "The partner staffs onboarding by hand for this quarter's cohort."

# who -> may (edit the plan, open/evaluate a review, override a check, sign)
MATRIX = {
    "owner": (False, True, True, True),  # leadership, the plan's executive owner
    "other_leadership": (False, False, False, False),
    "ops_lead": (True, True, True, True),
    "support": (False, False, False, False),
    "billing": (False, False, False, False),
    "engineering": (False, False, False, False),
    "analytics": (False, False, False, False),
    "product": (False, False, False, False),
}


@pytest.fixture
def actor_for(owner, make_user):
    def _make(who):
        if who == "owner":
            return owner
        if who == "other_leadership":
            return make_user("leadership")
        return make_user(who)

    return _make


@pytest.fixture
def failed_check(plan, ops_lead):
    review = review_open(plan=plan, actor=ops_lead)
    evaluation = GateEvaluation.objects.create(
        review=review,
        evaluated_at="2026-11-30T12:00Z",
        evaluated_by=ops_lead,
        since="2026-11-01",
        until="2026-11-30",
    )
    return CheckResult.objects.create(
        evaluation=evaluation, code="support", passed=False, as_of="2026-11-30T12:00Z"
    )


@pytest.fixture
def unsigned(plan, ops_lead):
    review = review_open(plan=plan, actor=ops_lead)
    return decision_draft(
        review=review,
        outcome=Outcome.HARDEN,
        rationale="Imports fail.",
        attendees=["Dana"],
        expected_volume=1,
        actor=ops_lead,
    )


def allowed(fn, **kwargs) -> bool:
    try:
        fn(**kwargs)
    except PermissionRefused as refused:
        assert refused.code == "not_allowed"
        return False
    return True


@pytest.mark.parametrize("who", list(MATRIX))
def test_edit_a_plan(who, actor_for, plan):
    actor = actor_for(who)
    assert (
        allowed(ramp_plan_update, plan=plan, targets={"target_activation": 0.9}, actor=actor)
        is MATRIX[who][0]
    )
    plan.refresh_from_db()
    assert (plan.target_activation == 0.9) is MATRIX[who][0]


@pytest.mark.parametrize("who", list(MATRIX))
def test_create_a_plan(who, actor_for, make_channel, owner):
    actor = actor_for(who)
    ok = allowed(
        ramp_plan_create,
        channel=make_channel(),
        weekly_signups=10,
        steps=STEPS,
        executive_owner=owner,
        targets=TARGETS,
        actor=actor,
    )
    assert ok is MATRIX[who][0]


@pytest.mark.parametrize("who", list(MATRIX))
def test_open_and_evaluate_a_review(who, actor_for, plan, ops_lead):
    actor = actor_for(who)
    assert allowed(review_open, plan=plan, actor=actor) is MATRIX[who][1]
    review = review_open(plan=plan, actor=ops_lead)
    assert allowed(review_evaluate, review=review, actor=actor) is MATRIX[who][1]
    assert review.evaluations.exists() is MATRIX[who][1]


@pytest.mark.parametrize("who", list(MATRIX))
def test_override_a_check(who, actor_for, failed_check):
    actor = actor_for(who)
    ok = allowed(check_override, result=failed_check, justification=JUSTIFICATION, actor=actor)
    assert ok is MATRIX[who][2]
    assert CheckOverride.objects.filter(check_result=failed_check).exists() is MATRIX[who][2]


@pytest.mark.parametrize("who", list(MATRIX))
def test_sign_a_decision(who, actor_for, unsigned):
    actor = actor_for(who)
    assert allowed(decision_sign, decision=unsigned, actor=actor) is MATRIX[who][3]
    assert (Decision.objects.get(pk=unsigned.pk).signed_at is not None) is MATRIX[who][3]


def test_the_owner_of_another_plan_may_not_sign_this_one(unsigned, make_user, make_channel, ops_lead):
    other_owner = make_user("leadership")
    ramp_plan_create(
        channel=make_channel(),
        weekly_signups=10,
        steps=STEPS,
        executive_owner=other_owner,
        targets=TARGETS,
        actor=ops_lead,
    )
    assert not allowed(decision_sign, decision=unsigned, actor=other_owner)


def test_a_non_executive_cannot_own_a_plan(make_user, make_channel, ops_lead):
    with pytest.raises(ValidationFailed) as refused:
        ramp_plan_create(
            channel=make_channel(),
            weekly_signups=10,
            steps=STEPS,
            executive_owner=make_user("support"),
            targets=TARGETS,
            actor=ops_lead,
        )
    assert refused.value.code == "owner_not_executive"


@pytest.mark.parametrize(("who", "ok"), [("ops_lead", True), ("support", False), ("leadership", False)])
def test_run_a_cycle(who, ok, unsigned, owner, make_user):
    decision_sign(decision=unsigned, actor=owner)
    cycle = Decision.objects.get(pk=unsigned.pk).cycle
    scores = {"business_impact": 3, "evidence_strength": 3, "execution_confidence": 3, "strategic_timing": 3}
    assert (
        allowed(candidate_move_add, cycle=cycle, title="Try", cost_rank=1, **scores, actor=make_user(who))
        is ok
    )
    # the cycle's own owners may, whatever their role
    assert allowed(
        candidate_move_add, cycle=cycle, title="Mine", cost_rank=2, **scores, actor=cycle.technical_owner
    )
