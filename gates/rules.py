"""Stop-rule and restart-condition arithmetic: pure functions of snapshot values.

A *period* is one signup day's snapshot of a metric: ``Period(day, value, numerator,
denominator, complete, snapshot_id)``. Only mature periods count (``complete``: every account
of that day is past the metric's window); immature ones are listed as ignored. The rule looks
at the latest ``consecutive`` mature periods:

- fewer than that many, or one of them with fewer than ``min_sample`` accounts: insufficient
  data (the ramp is held, not passed);
- every one of them breaching: tripped;
- otherwise: pass.

Comparators: ``below``/``above`` an absolute value; ``drop_vs_baseline``/``rise_vs_baseline``
by at least ``threshold`` against the pooled value of the baseline periods (the 4 weeks before
the ramp); ``grows_faster_than_signups``: the metric's numerator (tickets) grew against the
baseline's daily average by more than the signups (its denominator) did, over the same
periods, by a margin of ``threshold`` (a fraction: 0 = any faster).
"""

from dataclasses import dataclass
from datetime import date

from gates.choices import Comparator, ConditionOutcome, RuleOutcome

BASELINE_DAYS = 28


@dataclass(frozen=True)
class Period:
    day: date
    value: float | None
    numerator: int | None
    denominator: int | None
    complete: bool
    snapshot_id: int | None = None

    @property
    def n(self) -> int:
        return self.denominator or 0


@dataclass(frozen=True)
class Baseline:
    value: float | None
    numerator_per_day: float | None
    denominator_per_day: float | None
    days: int

    def as_dict(self) -> dict:
        return {
            "value": self.value,
            "numerator_per_day": self.numerator_per_day,
            "denominator_per_day": self.denominator_per_day,
            "days": self.days,
        }


@dataclass(frozen=True)
class Verdict:
    outcome: str
    measured: dict
    snapshot_ids: list


def baseline_of(periods: list[Period], *, scale: float = 1.0) -> Baseline:
    """The pooled value of mature baseline periods: sum(numerator) / sum(denominator) × scale
    (100 for a per-100 metric), and the daily averages the growth comparison needs."""
    mature = [p for p in periods if p.complete and p.denominator]
    if not mature:
        return Baseline(None, None, None, 0)
    num = sum(p.numerator or 0 for p in mature)
    den = sum(p.denominator for p in mature)
    return Baseline(round(scale * num / den, 4), num / len(mature), den / len(mature), len(mature))


def breaches(
    comparator: str, threshold: float, period: Period, baseline: Baseline | None
) -> tuple[bool, dict]:
    """Whether one mature period breaches, and what was compared."""
    value = period.value
    if comparator == Comparator.BELOW:
        return value is not None and value < threshold, {"limit": threshold}
    if comparator == Comparator.ABOVE:
        return value is not None and value > threshold, {"limit": threshold}
    if comparator == Comparator.DROP_VS_BASELINE:
        limit = round(baseline.value - threshold, 4)
        return value is not None and value <= limit, {"limit": limit, "baseline": baseline.value}
    if comparator == Comparator.RISE_VS_BASELINE:
        limit = round(baseline.value + threshold, 4)
        return value is not None and value >= limit, {"limit": limit, "baseline": baseline.value}
    if comparator == Comparator.GROWS_FASTER_THAN_SIGNUPS:
        metric_growth = round((period.numerator or 0) / baseline.numerator_per_day, 4)
        signup_growth = round(period.n / baseline.denominator_per_day, 4)
        return metric_growth > signup_growth * (1 + threshold), {
            "metric_growth": metric_growth,
            "signup_growth": signup_growth,
        }
    raise ValueError(f"unknown comparator {comparator!r}")


def needs_baseline(comparator: str) -> bool:
    return comparator in (
        Comparator.DROP_VS_BASELINE,
        Comparator.RISE_VS_BASELINE,
        Comparator.GROWS_FASTER_THAN_SIGNUPS,
    )


def evaluate(
    periods: list[Period],
    *,
    comparator: str,
    threshold: float,
    consecutive: int,
    min_sample: int,
    baseline: Baseline | None = None,
    positive=RuleOutcome.TRIPPED,
    negative=RuleOutcome.PASS,
) -> Verdict:
    """The verdict over ``periods`` (any order). ``positive``/``negative`` name the outcomes
    (a restart condition is ``met``/``not_met``; its comparator says what it needs)."""
    ordered = sorted(periods, key=lambda p: p.day)
    mature = [p for p in ordered if p.complete]
    ignored = [p.day.isoformat() for p in ordered if not p.complete]
    window = mature[-consecutive:] if consecutive else []
    measured = {
        "comparator": comparator,
        "threshold": threshold,
        "consecutive_periods": consecutive,
        "min_sample": min_sample,
        "immature_ignored": ignored,
        "periods": [],
    }
    if baseline is not None:
        measured["baseline"] = baseline.as_dict()
    ids = [p.snapshot_id for p in window if p.snapshot_id is not None]
    if needs_baseline(comparator) and (
        baseline is None
        or baseline.value is None
        or not baseline.numerator_per_day
        or not baseline.denominator_per_day
    ):
        measured["reason"] = "no mature baseline periods before the ramp"
        return Verdict(RuleOutcome.INSUFFICIENT_DATA, measured, ids)
    hits = 0
    small = []
    for p in window:
        row = {"period": p.day.isoformat(), "value": p.value, "n": p.n}
        if p.n < min_sample:
            small.append(p.day.isoformat())
            row["breach"] = None
        else:
            breach, compared = breaches(comparator, threshold, p, baseline)
            row.update(compared, breach=breach)
            hits += breach
        measured["periods"].append(row)
    if len(window) < consecutive:
        measured["reason"] = f"{len(window)} mature periods of the {consecutive} needed"
        return Verdict(RuleOutcome.INSUFFICIENT_DATA, measured, ids)
    if small:
        measured["reason"] = f"fewer than {min_sample} mature accounts on {', '.join(small)}"
        return Verdict(RuleOutcome.INSUFFICIENT_DATA, measured, ids)
    if hits == consecutive:
        measured["reason"] = f"breached on each of the last {consecutive} mature periods"
        return Verdict(positive, measured, ids)
    measured["reason"] = f"breached on {hits} of the last {consecutive} mature periods"
    return Verdict(negative, measured, ids)


def evaluate_condition(
    periods: list[Period], *, comparator: str, value: float, consecutive: int, min_sample: int
):
    """A restart condition: ``met`` when the metric is ``comparator`` ``value`` on each of the
    last ``consecutive`` mature business days."""
    business = [p for p in periods if p.day.weekday() < 5]
    verdict = evaluate(
        business,
        comparator=comparator,
        threshold=value,
        consecutive=consecutive,
        min_sample=min_sample,
        positive=ConditionOutcome.MET,
        negative=ConditionOutcome.NOT_MET,
    )
    if verdict.outcome == RuleOutcome.INSUFFICIENT_DATA:
        return Verdict(ConditionOutcome.INSUFFICIENT_DATA, verdict.measured, verdict.snapshot_ids)
    return verdict
