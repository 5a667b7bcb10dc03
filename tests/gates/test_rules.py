"""Stop-rule arithmetic on constructed periods: consecutive periods, baselines, minimum sample,
insufficient data, the growth comparison, and immature periods ignored."""

from datetime import date, timedelta

from gates.choices import Comparator, ConditionOutcome, RuleOutcome
from gates.rules import Period, baseline_of, evaluate, evaluate_condition

D0 = date(2026, 11, 2)  # a Monday


def periods(values, *, n=50, start=D0, complete=True):
    """Rate periods from fractions: numerator = round(value × n)."""
    out = []
    for i, v in enumerate(values):
        num = round(v * n)
        out.append(Period(start + timedelta(days=i), round(num / n, 4), num, n, complete, 100 + i))
    return out


def test_below_trips_only_when_every_consecutive_period_breaches():
    assert (
        evaluate(
            periods([0.6, 0.3, 0.3]), comparator=Comparator.BELOW, threshold=0.5, consecutive=2, min_sample=20
        ).outcome
        == RuleOutcome.TRIPPED
    )
    verdict = evaluate(
        periods([0.3, 0.3, 0.6]), comparator=Comparator.BELOW, threshold=0.5, consecutive=2, min_sample=20
    )
    assert verdict.outcome == RuleOutcome.PASS
    assert [p["breach"] for p in verdict.measured["periods"]] == [True, False]
    assert verdict.snapshot_ids == [101, 102]


def test_three_consecutive_needs_three():
    verdict = evaluate(
        periods([0.3, 0.3]), comparator=Comparator.BELOW, threshold=0.5, consecutive=3, min_sample=20
    )
    assert verdict.outcome == RuleOutcome.INSUFFICIENT_DATA
    assert "2 mature periods of the 3" in verdict.measured["reason"]


def test_minimum_sample_makes_insufficient_data_not_a_pass():
    small = periods([0.9, 0.9], n=10)
    verdict = evaluate(small, comparator=Comparator.BELOW, threshold=0.5, consecutive=2, min_sample=20)
    assert verdict.outcome == RuleOutcome.INSUFFICIENT_DATA
    assert "fewer than 20" in verdict.measured["reason"]


def test_immature_periods_are_ignored():
    mature = periods([0.3, 0.3])
    fresh = periods([0.9, 0.9], start=D0 + timedelta(days=2), complete=False)
    verdict = evaluate(
        mature + fresh, comparator=Comparator.BELOW, threshold=0.5, consecutive=2, min_sample=20
    )
    assert verdict.outcome == RuleOutcome.TRIPPED
    assert verdict.measured["immature_ignored"] == ["2026-11-04", "2026-11-05"]
    # and the other way round: a bad immature day does not trip
    verdict = evaluate(
        periods([0.9, 0.9]) + periods([0.1, 0.1], start=D0 + timedelta(days=2), complete=False),
        comparator=Comparator.BELOW,
        threshold=0.5,
        consecutive=2,
        min_sample=20,
    )
    assert verdict.outcome == RuleOutcome.PASS


def test_drop_against_the_baseline():
    base = baseline_of(periods([0.6, 0.62, 0.58, 0.6], n=100))
    assert base.value == 0.6
    hit = evaluate(
        periods([0.49, 0.5]),
        comparator=Comparator.DROP_VS_BASELINE,
        threshold=0.10,
        consecutive=2,
        min_sample=20,
        baseline=base,
    )
    assert hit.outcome == RuleOutcome.TRIPPED
    assert hit.measured["periods"][0]["limit"] == 0.5
    miss = evaluate(
        periods([0.49, 0.52]),
        comparator=Comparator.DROP_VS_BASELINE,
        threshold=0.10,
        consecutive=2,
        min_sample=20,
        baseline=base,
    )
    assert miss.outcome == RuleOutcome.PASS


def test_baseline_without_mature_periods_is_insufficient():
    base = baseline_of(periods([0.6, 0.6], complete=False))
    verdict = evaluate(
        periods([0.1, 0.1]),
        comparator=Comparator.DROP_VS_BASELINE,
        threshold=0.1,
        consecutive=2,
        min_sample=20,
        baseline=base,
    )
    assert verdict.outcome == RuleOutcome.INSUFFICIENT_DATA


def test_baseline_is_pooled_not_averaged():
    base = baseline_of([Period(D0, 1.0, 10, 10, True), Period(D0, 0.0, 0, 90, True)])
    assert base.value == 0.1  # 10 / 100, not (1.0 + 0.0) / 2


def tickets(day_offsets_tickets_accounts, complete=True):
    return [
        Period(D0 + timedelta(days=i), round(100 * t / a, 4), t, a, complete)
        for i, (t, a) in enumerate(day_offsets_tickets_accounts)
    ]


def test_tickets_growing_faster_than_signups_trips():
    base = baseline_of(tickets([(20, 100), (20, 100)]), scale=100)  # 20 tickets, 100 signups a day
    # signups double, tickets triple: support load outruns signups
    faster = tickets([(60, 200), (60, 200)])
    verdict = evaluate(
        faster,
        comparator=Comparator.GROWS_FASTER_THAN_SIGNUPS,
        threshold=0.0,
        consecutive=2,
        min_sample=20,
        baseline=base,
    )
    assert verdict.outcome == RuleOutcome.TRIPPED
    assert verdict.measured["periods"][0]["metric_growth"] == 3.0
    assert verdict.measured["periods"][0]["signup_growth"] == 2.0
    # signups triple, tickets double: fine
    slower = tickets([(40, 300), (40, 300)])
    assert (
        evaluate(
            slower,
            comparator=Comparator.GROWS_FASTER_THAN_SIGNUPS,
            threshold=0.0,
            consecutive=2,
            min_sample=20,
            baseline=base,
        ).outcome
        == RuleOutcome.PASS
    )
    # the same growth is not faster
    same = tickets([(40, 200), (40, 200)])
    assert (
        evaluate(
            same,
            comparator=Comparator.GROWS_FASTER_THAN_SIGNUPS,
            threshold=0.0,
            consecutive=2,
            min_sample=20,
            baseline=base,
        ).outcome
        == RuleOutcome.PASS
    )


def test_restart_condition_counts_business_days_only():
    # Mon..Sun of one week then Mon: above 0.62 on the last five business days
    values = [0.7] * 8
    result = evaluate_condition(
        periods(values), comparator=Comparator.ABOVE, value=0.62, consecutive=5, min_sample=20
    )
    assert result.outcome == ConditionOutcome.MET
    # Mon 2 .. Mon 9 November: the last five business days skip the weekend
    assert [p["period"] for p in result.measured["periods"]] == [
        "2026-11-03",
        "2026-11-04",
        "2026-11-05",
        "2026-11-06",
        "2026-11-09",
    ]
    one_bad = [0.7, 0.7, 0.7, 0.7, 0.5, 0.7, 0.7, 0.7]  # Friday below
    assert (
        evaluate_condition(
            periods(one_bad), comparator=Comparator.ABOVE, value=0.62, consecutive=5, min_sample=20
        ).outcome
        == ConditionOutcome.NOT_MET
    )
    assert (
        evaluate_condition(
            periods([0.7, 0.7]), comparator=Comparator.ABOVE, value=0.62, consecutive=5, min_sample=20
        ).outcome
        == ConditionOutcome.INSUFFICIENT_DATA
    )
