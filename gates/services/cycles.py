"""30-day hardening cycles: started by a signed harden or pause decision, two constraints from
the ranked list, scored candidate moves, ship dates, and a new review at the end."""

from datetime import date, timedelta

from django.utils import timezone

from accounts.models import ReasonCode
from gates import evidence, permissions
from gates.choices import CycleStatus, ReviewKind
from gates.models import CandidateMove, CycleConstraint, GateReview, HardeningCycle
from gates.services.plans import refuse
from opsconsole.errors import Conflict, ValidationFailed
from opsconsole.history import service
from reports.metrics import COHORT_METRICS

CYCLE_DAYS = 30
CONSTRAINTS_PER_CYCLE = 2
# The metric a constraint's fix should move, by the team that owns the reason code.
SUCCESS_METRIC_BY_TEAM = {
    "support": "tickets_per_100",
    "billing": "activation_24h",
    "engineering": "provisioning_failure_rate",
    "ops_lead": "provisioning_failure_rate",
}
SCORE_AXES = ("business_impact", "evidence_strength", "execution_confidence", "strategic_timing")


def _ranked(plan, today: date) -> list[dict]:
    since, until = today - timedelta(days=28), today + timedelta(days=1)
    ranked = evidence.ranked_constraints(since=since, until=until, channel=plan.channel.code)
    return ranked or []


def cycle_start_locked(*, plan, decision, technical_owner, operations_owner, today: date) -> HardeningCycle:
    """Inside ``decision_sign``: the cycle a harden or pause decision starts."""
    fixes = list(decision.fixes.select_related("owner"))
    technical_owner = technical_owner or (fixes[0].owner if fixes else plan.executive_owner)
    operations_owner = operations_owner or decision.signed_by
    cycle = HardeningCycle.objects.create(
        plan=plan,
        decision=decision,
        starts_on=today,
        ends_on=today + timedelta(days=CYCLE_DAYS),
        sponsor=plan.executive_owner,
        technical_owner=technical_owner,
        operations_owner=operations_owner,
    )
    owners = {f.reason_code: f.owner for f in fixes}
    named = {f.reason_code: _metric_named(f.success_metric) for f in fixes}
    ranked = _ranked(plan, today)
    if not ranked:  # no ranked list: the decision's fixes, in order, are the constraints
        titles = dict(ReasonCode.objects.filter(code__in=owners).values_list("code", "title"))
        ranked = [
            {"reason_code": f.reason_code, "label": titles.get(f.reason_code, ""), "owner_team": ""}
            for f in fixes
        ]
    for rank, item in enumerate(ranked[:CONSTRAINTS_PER_CYCLE], start=1):
        code = item["reason_code"]
        CycleConstraint.objects.create(
            cycle=cycle,
            reason_code=code,
            label=item.get("label") or code,
            cost_rank=rank,
            owner=owners.get(code, technical_owner),
            success_metric=named.get(code)
            or SUCCESS_METRIC_BY_TEAM.get(item.get("owner_team") or "", "activation_24h"),
        )
    return cycle


def _metric_named(text: str) -> str | None:
    """The metric code a fix's success metric names ("provisioning_failure_rate below 25%")."""
    return next((word for word in text.replace(",", " ").split() if word in COHORT_METRICS), None)


@service
def cycle_constraint_ship(*, constraint: CycleConstraint, shipped_on: date, actor) -> CycleConstraint:
    if not permissions.may_run_cycle(actor, constraint.cycle):
        refuse("not_allowed", "Only the cycle's owners and ops leads record ship dates.")
    constraint = CycleConstraint.objects.select_for_update().get(pk=constraint.pk)
    if shipped_on > timezone.localdate():
        raise ValidationFailed("ship_date_in_future", "The ship date is the day the fix shipped.")
    constraint.shipped_on = shipped_on
    constraint.save()
    return constraint


@service
def candidate_move_add(
    *, cycle: HardeningCycle, title: str, cost_rank: int, reason_code: str = "", actor, **scores
):
    if not permissions.may_run_cycle(actor, cycle):
        refuse("not_allowed", "Only the cycle's owners and ops leads add candidate moves.")
    if cycle.status != CycleStatus.OPEN:
        raise Conflict("cycle_closed", "The cycle is closed.")
    if set(scores) != set(SCORE_AXES):
        raise ValidationFailed("scores_required", f"Score every axis: {', '.join(SCORE_AXES)}.")
    bad = [axis for axis, value in scores.items() if not isinstance(value, int) or not 1 <= value <= 5]
    if bad:
        raise ValidationFailed("invalid_score", "Scores are whole numbers from 1 to 5.", {"axes": bad})
    if not title.strip() or cost_rank < 1:
        raise ValidationFailed("invalid_move", "A move needs a title and a cost rank of 1 or more.")
    return CandidateMove.objects.create(
        cycle=cycle, title=title.strip(), reason_code=reason_code, cost_rank=cost_rank, **scores
    )


@service
def cycle_close(*, cycle: HardeningCycle, actor) -> GateReview:
    """End the cycle with a new review of the plan."""
    if not permissions.may_run_cycle(actor, cycle):
        refuse("not_allowed", "Only the cycle's owners and ops leads close a cycle.")
    cycle = HardeningCycle.objects.select_for_update().get(pk=cycle.pk)
    if cycle.status != CycleStatus.OPEN:
        raise Conflict("cycle_closed", "The cycle is already closed.")
    review = GateReview.objects.create(
        plan=cycle.plan,
        kind=ReviewKind.CYCLE_END,
        held_on=timezone.localdate(),
        opened_by=actor,
        opened_because=f"End of the hardening cycle {cycle.starts_on}–{cycle.ends_on}",
    )
    cycle.status = CycleStatus.CLOSED
    cycle.closing_review = review
    cycle.save()
    return review
