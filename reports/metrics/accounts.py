"""Account-cohort metrics: every one of them for a cohort in one GROUP BY over the accounts'
facts (``reports.AccountFacts``, no join): ``FILTER (WHERE ...)`` aggregates, one per maturity
window and one per numerator, each a plain comparison of a column with a constant, grouped by
channel, or by channel and signup period.

The cohort: accounts whose ``signed_up_at`` is in [since, until) (dates read as midnight UTC)
and that are not duplicates, optionally of one shape and one plan. An account is mature for a
metric when ``signed_up_at + window <= now`` (``activation_due_at <= now`` for ``activation``);
only mature accounts enter its numerator and denominator.
"""

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from django.db import connections
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
from reports.metrics.definitions import ACCOUNTS, SHAPE_WINDOW, Metric, numerator_q
from reports.metrics.sql import (
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
from reports.models import AccountFacts

DAY = "day"
WEEK = "week"
PERIODS = (WEEK, DAY)

Group = tuple  # (channel_id,) or (channel_id, period_start)


def cohort_facts(*, since: date, until: date, shape=None, plan=None, channel=None) -> QuerySet[AccountFacts]:
    """The facts of the cohort's accounts (of ``channel``, a Channel, when given), on the
    reports database."""
    qs = AccountFacts.objects.using(reports_db()).filter(
        signed_up_at__gte=day_start(since), signed_up_at__lt=day_start(until), is_duplicate=False
    )
    if channel is not None:
        qs = qs.filter(channel=channel)
    if shape:
        qs = qs.filter(shape=shape)
    if plan:
        qs = qs.filter(plan=plan)
    return qs


def mature_q(metric: Metric, now: datetime, prefix: str = "") -> Q:
    """The cohort accounts mature for ``metric`` at ``now`` (facts at ``prefix``)."""
    if metric.window == SHAPE_WINDOW:
        return Q(**{f"{prefix}activation_due_at__lte": now})
    return Q(**{f"{prefix}signed_up_at__lte": now - metric.window})


def _window_alias(metric: Metric) -> str:
    if metric.window == SHAPE_WINDOW:
        return "mature_shape"
    return f"mature_{int(metric.window.total_seconds())}"


def _aggregates(metrics: list[Metric], now: datetime) -> dict:
    """One aggregate per maturity window and per numerator: no ordered-set aggregate, so the
    database may hash the groups (in parallel) instead of sorting every row."""
    aggregates = {"n": Count("pk")}
    for metric in metrics:
        if metric.kind == DISTRIBUTION:
            aggregates[f"n_{metric.code}"] = Count("time_to_value")
            continue
        mature = mature_q(metric, now)
        aggregates[_window_alias(metric)] = Count("pk", filter=mature)
        if metric.counts is not None:
            aggregates[f"num_{metric.code}"] = Count("pk", filter=mature & numerator_q(metric))
        elif metric.sums is not None:
            aggregates[f"num_{metric.code}"] = Sum(metric.sums, filter=mature)
    return aggregates


def _hours(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds() / 3600


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
    qs = cohort_facts(since=since, until=until, shape=shape, plan=plan)
    keys = ["channel_id"]
    if period:
        qs = qs.annotate(period_start=Trunc("signed_up_at", period, output_field=DateField(), tzinfo=UTC))
        keys.append("period_start")
    rows = {
        tuple(row[k] for k in keys): row
        for row in qs.values(*keys).annotate(**_aggregates(metrics, now)).order_by()
    }
    total = defaultdict(int)
    for row in rows.values():
        for name, value in row.items():
            if name not in keys and not name.startswith("p"):  # counts and sums; not percentiles
                total[name] += value or 0
    distributions = [m for m in metrics if m.kind == DISTRIBUTION]
    if distributions:
        found, found_total = _percentiles(qs, keys, in_sql=in_sql)
        for metric in distributions:
            for group, (p50, p90) in [*found.items(), (None, found_total)]:
                row = total if group is None else rows[group]
                row[f"p50_{metric.code}"], row[f"p90_{metric.code}"] = _hours(p50), _hours(p90)
    per_group = {group: {m.code: metric_value(m, row) for m in metrics} for group, row in rows.items()}
    return per_group, {m.code: metric_value(m, total) for m in metrics}


def _percentiles(qs: QuerySet, keys: list[str], *, in_sql: bool) -> tuple[dict, tuple]:
    """p50 and p90 of time to value (timedeltas) per group and over them all. On PostgreSQL,
    one statement: ``percentile_cont`` of the activated rows grouped by GROUPING SETS (each
    group, and the whole); elsewhere the values are read and interpolated the same way."""
    activated = qs.filter(time_to_value__isnull=False).values(*keys, "time_to_value").order_by()
    if not in_sql:
        values = defaultdict(list)
        for row in activated.iterator():
            values[tuple(row[k] for k in keys)].append(row["time_to_value"])
        everything = sorted(v for group in values.values() for v in group)
        found = {group: _interpolated(sorted(v)) for group, v in values.items()}
        return found, _interpolated(everything)
    connection = connections[activated.db]
    sql, params = activated.query.get_compiler(using=activated.db).as_sql()
    columns = ", ".join(f"s.{connection.ops.quote_name(k)}" for k in keys)
    fractions = ", ".join(f"percentile_cont({f}) WITHIN GROUP (ORDER BY s.time_to_value)" for f in (0.5, 0.9))
    statement = (
        f"SELECT {columns}, GROUPING({columns}), {fractions} FROM ({sql}) AS s "
        f"GROUP BY GROUPING SETS (({columns}), ())"
    )
    found, whole = {}, (None, None)
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        for *group, is_whole, p50, p90 in cursor.fetchall():
            if is_whole:
                whole = (p50, p90)
            else:  # a period's start comes back as the timestamp the ORM reads as a date
                found[tuple(v.date() if isinstance(v, datetime) else v for v in group)] = (p50, p90)
    return found, whole


def _interpolated(values: list[timedelta]) -> tuple:
    """p50 and p90 by linear interpolation between closest ranks (percentile_cont)."""
    seconds = [v.total_seconds() for v in values]
    return tuple(
        None if not seconds else timedelta(seconds=percentile(seconds, fraction)) for fraction in (0.5, 0.9)
    )


def cell_accounts(
    metric: Metric, *, channel_id: int, since: date, until: date, now: datetime, base: QuerySet, shape, plan
) -> QuerySet[Account]:
    """The accounts of one cohort cell, each annotated with ``mature`` (in the denominator) and
    ``contribution`` (what it adds to the numerator; for a distribution, its time to value)."""
    qs = base.filter(
        channel_id=channel_id,
        signed_up_at__gte=day_start(since),
        signed_up_at__lt=day_start(until),
        duplicate_of__isnull=True,
    )
    if shape:
        qs = qs.filter(shape=shape)
    if plan:
        qs = qs.filter(plan=plan)
    if metric.kind == DISTRIBUTION:
        return qs.annotate(
            mature=Value(True, output_field=BooleanField()),
            contribution=ExpressionWrapper(
                F("activated_at") - F("signed_up_at"), output_field=DurationField()
            ),
        )
    mature = mature_q(metric, now, prefix="facts__")
    if metric.counts is not None:
        counted = mature & numerator_q(metric, prefix="facts__")
        contribution = Case(When(counted, then=1), default=0, output_field=IntegerField())
    elif metric.sums is not None:
        contribution = Case(
            When(mature, then=F(f"facts__{metric.sums}")), default=0, output_field=IntegerField()
        )
    else:
        contribution = Case(When(mature, then=1), default=0, output_field=IntegerField())
    return qs.annotate(
        mature=ExpressionWrapper(mature, output_field=BooleanField()), contribution=contribution
    )
