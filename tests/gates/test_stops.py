"""Stop rules from snapshots: hold on insufficient data, pause exactly once (also under two
concurrent evaluations), alert the owner, open a draft pause review; restart conditions."""

from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from gates.choices import Comparator, ConditionOutcome, Outcome, RampStatus, ReviewKind, RuleOutcome
from gates.models import Decision, RampPause, RampPlan, RestartNotice, RuleEvaluation
from gates.services import (
    decision_draft,
    decision_sign,
    restart_conditions_evaluate,
    review_open,
    stop_rules_evaluate,
)
from gates.services.stops import restart_evidence_since
from opsconsole.errors import ValidationFailed
from reports.models import MetricSnapshot
from tests.gates.conftest import days_before, sign_proceed
from tests.helpers.race import run_together

TODAY = timezone.now().date()


def start_ramp(plan, owner, *, started: date):
    sign_proceed(plan, owner, review_date=TODAY + timedelta(days=14))
    RampPlan.objects.filter(pk=plan.pk).update(ramp_started_on=started)  # the ramp began earlier
    plan.refresh_from_db()
    return plan


def only_rule(plan, name):
    plan.stop_rules.exclude(name=name).update(active=False)
    return plan.stop_rules.get(name=name)


@pytest.fixture
def ramping(plan, owner):
    return start_ramp(plan, owner, started=TODAY - timedelta(days=10))


@pytest.mark.django_db
def test_two_bad_mature_days_pause_the_ramp_alert_and_open_a_draft_pause_review(
    ramping, snapshot, system, django_capture_on_commit_callbacks, alert_receiver
):
    only_rule(ramping, "24 h activation below target")
    good, bad1, bad2 = days_before(TODAY, 3)
    snapshot("activation_24h", good, 30, 50)
    snapshot("activation_24h", bad1, 20, 50)
    snapshot("activation_24h", bad2, 21, 50)
    snapshot("activation_24h", TODAY - timedelta(days=0), 5, 50, complete=False)  # immature: ignored
    with django_capture_on_commit_callbacks(execute=True):
        [evaluation] = stop_rules_evaluate(plan=ramping, actor=system)
    assert evaluation.outcome == RuleOutcome.TRIPPED
    assert [p["value"] for p in evaluation.measured["periods"]] == [0.4, 0.42]
    assert evaluation.measured["immature_ignored"] == [TODAY.isoformat()]
    ramping.refresh_from_db()
    assert ramping.status == RampStatus.PAUSED
    pause = RampPause.objects.get(plan=ramping)
    assert pause.review.kind == ReviewKind.PAUSE
    draft = Decision.objects.get(review=pause.review)
    assert (draft.outcome, draft.signed_at) == (Outcome.PAUSE, None)
    [alert] = alert_receiver.requests
    assert alert["json"]["opsconsole"]["kind"] == "ramp_paused"
    assert alert["json"]["opsconsole"]["fields"]["executive_owner"] == ramping.executive_owner.username
    # A signed proceed resumes the ramp: the same bad days no longer trip it again.
    sign_proceed(ramping, ramping.executive_owner, review_date=TODAY + timedelta(days=7))
    [again] = stop_rules_evaluate(plan=ramping, actor=system)
    assert again.outcome != RuleOutcome.TRIPPED
    assert RampPause.objects.filter(plan=ramping).count() == 1
    # The drafted pause has no restart conditions yet: signed like that it could never restart.
    with pytest.raises(ValidationFailed) as refused:
        decision_sign(decision=draft, actor=ramping.executive_owner)
    assert refused.value.code == "restart_conditions_required"
    draft.refresh_from_db()
    assert draft.signed_at is None


@pytest.mark.django_db
def test_too_few_mature_accounts_holds_the_ramp_and_enough_data_releases_it(ramping, snapshot, system):
    rule = only_rule(ramping, "24 h activation below target")
    d1, d2 = days_before(TODAY, 2)
    snapshot("activation_24h", d1, 8, 10)
    snapshot("activation_24h", d2, 30, 50)
    [evaluation] = stop_rules_evaluate(plan=ramping, actor=system)
    assert evaluation.outcome == RuleOutcome.INSUFFICIENT_DATA
    assert f"fewer than {rule.min_sample}" in evaluation.measured["reason"]
    ramping.refresh_from_db()
    assert ramping.status == RampStatus.HELD
    snapshot("activation_24h", TODAY - timedelta(days=0), 30, 50)  # a third day, enough accounts
    stop_rules_evaluate(plan=ramping, actor=system)
    ramping.refresh_from_db()
    assert ramping.status == RampStatus.RAMPING
    assert RuleEvaluation.objects.filter(rule=rule).count() == 2


@pytest.mark.django_db
def test_the_baseline_rule_reads_the_four_weeks_before_the_ramp(ramping, snapshot, system):
    rule = only_rule(ramping, "24 h activation 10 points below the pre-ramp baseline")
    for day in days_before(ramping.ramp_started_on, 28):
        snapshot("activation_24h", day, 30, 50)  # 60%
    snapshot("activation_24h", ramping.ramp_started_on - timedelta(days=40), 0, 50)  # before the baseline
    a, b = days_before(TODAY, 2)
    snapshot("activation_24h", a, 25, 50)  # 50%: exactly 10 points below
    snapshot("activation_24h", b, 24, 50)
    [evaluation] = stop_rules_evaluate(plan=ramping, actor=system)
    assert evaluation.measured["baseline"]["value"] == 0.6
    assert evaluation.measured["baseline"]["days"] == 28
    assert evaluation.outcome == RuleOutcome.TRIPPED
    assert rule.pauses.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_evaluations_pause_exactly_once_and_alert_once(
    ramping, snapshot, system, alert_receiver
):
    only_rule(ramping, "24 h activation below target")
    for day in days_before(TODAY, 2):
        snapshot("activation_24h", day, 10, 50)
    results = run_together(2, lambda i: stop_rules_evaluate(plan=ramping, actor=system))
    assert all(r[0].outcome == RuleOutcome.TRIPPED for r in results)
    assert RampPause.objects.filter(plan=ramping).count() == 1
    assert RuleEvaluation.objects.filter(plan=ramping).count() == 2
    assert [r["json"]["opsconsole"]["kind"] for r in alert_receiver.requests] == ["ramp_paused"]
    ramping.refresh_from_db()
    assert ramping.status == RampStatus.PAUSED


@pytest.mark.django_db
def test_restart_conditions_notify_once_and_the_ramp_stays_paused(
    ramping, owner, snapshot, system, django_capture_on_commit_callbacks, alert_receiver
):
    review = review_open(plan=ramping, actor=owner)
    pause = decision_draft(
        review=review,
        outcome=Outcome.PAUSE,
        rationale="Activation fell.",
        attendees=["Dana"],
        expected_volume=200,
        restart_conditions=[
            {"metric": "activation_24h", "comparator": Comparator.ABOVE, "value": 0.62, "consecutive_days": 5}
        ],
        actor=owner,
    )
    # Signed 13 days ago: only the signup days after the pause count toward restarting.
    pause = decision_sign(decision=pause, now=timezone.now() - timedelta(days=13), actor=owner)
    days = [d for d in days_before(TODAY, 12) if d.weekday() < 5][-5:]
    for day in days[:-1]:
        snapshot("activation_24h", day, 35, 50)  # 70%
    snapshot("activation_24h", days[-1], 30, 50)  # 60%: not yet
    [evaluation] = restart_conditions_evaluate(plan=ramping, actor=system)
    assert evaluation.outcome == ConditionOutcome.NOT_MET
    MetricSnapshot.objects.filter(period=days[-1]).delete()  # the day's cohort, snapshotted again
    snapshot("activation_24h", days[-1], 34, 50)
    with django_capture_on_commit_callbacks(execute=True):
        [evaluation] = restart_conditions_evaluate(plan=ramping, actor=system)
        restart_conditions_evaluate(plan=ramping, actor=system)
    assert evaluation.outcome == ConditionOutcome.MET
    assert RestartNotice.objects.filter(decision=pause).count() == 1
    # The same good days before the pause would not have counted.
    assert restart_evidence_since(ramping, pause, TODAY) > pause.signed_at.date()
    assert [r["json"]["opsconsole"]["kind"] for r in alert_receiver.requests] == [
        "ramp_restart_conditions_met"
    ]
    ramping.refresh_from_db()
    assert ramping.status == RampStatus.PAUSED


@pytest.mark.django_db
def test_simulated_bad_days_and_metrics_snapshot_pause_the_ramp(ramping, channel):
    """The path leadership rehearses: two bad days, the snapshot command, a paused ramp."""
    only_rule(ramping, "24 h activation below target")
    d1, d2 = TODAY - timedelta(days=3), TODAY - timedelta(days=2)
    for day in (d1, d2):
        call_command(
            "simulate_ramp_day", channel=channel.code, date=day.isoformat(), signups=25, activation=0.4
        )
    call_command("metrics_snapshot")
    ramping.refresh_from_db()
    assert ramping.status == RampStatus.PAUSED, list(
        RuleEvaluation.objects.values_list("measured", flat=True)
    )
    evaluation = RuleEvaluation.objects.get(plan=ramping, outcome=RuleOutcome.TRIPPED)
    assert [(p["period"], p["value"], p["n"]) for p in evaluation.measured["periods"]] == [
        (d1.isoformat(), 0.4, 25),
        (d2.isoformat(), 0.4, 25),
    ]
