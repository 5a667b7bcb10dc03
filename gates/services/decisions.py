"""Decision records: drafted from the reports, signed once by the executive owner or an ops
lead, immutable afterwards (database triggers); an amendment is a new linked record."""

from datetime import date, timedelta

from django.utils import timezone

from gates import evidence, permissions
from gates.choices import Comparator, Outcome, RampStatus
from gates.models import Decision, DecisionFix, GateReview, RampPlan, RestartCondition
from gates.selectors import latest_evaluation, open_pause
from gates.services.cycles import cycle_start_locked
from gates.services.plans import refuse, set_status
from opsconsole.errors import Conflict, ValidationFailed
from opsconsole.history import service
from reports.metrics import COHORT_METRICS

EVIDENCE_WINDOW_DAYS = 28


def _check_fixes(fixes: list[dict]) -> None:
    for i, fix in enumerate(fixes):
        missing = [k for k in ("reason_code", "owner", "due_date", "success_metric") if not fix.get(k)]
        if missing:
            raise ValidationFailed("invalid_fix", f"Fix {i + 1} needs {', '.join(missing)}.", {"fix": i})


def _check_conditions(conditions: list[dict]) -> None:
    for i, c in enumerate(conditions):
        if c.get("metric") not in COHORT_METRICS:
            raise ValidationFailed(
                "invalid_condition", f"Condition {i + 1}: unknown metric.", {"condition": i}
            )
        if c.get("comparator") not in (Comparator.ABOVE, Comparator.BELOW):
            raise ValidationFailed(
                "invalid_condition", f"Condition {i + 1}: above or below.", {"condition": i}
            )
        if c.get("value") is None or int(c.get("consecutive_days") or 0) < 1:
            raise ValidationFailed(
                "invalid_condition",
                f"Condition {i + 1} needs a value and consecutive days.",
                {"condition": i},
            )


def drafted_evidence(plan: RampPlan, *, today: date) -> dict:
    since, until = today - timedelta(days=EVIDENCE_WINDOW_DAYS), today + timedelta(days=1)
    code = plan.channel.code
    return {
        "failure_reasons": evidence.top_failure_reasons(channel=code, since=since, until=until, limit=5),
        "example_timelines": evidence.example_timelines(channel=code, since=since, until=until),
    }


@service
def decision_draft(
    *,
    review: GateReview,
    outcome: str,
    rationale: str,
    attendees: list[str],
    expected_volume: int,
    fixes: list[dict] = (),
    next_step: str = "",
    review_date: date | None = None,
    restart_conditions: list[dict] = (),
    amends: Decision | None = None,
    actor,
) -> Decision:
    """Draft the record; the top failure reasons and example timelines come from the reports."""
    plan = review.plan
    if not permissions.may_run_review(actor, plan):
        refuse("not_allowed", "Only ops leads and the plan's executive owner draft gate decisions.")
    if outcome not in Outcome.values:
        raise ValidationFailed("invalid_outcome", "The decision is proceed, harden or pause.")
    if not (rationale or "").strip():
        raise ValidationFailed("rationale_required", "A decision needs a written rationale.")
    if outcome == Outcome.PROCEED and not (next_step and review_date):
        raise ValidationFailed(
            "next_step_required", "Proceed needs the next volume step and the review date."
        )
    if outcome == Outcome.PAUSE and not restart_conditions:
        raise ValidationFailed("restart_conditions_required", "Pause needs measurable restart conditions.")
    if amends is not None:
        amends = Decision.objects.get(pk=amends.pk)
    if amends is not None and not amends.is_signed:
        raise Conflict("amends_unsigned", "Only a signed record is amended; edit the draft instead.")
    _check_fixes(list(fixes))
    _check_conditions(list(restart_conditions))
    drafted = drafted_evidence(plan, today=timezone.localdate())
    decision = Decision.objects.create(
        review=review,
        amends=amends,
        attendees=[a.strip() for a in attendees if a and a.strip()],
        expected_volume=expected_volume,
        outcome=outcome,
        rationale=rationale.strip(),
        next_step=next_step,
        review_date=review_date,
        evaluation=latest_evaluation(review),
        drafted_by=actor,
        **drafted,
    )
    DecisionFix.objects.bulk_create(
        [
            DecisionFix(
                decision=decision,
                reason_code=f["reason_code"],
                owner=f["owner"],
                due_date=f["due_date"],
                success_metric=f["success_metric"],
            )
            for f in fixes
        ]
    )
    RestartCondition.objects.bulk_create(
        [
            RestartCondition(
                decision=decision,
                metric=c["metric"],
                comparator=c["comparator"],
                value=float(c["value"]),
                consecutive_days=int(c["consecutive_days"]),
                min_sample=int(c.get("min_sample") or 20),
            )
            for c in restart_conditions
        ]
    )
    return decision


@service
def decision_sign(
    *, decision: Decision, technical_owner=None, operations_owner=None, now=None, actor
) -> Decision:
    """Sign the record; it moves the ramp: proceed ramps (and ends a pause), pause pauses, and
    harden or pause starts a 30-day hardening cycle."""
    decision = Decision.objects.select_for_update().select_related("review__plan").get(pk=decision.pk)
    plan = RampPlan.objects.select_for_update().get(pk=decision.review.plan_id)
    if not permissions.may_sign(actor, plan):
        refuse("not_allowed", "Only the plan's executive owner or an ops lead signs a gate decision.")
    if decision.is_signed:
        raise Conflict("already_signed", "This decision is signed; amend it with a new record.")
    # A pause the stop rules drafted has no conditions yet; signed without any, it could never
    # restart on evidence (and once signed, none can be added).
    if decision.outcome == Outcome.PAUSE and not decision.restart_conditions.exists():
        raise ValidationFailed(
            "restart_conditions_required",
            "A pause is signed with at least one measurable restart condition; draft them first.",
        )
    now = now or timezone.now()
    decision.signed_by = actor
    decision.signed_at = now
    decision.save()
    if decision.outcome == Outcome.PROCEED:
        pause = open_pause(plan)
        if pause is not None:
            pause.resumed_at = now
            pause.resumed_by_decision = decision
            pause.save()
        if plan.status == RampStatus.DRAFT:
            set_status(plan, RampStatus.APPROVED)
        set_status(plan, RampStatus.RAMPING, save=False)
        plan.ramp_started_on = plan.ramp_started_on or now.date()
        plan.next_review = decision.review_date
        labels = [s.get("label") for s in plan.steps]
        if decision.next_step in labels:
            plan.current_step = labels.index(decision.next_step)
        plan.save()
    else:
        if decision.outcome == Outcome.PAUSE or plan.status in (RampStatus.RAMPING, RampStatus.HELD):
            set_status(plan, RampStatus.PAUSED)
        cycle_start_locked(
            plan=plan,
            decision=decision,
            technical_owner=technical_owner,
            operations_owner=operations_owner,
            today=now.date(),
        )
    return decision
