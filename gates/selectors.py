"""Reads of gates: ramp plans, reviews, rule histories, the ramp status; and the snapshot
periods the stop rules read. Each list starts from ``restrict(user)`` where a user reads."""

from datetime import date, timedelta

from django.db.models import OuterRef, Prefetch, Subquery

from gates.checks.base import BOARD_TARGET_MIN, LIMITED_RAMP_MIN
from gates.choices import WATCHED_STATUSES, Outcome, RampStatus, RuleOutcome
from gates.models import Decision, GateReview, RampPlan, RuleEvaluation, StopRule
from gates.rules import BASELINE_DAYS, Period
from reports.metrics import METRICS, PER_100
from reports.models import MetricSnapshot


def metric_scale(metric: str) -> float:
    return 100.0 if METRICS[metric].kind == PER_100 else 1.0


def metric_periods(*, channel_id: int, metric: str, since: date, until: date) -> list[Period]:
    """The channel's snapshot rows of ``metric`` (its current definition version) for the signup
    days in [since, until), as periods. A complete day with nothing to measure (no signups that
    day) is no period: it neither breaches nor holds."""
    rows = MetricSnapshot.objects.filter(
        channel_id=channel_id,
        metric=metric,
        version=METRICS[metric.split(".")[0]].version,
        period__gte=since,
        period__lt=until,
    ).order_by("period")
    return [
        Period(r.period, r.value, r.numerator, r.denominator, r.complete, r.pk)
        for r in rows
        if not (r.complete and r.value is None)
    ]


def baseline_window(plan: RampPlan) -> tuple[date, date]:
    return plan.ramp_started_on - timedelta(days=BASELINE_DAYS), plan.ramp_started_on


def live_plan(channel) -> RampPlan | None:
    return (
        RampPlan.objects.filter(channel=channel)
        .exclude(status=RampStatus.COMPLETED)
        .select_related("channel", "executive_owner")
        .first()
    )


def watched_plans(channels: list[str] | None = None):
    plans = RampPlan.objects.filter(status__in=(*WATCHED_STATUSES, RampStatus.PAUSED)).select_related(
        "channel"
    )
    if channels is not None:
        plans = plans.filter(channel__code__in=channels)
    return plans


def ramping_channel_codes() -> list[str]:
    return list(watched_plans().values_list("channel__code", flat=True))


def latest_signed_decision(plan: RampPlan) -> Decision | None:
    return (
        Decision.objects.filter(review__plan=plan, signed_at__isnull=False)
        .select_related("signed_by", "review")
        .order_by("-signed_at", "-id")
        .first()
    )


def latest_rule_evaluations(plan: RampPlan) -> list[tuple[StopRule, RuleEvaluation | None]]:
    out = []
    for rule in plan.stop_rules.filter(active=True).order_by("id"):
        out.append((rule, rule.evaluations.order_by("-evaluated_at", "-id").first()))
    return out


def open_pause(plan: RampPlan):
    return plan.pauses.filter(resumed_at__isnull=True).select_related("rule", "evaluation").first()


def ramp_status(channel) -> dict:
    """The ramp-status document the API answers with."""
    plan = live_plan(channel)
    decision = latest_signed_decision(plan) if plan else None
    rules = latest_rule_evaluations(plan) if plan else []
    stop_rules = [
        {
            "name": rule.name,
            "metric": rule.metric,
            "outcome": ev.outcome if ev else RuleOutcome.INSUFFICIENT_DATA,
            "evaluated_at": ev.evaluated_at if ev else None,
            "measured": ev.measured if ev else {"reason": "not evaluated yet"},
        }
        for rule, ev in rules
    ]
    tripped = any(r["outcome"] == RuleOutcome.TRIPPED for r in stop_rules) or (
        plan is not None and plan.status == RampStatus.PAUSED
    )
    held = any(r["outcome"] == RuleOutcome.INSUFFICIENT_DATA for r in stop_rules)
    may_ramp = bool(
        plan
        and plan.status == RampStatus.RAMPING
        and decision
        and decision.outcome == Outcome.PROCEED
        and not tripped
        and not held
    )
    return {
        "channel": channel.code,
        "may_ramp": may_ramp,
        "ramp": None
        if plan is None
        else {"status": plan.status, "current_step": plan.step_label, "next_review": plan.next_review},
        "decision": None
        if decision is None
        else {
            "outcome": decision.outcome,
            "signed_at": decision.signed_at,
            "signed_by": decision.signed_by.get_username(),
            "review": decision.review_id,
        },
        "stop_rules": stop_rules,
        "tripped": tripped,
    }


def plans_for(user):
    return (
        RampPlan.objects.restrict(user)
        .select_related("channel", "executive_owner")
        .prefetch_related(Prefetch("stop_rules", queryset=StopRule.objects.filter(active=True)))
    )


def reviews_for(user, plan: RampPlan):
    return GateReview.objects.restrict(user).filter(plan=plan).prefetch_related("evaluations", "decisions")


def rule_history(rule: StopRule, *, limit: int = 60) -> list[RuleEvaluation]:
    return list(rule.evaluations.order_by("-evaluated_at", "-id")[:limit])[::-1]


def evaluation_tally(evaluation) -> dict:
    """The rule the review shows: 4 of 6 (passed or overridden in writing) makes a limited ramp
    eligible; 6 of 6 passed outright is needed before a board-level target depends on it."""
    checks = list(evaluation.checks.select_related("override"))
    passed = sum(1 for c in checks if c.passed)
    overridden = sum(1 for c in checks if not c.passed and hasattr(c, "override"))
    return {
        "passed": passed,
        "overridden": overridden,
        "failed": len(checks) - passed - overridden,
        "total": len(checks),
        "limited_ramp_eligible": passed + overridden >= LIMITED_RAMP_MIN,
        "board_target_eligible": passed >= BOARD_TARGET_MIN,
    }


def latest_evaluation(review):
    return review.evaluations.order_by("-evaluated_at", "-id").first()


# Metrics where a lower value is better (the rest: higher is better).
LOWER_IS_BETTER = {
    "provisioning_failure_rate",
    "tickets_per_100",
    "escalations_per_100",
    "manual_minutes_per_account",
}
BEFORE_DAYS = 14
SETTLE_BUSINESS_DAYS = 3


def add_business_days(day: date, n: int) -> date:
    while n:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def pooled(periods: list[Period], scale: float) -> dict:
    mature = [p for p in periods if p.complete and p.denominator]
    num = sum(p.numerator or 0 for p in mature)
    den = sum(p.denominator for p in mature)
    return {"value": round(scale * num / den, 4) if den else None, "n": den, "days": len(mature)}


def constraint_progress(constraint, *, today: date) -> dict:
    """The constraint's success metric before the fix shipped (the 14 days before) and after
    (the first three business days from the ship date), and, once those three business days
    are past, whether it moved the right way."""
    if constraint.shipped_on is None:
        return {"metric": constraint.success_metric, "shipped_on": None, "verdict": "not shipped"}
    metric, ship = constraint.success_metric, constraint.shipped_on
    channel_id = constraint.cycle.plan.channel_id
    settle = add_business_days(ship, SETTLE_BUSINESS_DAYS)
    scale = metric_scale(metric)
    before = pooled(
        metric_periods(
            channel_id=channel_id, metric=metric, since=ship - timedelta(days=BEFORE_DAYS), until=ship
        ),
        scale,
    )
    after = pooled(metric_periods(channel_id=channel_id, metric=metric, since=ship, until=settle), scale)
    if today < settle:
        verdict = f"wait until {settle}"
    elif before["value"] is None or after["value"] is None:
        verdict = "not measurable yet"
    else:
        better = (
            after["value"] < before["value"]
            if metric in LOWER_IS_BETTER
            else after["value"] > before["value"]
        )
        verdict = "moved" if better else "not moved"
    return {
        "metric": metric,
        "shipped_on": ship,
        "before": before,
        "after": after,
        "settles_on": settle,
        "verdict": verdict,
    }


def ranked_moves(cycle, *, by: str = "score") -> list:
    moves = list(cycle.moves.all())
    if by == "cost":
        return sorted(moves, key=lambda m: (m.cost_rank, -m.score, m.pk))
    return sorted(moves, key=lambda m: (-m.score, m.cost_rank, m.pk))


def gates_rows(user) -> list[dict]:
    """The gates list: each plan with its status, last decision, next review and the rules
    that are tripped or held. A fixed number of queries however many plans: the plans, their
    last signed decisions, their active rules each with its latest evaluation."""
    latest_decision = (
        Decision.objects.filter(review__plan=OuterRef("pk"), signed_at__isnull=False)
        .order_by("-signed_at", "-id")
        .values("pk")[:1]
    )
    plans = list(
        plans_for(user)
        .prefetch_related(None)
        .annotate(latest_decision_id=Subquery(latest_decision))
        .order_by("channel__code")
    )
    decisions = Decision.objects.select_related("signed_by", "review").in_bulk(
        [p.latest_decision_id for p in plans if p.latest_decision_id is not None]
    )
    latest_evaluation = RuleEvaluation.objects.filter(rule=OuterRef("pk")).order_by("-evaluated_at", "-id")
    rules = list(
        StopRule.objects.filter(plan__in=[p.pk for p in plans], active=True)
        .annotate(latest_evaluation_id=Subquery(latest_evaluation.values("pk")[:1]))
        .order_by("id")
    )
    evaluations = RuleEvaluation.objects.in_bulk(
        [r.latest_evaluation_id for r in rules if r.latest_evaluation_id is not None]
    )
    flagged: dict[int, list] = {p.pk: [] for p in plans}
    for rule in rules:
        evaluation = evaluations.get(rule.latest_evaluation_id)
        if evaluation is not None and evaluation.outcome != RuleOutcome.PASS:
            flagged[rule.plan_id].append((rule, evaluation))
    return [
        {"plan": plan, "decision": decisions.get(plan.latest_decision_id), "flagged": flagged[plan.pk]}
        for plan in plans
    ]
