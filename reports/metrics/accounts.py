"""Account-cohort metrics: every one of them for a cohort in one GROUP BY over the accounts
joined to their facts (``FILTER (WHERE ...)`` aggregates, one per maturity window and one per
numerator), grouped by channel, or by channel and signup period.

The cohort: accounts whose ``signed_up_at`` is in [since, until) (dates read as midnight UTC)
and that are not duplicates, optionally of one shape and one plan. An account is mature for a
metric when ``signed_up_at + window <= now``; only mature accounts enter its numerator and
denominator. The query reads the ``account_cohort_idx`` index (signed_up_at, channel, shape,
plan, activated_at, duplicate_of, id) and the facts by primary key.
"""

import operator
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from functools import reduce

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Trunc

from accounts.models import Account
from reports.metrics.definitions import ACCOUNTS, SHAPE_WINDOW, Metric, shape_windows
from reports.metrics.sql import (
    Hours,
    PercentileCont,
    day_start,
    percentile,
    percentiles_in_sql,
    reports_db,
)
from reports.metrics.values import (
    COUNT,
    DISTRIBUTION,
    Distribution,
    MetricValue,
    ratio_value,
    rounded,
)

DAY = "day"
WEEK = "week"
PERIODS = (WEEK, DAY)

Group = tuple  # (channel_id,) or (channel_id, period_start)


def cohort_accounts_queryset(
    *, since: date, until: date, shape=None, plan=None, base: QuerySet | None = None
) -> QuerySet[Account]:
    """The cohort's accounts (on the reports database unless ``base`` says otherwise)."""
    qs = base if base is not None else Account.objects.using(reports_db())
    qs = qs.filter(
        signed_up_at__gte=day_start(since), signed_up_at__lt=day_start(until), duplicate_of__isnull=True
    )
    if shape:
        qs = qs.filter(shape=shape)
    if plan:
        qs = qs.filter(plan=plan)
    return qs


def period_start(moment: datetime, period: str) -> date:
    """The UTC day, or the Monday of the ISO week, that ``moment`` falls in."""
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday()) if period == WEEK else day


def mature_q(metric: Metric, now: datetime) -> Q:
    """The cohort accounts mature for ``metric`` at ``now``: ``signed_up_at + W <= now``."""
    if metric.window == SHAPE_WINDOW:
        return reduce(
            operator.or_,
            (Q(shape=shape, signed_up_at__lte=now - window) for shape, window in shape_windows().items()),
        )
    return Q(signed_up_at__lte=now - metric.window)


def _window_alias(metric: Metric) -> str:
    if metric.window == SHAPE_WINDOW:
        return "mature_shape"
    return f"mature_{int(metric.window.total_seconds())}"


def _aggregates(metrics: list[Metric], now: datetime, *, percentiles: bool) -> dict:
    """One aggregate per maturity window, per numerator and per percentile."""
    aggregates = {"n": Count("pk")}
    for metric in metrics:
        if metric.kind == DISTRIBUTION:
            aggregates[f"n_{metric.code}"] = Count("activated_at")
            if percentiles:
                for fraction in (50, 90):
                    aggregates[f"p{fraction}_{metric.code}"] = PercentileCont(
                        _hours_to_value(), fraction / 100, filter=Q(activated_at__isnull=False)
                    )
            continue
        mature = mature_q(metric, now)
        aggregates[_window_alias(metric)] = Count("pk", filter=mature)
        if metric.counts is not None:
            aggregates[f"num_{metric.code}"] = Count("pk", filter=mature & metric.counts)
        elif metric.sums is not None:
            aggregates[f"num_{metric.code}"] = Sum(metric.sums, filter=mature)
    return aggregates


def _hours_to_value():
    return Hours(ExpressionWrapper(F("activated_at") - F("signed_up_at"), output_field=DurationField()))


def metric_value(metric: Metric, row: dict) -> MetricValue | Distribution:
    """A metric's value from an aggregated row (a group's, or the sum of all groups')."""
    if metric.kind == DISTRIBUTION:
        return Distribution(
            rounded(row.get(f"p50_{metric.code}")),
            rounded(row.get(f"p90_{metric.code}")),
            row.get(f"n_{metric.code}") or 0,
            metric.version,
        )
    mature = row.get(_window_alias(metric)) or 0
    pending = (row.get("n") or 0) - mature
    if metric.kind == COUNT:
        return MetricValue(mature, mature, None, pending == 0, pending, metric.version)
    return ratio_value(metric.kind, row.get(f"num_{metric.code}") or 0, mature, pending, metric.version)


def account_metrics(
    metrics: list[Metric],
    *,
    since: date,
    until: date,
    now: datetime,
    shape=None,
    plan=None,
    period: str | None = None,
) -> tuple[dict[Group, dict], dict]:
    """Every metric of ``metrics`` (all account-cohort ones) per group and in total.

    Returns ({group: {code: value}}, {code: value}); a group is (channel_id,) or, with
    ``period``, (channel_id, period_start). Groups without accounts are absent.
    """
    metrics = [m for m in metrics if m.cohort == ACCOUNTS]
    if not metrics:
        return {}, {}
    using = reports_db()
    in_sql = percentiles_in_sql(using)
    qs = cohort_accounts_queryset(since=since, until=until, shape=shape, plan=plan)
    keys = ["channel_id"]
    if period:
        qs = qs.annotate(period_start=Trunc("signed_up_at", period, output_field=DateField(), tzinfo=UTC))
        keys.append("period_start")
    rows = {
        tuple(row[k] for k in keys): row
        for row in qs.values(*keys).annotate(**_aggregates(metrics, now, percentiles=in_sql)).order_by()
    }
    total = defaultdict(int)
    for row in rows.values():
        for name, value in row.items():
            if name not in keys and not name.startswith("p"):  # counts and sums; not percentiles
                total[name] += value or 0
    distributions = [m for m in metrics if m.kind == DISTRIBUTION]
    if distributions:
        _percentiles(distributions, qs, rows, total, in_sql=in_sql, period=period)
    per_group = {group: {m.code: metric_value(m, row) for m in metrics} for group, row in rows.items()}
    return per_group, {m.code: metric_value(m, total) for m in metrics}


def _percentiles(metrics, qs, rows: dict, total: dict, *, in_sql: bool, period: str | None) -> None:
    """The total's percentiles (a second, narrow pass: the index alone), and every group's
    when the database has no ``percentile_cont``."""
    activated = qs.filter(activated_at__isnull=False)
    if in_sql:
        aggregates = {}
        for metric in metrics:
            for fraction in (50, 90):
                aggregates[f"p{fraction}_{metric.code}"] = PercentileCont(_hours_to_value(), fraction / 100)
        total.update(activated.order_by().aggregate(**aggregates))
        return
    hours = defaultdict(list)
    for channel_id, signed_up_at, activated_at in activated.values_list(
        "channel_id", "signed_up_at", "activated_at"
    ).iterator():
        group = (channel_id, period_start(signed_up_at, period)) if period else (channel_id,)
        hours[group].append((activated_at - signed_up_at).total_seconds() / 3600)
    everything = sorted(h for values in hours.values() for h in values)
    for metric in metrics:
        for fraction in (50, 90):
            name = f"p{fraction}_{metric.code}"
            total[name] = percentile(everything, fraction / 100)
            for group, values in hours.items():
                rows[group][name] = percentile(sorted(values), fraction / 100)


def cell_accounts(
    metric: Metric, *, channel_id: int, since: date, until: date, now: datetime, base: QuerySet, shape, plan
) -> QuerySet[Account]:
    """The accounts of one cohort cell, each annotated with ``mature`` (in the denominator) and
    ``contribution`` (what it adds to the numerator; for a distribution, its hours)."""
    qs = cohort_accounts_queryset(since=since, until=until, shape=shape, plan=plan, base=base).filter(
        channel_id=channel_id
    )
    if metric.kind == DISTRIBUTION:
        return qs.annotate(
            mature=Value(True, output_field=BooleanField()),
            contribution=ExpressionWrapper(
                F("activated_at") - F("signed_up_at"), output_field=DurationField()
            ),
        )
    mature = mature_q(metric, now)
    if metric.counts is not None:
        contribution = Case(When(mature & metric.counts, then=1), default=0, output_field=IntegerField())
    elif metric.sums is not None:
        contribution = Case(When(mature, then=F(metric.sums)), default=0, output_field=IntegerField())
    else:
        contribution = Case(When(mature, then=1), default=0, output_field=IntegerField())
    return qs.annotate(
        mature=ExpressionWrapper(mature, output_field=BooleanField()), contribution=contribution
    )
