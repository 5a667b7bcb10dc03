"""The reports every consumer reads: the channel report (every metric, every channel, and the
total), cohort rows (a metric by channel and signup period), and the accounts behind one cohort
cell. Each checks its input and refuses with ``ValidationFailed`` (a 400 in the API)."""

from datetime import date, datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Account, Channel
from accounts.shapes import PLANS, SHAPES
from opsconsole.errors import NotFound, ValidationFailed
from reports.metrics.accounts import DAY, PERIODS, WEEK, account_metrics, cell_accounts, metric_value
from reports.metrics.definitions import ACCOUNTS, METRICS, OPEN_NOW, UNMATCHED, Metric, definitions
from reports.metrics.sql import reports_db
from reports.metrics.tickets import empty_ticket_value, ticket_metrics
from reports.metrics.values import (
    ChannelReport,
    ChannelRow,
    CohortRow,
    Distribution,
    MetricValue,
    QueueAge,
    Value,
)

# A report covers at most this many days (until - since).
MAX_RANGE_DAYS = 366
UNMATCHED_NAME = "No matched account"


def validate_query(
    *,
    since: date,
    until: date,
    shape: str | None = None,
    plan: str | None = None,
    metrics=None,
    period: str | None = None,
) -> None:
    """Refuse what METRICS.md refuses: ``until <= since``, a range over 366 days, an unknown
    shape, plan, metric or period."""
    if until <= since:
        raise ValidationFailed(
            "invalid_range",
            "until must be after since.",
            {"since": since.isoformat(), "until": until.isoformat()},
        )
    if (until - since).days > MAX_RANGE_DAYS:
        raise ValidationFailed(
            "range_too_long",
            f"A report covers at most {MAX_RANGE_DAYS} days; this range has {(until - since).days}.",
            {"max_days": MAX_RANGE_DAYS},
        )
    if shape and shape not in SHAPES:
        raise ValidationFailed("unknown_shape", f"Unknown shape {shape!r}.", {"shapes": sorted(SHAPES)})
    if plan and plan not in PLANS:
        raise ValidationFailed("unknown_plan", f"Unknown plan {plan!r}.", {"plans": sorted(PLANS)})
    unknown = [code for code in (metrics or ()) if code not in METRICS]
    if unknown:
        raise ValidationFailed(
            "unknown_metric", f"Unknown metric {unknown[0]!r}.", {"metrics": list(METRICS)}
        )
    if period is not None and period not in PERIODS:
        raise ValidationFailed("unknown_period", f"Unknown period {period!r}.", {"periods": list(PERIODS)})


def _empty(metric: Metric) -> Value:
    """The value of a group with nothing in it: null (``signups``: 0), never 0%."""
    if metric.cohort == ACCOUNTS:
        return metric_value(metric, {})
    return empty_ticket_value(metric)


def channel_report(
    *,
    since: date,
    until: date,
    shape: str | None = None,
    plan: str | None = None,
    now: datetime | None = None,
    metrics: list[str] | None = None,
) -> ChannelReport:
    """Every metric (or those of ``metrics``) for every channel, and over every channel.

    Every channel that exists is listed, even without signups; after them, when a ticket
    metric is asked for, the ``unmatched`` row holds the tickets with no matched account (it
    carries the ticket metrics only). ``now`` (default: the current time) is when maturity and
    open tickets are judged, and the report's ``as_of``.
    """
    validate_query(since=since, until=until, shape=shape, plan=plan, metrics=metrics)
    now = now or timezone.now()
    chosen = [METRICS[code] for code in (metrics or METRICS)]
    filters = {"shape": shape or None, "plan": plan or None}
    account_groups, account_total = account_metrics(
        chosen, since=since, until=until, now=now, shape=shape, plan=plan
    )
    ticket_groups, ticket_total = ticket_metrics(
        chosen, since=since, until=until, now=now, shape=shape, plan=plan
    )
    rows = []
    for channel in Channel.objects.using(reports_db()).order_by("code"):
        found = {**account_groups.get((channel.pk,), {}), **ticket_groups.get((channel.pk,), {})}
        rows.append(
            ChannelRow(channel.code, channel.name, {m.code: found.get(m.code) or _empty(m) for m in chosen})
        )
    ticket_chosen = [m for m in chosen if m.cohort != ACCOUNTS]
    if ticket_chosen:
        found = ticket_groups.get((None,), {})
        unmatched = {m.code: found.get(m.code) or _empty(m) for m in ticket_chosen}
        rows.append(ChannelRow(UNMATCHED, UNMATCHED_NAME, unmatched, is_channel=False))
    total_found = {**account_total, **ticket_total}
    return ChannelReport(
        as_of=now,
        since=since,
        until=until,
        filters=filters,
        channels=rows,
        total={m.code: total_found.get(m.code) or _empty(m) for m in chosen},
        definitions=definitions([m.code for m in chosen]),
    )


def period_starts(since: date, until: date, period: str) -> list[date]:
    """The start of every period that holds a day of [since, until): days, or ISO weeks from
    the Monday on or before ``since``."""
    step = timedelta(days=7 if period == WEEK else 1)
    start = since - timedelta(days=since.weekday()) if period == WEEK else since
    starts = []
    while start < until:
        starts.append(start)
        start += step
    return starts


def cohort_row(channel: str, start: date, value: Value) -> CohortRow:
    if isinstance(value, Distribution):
        return CohortRow(channel, start, value.p50, None, value.n, True, 0)
    if isinstance(value, QueueAge):  # not a cohort metric; never asked for here
        raise TypeError("queue_age_h has no cohort rows")
    assert isinstance(value, MetricValue)
    return CohortRow(
        channel, start, value.value, value.numerator, value.denominator, value.complete, value.pending
    )


def cohort_table(
    *,
    metrics: list[str],
    since: date,
    until: date,
    period: str = WEEK,
    shape: str | None = None,
    plan: str | None = None,
    now: datetime | None = None,
) -> dict[tuple[str, date], dict[str, Value]]:
    """Several cohort metrics at once by (channel code, period start), for every channel (and
    ``unmatched`` when a ticket metric is asked for) and every period of [since, until): one
    GROUP BY for the account metrics, one for the ticket ones. Snapshots read days of it."""
    validate_query(since=since, until=until, shape=shape, plan=plan, metrics=metrics, period=period)
    chosen = [METRICS[code] for code in metrics]
    not_cohorts = [m.code for m in chosen if m.cohort == OPEN_NOW]
    if not_cohorts:
        raise ValidationFailed(
            "not_a_cohort_metric", f"{not_cohorts[0]} is a reading of the tickets open now, not a cohort."
        )
    now = now or timezone.now()
    query = {"since": since, "until": until, "now": now, "shape": shape, "plan": plan, "period": period}
    account_groups, _ = account_metrics(chosen, **query)
    ticket_groups, _ = ticket_metrics(chosen, **query)
    channels = [(c.pk, c.code) for c in Channel.objects.using(reports_db()).order_by("code")]
    if any(m.cohort != ACCOUNTS for m in chosen):
        channels.append((None, UNMATCHED))
    table = {}
    for pk, code in channels:
        wanted = chosen if pk is not None else [m for m in chosen if m.cohort != ACCOUNTS]
        for start in period_starts(since, until, period):
            found = {**account_groups.get((pk, start), {}), **ticket_groups.get((pk, start), {})}
            table[(code, start)] = {m.code: found.get(m.code) or _empty(m) for m in wanted}
    return table


def cohort_rows(
    *,
    metric: str,
    since: date,
    until: date,
    period: str = WEEK,
    shape: str | None = None,
    plan: str | None = None,
    now: datetime | None = None,
) -> list[CohortRow]:
    """``metric`` for every channel and every signup period (day, or ISO week starting on
    Monday) of [since, until): a full grid, channel by channel, oldest period first. A ticket
    metric groups tickets by creation period and adds the ``unmatched`` row."""
    table = cohort_table(
        metrics=[metric], since=since, until=until, period=period, shape=shape, plan=plan, now=now
    )
    return [cohort_row(code, start, values[metric]) for (code, start), values in table.items()]


def cohort_accounts(
    *,
    metric: str,
    channel: str,
    period_start: date,
    period: str = WEEK,
    since: date | None = None,
    until: date | None = None,
    shape: str | None = None,
    plan: str | None = None,
    now: datetime | None = None,
    user=None,
) -> QuerySet[Account]:
    """The accounts behind one cohort cell (click-through): the channel's cohort accounts that
    signed up in the period starting ``period_start``, clipped to [since, until) when given.
    Each carries ``mature`` (counted in the denominator) and ``contribution`` (what it adds to
    the numerator; for time_to_first_value_h, its activated_at - signed_up_at). With ``user``,
    only the accounts that user may see (``restrict``)."""
    if period not in PERIODS:
        raise ValidationFailed("unknown_period", f"Unknown period {period!r}.", {"periods": list(PERIODS)})
    start = period_start
    end = start + timedelta(days=7 if period == WEEK else 1)
    start, end = max(start, since or start), min(end, until or end)
    validate_query(since=start, until=end, shape=shape, plan=plan, metrics=[metric])
    chosen = METRICS[metric]
    if chosen.cohort != ACCOUNTS:
        raise ValidationFailed("not_an_account_metric", f"{metric} is not computed over accounts.")
    found = Channel.objects.using(reports_db()).filter(code=channel).first()
    if found is None:
        raise NotFound("unknown_channel", f"Unknown channel {channel!r}.")
    base = Account.objects.restrict(user, "view") if user is not None else Account.objects.using(reports_db())
    return cell_accounts(
        chosen,
        channel_id=found.pk,
        since=start,
        until=end,
        now=now or timezone.now(),
        base=base,
        shape=shape,
        plan=plan,
    ).order_by("signed_up_at", "pk")


__all__ = [
    "DAY",
    "WEEK",
    "channel_report",
    "cohort_accounts",
    "cohort_rows",
    "cohort_table",
    "validate_query",
]
