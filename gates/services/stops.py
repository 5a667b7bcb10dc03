"""Stop rules and restart conditions, evaluated from the snapshots after each snapshot run.

Every evaluation is recorded with its measured values. A tripped rule pauses the ramp exactly
once (``ramp_paused_once``: one open pause per plan), alerts the executive owner and opens a
draft pause review with the evidence. Insufficient data holds a ramping plan (status
``held``); all rules passing again lets it ramp. A paused plan's restart conditions (from its
latest signed pause decision) are evaluated the same way; when all are met the owner is
notified once. The ramp stays paused until a new signed decision says proceed.
"""

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from gates.choices import ConditionOutcome, Outcome, RampStatus, ReviewKind, RuleOutcome
from gates.models import (
    Decision,
    GateReview,
    RampPause,
    RampPlan,
    RestartNotice,
    RuleEvaluation,
)
from gates.rules import baseline_of, evaluate, evaluate_condition, needs_baseline
from gates.selectors import baseline_window, metric_periods, metric_scale, open_pause, watched_plans
from gates.services.plans import set_status
from opsconsole.alerts import Alert, alert_send
from opsconsole.history import SYSTEM_SCHEDULER, service, system_user

logger = logging.getLogger("gates")
# How far back a restart condition looks for its consecutive business days.
RESTART_LOOKBACK_DAYS = 35


def stop_rule_since(plan: RampPlan):
    """The first signup day stop rules read: the ramp's start, or the day after the latest
    resume, since the days before a signed proceed are what the pause was about."""
    resumed_at = (
        plan.pauses.filter(resumed_at__isnull=False)
        .order_by("-resumed_at")
        .values_list("resumed_at", flat=True)
        .first()
    )
    if resumed_at is None:
        return plan.ramp_started_on
    after_resume = timezone.localdate(resumed_at) + timedelta(days=1)
    return max(plan.ramp_started_on or after_resume, after_resume)


def rule_verdict(plan: RampPlan, rule, *, now):
    until = now.date() + timedelta(days=1)  # today's cohort too: immature, listed as ignored
    periods = metric_periods(
        channel_id=plan.channel_id, metric=rule.metric, since=stop_rule_since(plan), until=until
    )
    baseline = None
    if needs_baseline(rule.comparator):
        since, until = baseline_window(plan)
        base = metric_periods(channel_id=plan.channel_id, metric=rule.metric, since=since, until=until)
        baseline = baseline_of(base, scale=metric_scale(rule.metric))
    return evaluate(
        periods,
        comparator=rule.comparator,
        threshold=rule.threshold,
        consecutive=rule.consecutive_periods,
        min_sample=rule.min_sample,
        baseline=baseline,
    )


@service
def stop_rules_evaluate(*, plan: RampPlan, now=None, actor) -> list[RuleEvaluation]:
    """Evaluate every active rule of a ramping (or held) plan once and act on the outcomes."""
    now = now or timezone.now()
    plan = RampPlan.objects.select_related("channel", "executive_owner").get(pk=plan.pk)
    if plan.status not in (RampStatus.RAMPING, RampStatus.HELD) or plan.ramp_started_on is None:
        return []
    evaluations = []
    for rule in plan.stop_rules.filter(active=True).order_by("id"):
        verdict = rule_verdict(plan, rule, now=now)
        evaluations.append(
            RuleEvaluation.objects.create(
                plan=plan,
                rule=rule,
                evaluated_at=now,
                outcome=verdict.outcome,
                measured={"metric": rule.metric, **verdict.measured},
                snapshot_ids=verdict.snapshot_ids,
            )
        )
    tripped = [e for e in evaluations if e.outcome == RuleOutcome.TRIPPED]
    if tripped:
        ramp_pause(plan=plan, evaluation=tripped[0], now=now, actor=actor)
    else:
        held = any(e.outcome == RuleOutcome.INSUFFICIENT_DATA for e in evaluations)
        locked = RampPlan.objects.select_for_update().get(pk=plan.pk)
        if locked.status in (RampStatus.RAMPING, RampStatus.HELD):
            set_status(locked, RampStatus.HELD if held else RampStatus.RAMPING)
    return evaluations


@service
def ramp_pause(*, plan: RampPlan, evaluation: RuleEvaluation, now=None, actor) -> RampPause | None:
    """Pause the ramp for a tripped rule, exactly once: a second concurrent trip finds the
    open pause (the unique constraint) and does nothing. Returns the pause, or None."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            pause = RampPause.objects.create(
                plan=plan, rule=evaluation.rule, evaluation=evaluation, paused_at=now
            )
    except IntegrityError:
        return None
    locked = RampPlan.objects.select_for_update().select_related("channel", "executive_owner").get(pk=plan.pk)
    set_status(locked, RampStatus.PAUSED)
    review = GateReview.objects.create(
        plan=locked,
        kind=ReviewKind.PAUSE,
        held_on=now.date(),
        opened_by=actor,
        opened_because=f"Stop rule tripped: {evaluation.rule.name} (evaluation #{evaluation.pk})",
    )
    Decision.objects.create(
        review=review,
        attendees=[],
        expected_volume=locked.weekly_signups,
        outcome=Outcome.PAUSE,
        rationale=f"Draft: the stop rule “{evaluation.rule.name}” tripped. "
        f"{evaluation.measured.get('reason', '')}",
        drafted_by=actor,
    )
    pause.review = review
    pause.save()
    owner = locked.executive_owner
    alert_send(
        Alert(
            kind="ramp_paused",
            title=f"Ramp of {locked.channel.code} paused: {evaluation.rule.name}",
            text=f"{owner.get_full_name() or owner.get_username()}: the ramp you own is paused; "
            f"a draft pause review (#{review.pk}) is open.",
            severity="critical",
            fields={
                "channel": locked.channel.code,
                "executive_owner": owner.get_username(),
                "rule": evaluation.rule.name,
                "measured": evaluation.measured.get("periods"),
                "review": review.pk,
            },
        )
    )
    return pause


def restart_decision(plan: RampPlan) -> Decision | None:
    """The latest signed pause decision of the plan since its open pause (or ever, for a pause
    signed without a tripped rule): an earlier pause's conditions are not this pause's."""
    decisions = Decision.objects.filter(review__plan=plan, signed_at__isnull=False, outcome=Outcome.PAUSE)
    pause = open_pause(plan)
    if pause is not None:
        decisions = decisions.filter(signed_at__gte=pause.paused_at)
    return decisions.order_by("-signed_at", "-id").first()


def restart_evidence_since(plan: RampPlan, decision: Decision, today):
    """The first signup day that may count toward a restart: the day after the pause (or after
    the pause was signed), never earlier than the look-back. Days before it are why it paused."""
    pause = open_pause(plan)
    paused_on = timezone.localdate(pause.paused_at if pause is not None else decision.signed_at)
    return max(today - timedelta(days=RESTART_LOOKBACK_DAYS), paused_on + timedelta(days=1))


@service
def restart_conditions_evaluate(*, plan: RampPlan, now=None, actor) -> list[RuleEvaluation]:
    now = now or timezone.now()
    plan = RampPlan.objects.select_related("channel", "executive_owner").get(pk=plan.pk)
    if plan.status != RampStatus.PAUSED:
        return []
    decision = restart_decision(plan)
    if decision is None:
        return []
    evaluations = []
    since = restart_evidence_since(plan, decision, now.date())
    for condition in decision.restart_conditions.order_by("id"):
        periods = metric_periods(
            channel_id=plan.channel_id, metric=condition.metric, since=since, until=now.date()
        )
        verdict = evaluate_condition(
            periods,
            comparator=condition.comparator,
            value=condition.value,
            consecutive=condition.consecutive_days,
            min_sample=condition.min_sample,
        )
        evaluations.append(
            RuleEvaluation.objects.create(
                plan=plan,
                condition=condition,
                evaluated_at=now,
                outcome=verdict.outcome,
                measured={"metric": condition.metric, **verdict.measured},
                snapshot_ids=verdict.snapshot_ids,
            )
        )
    if evaluations and all(e.outcome == ConditionOutcome.MET for e in evaluations):
        _notify_restart(plan, decision, now)
    return evaluations


def _notify_restart(plan: RampPlan, decision: Decision, now) -> None:
    try:
        with transaction.atomic():
            RestartNotice.objects.create(decision=decision, notified_at=now, notified=plan.executive_owner)
    except IntegrityError:
        return  # told once already
    alert_send(
        Alert(
            kind="ramp_restart_conditions_met",
            title=f"Restart conditions met for {plan.channel.code}",
            text="Every restart condition is met. The ramp stays paused until a new signed "
            "decision says proceed.",
            severity="info",
            fields={
                "channel": plan.channel.code,
                "executive_owner": plan.executive_owner.get_username(),
                "decision": decision.pk,
            },
        )
    )


def after_snapshot(*, periods, channels, now) -> None:
    """reports' after-snapshot hook: evaluate the watched plans of the channels written."""
    actor = system_user(SYSTEM_SCHEDULER)
    for plan in watched_plans(channels):
        try:  # one plan's failure must not keep the others unevaluated (each is its own transaction)
            if plan.status == RampStatus.PAUSED:
                restart_conditions_evaluate(plan=plan, now=now, actor=actor)
            else:
                stop_rules_evaluate(plan=plan, now=now, actor=actor)
        except Exception:
            logger.exception("gates: evaluating the ramp of %s failed", plan.channel.code)
