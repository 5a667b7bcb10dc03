"""Ticket metrics: the ticket cohort (tickets whose ``created_at`` is in [since, until)) and the
tickets open now, grouped by the channel of their account (None: no matched account, shown as
``unmatched``). A shape or plan filter keeps the tickets of accounts of that shape or plan."""

from collections import defaultdict
from datetime import UTC, date, datetime

from django.db import connections
from django.db.models import (
    BooleanField,
    Count,
    DateField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Value,
)
from django.db.models.functions import Trunc

from reports.metrics.definitions import OPEN_NOW, TICKETS, Metric
from reports.metrics.sql import Hours, PercentileCont, day_start, percentile, percentiles_in_sql, reports_db
from reports.metrics.values import RATE, QueueAge, ratio_value, rounded
from reports.models import AccountFacts
from routing.choices import OPEN_TICKET_STATUSES, DecisionKind
from routing.models import RoutingDecision, Ticket
from routing.rules import SLA_FIELDS

QUEUE_FRACTIONS = (50, 90, 99)


def _tickets(*, shape, plan):
    qs = Ticket.objects.using(reports_db())
    if shape:
        qs = qs.filter(account__shape=shape)
    if plan:
        qs = qs.filter(account__plan=plan)
    return qs


def auto_owner_q() -> Q:
    """The ticket's first owner came from a routing rule at intake: a rule decision that named
    an owner, with no manual decision before it."""
    manual_before = RoutingDecision.objects.filter(
        ticket=OuterRef("ticket"), kind=DecisionKind.MANUAL, id__lt=OuterRef("id")
    )
    by_rule = RoutingDecision.objects.filter(
        ticket=OuterRef("pk"), kind=DecisionKind.RULE, owner__isnull=False
    ).filter(~Exists(manual_before))
    return Q(Exists(by_rule))


def past_target_q(now: datetime) -> Q:
    """An unmet SLA target already due (routing.rules.past_target, as a condition)."""
    past = Q()
    for due_field, met_field in SLA_FIELDS.values():
        past |= Q(**{f"{due_field}__lte": now, f"{met_field}__isnull": True})
    return past


def ticket_metrics(
    metrics: list[Metric],
    *,
    since: date,
    until: date,
    now: datetime,
    shape=None,
    plan=None,
    period: str | None = None,
) -> tuple[dict[tuple, dict], dict]:
    """The ticket metrics of ``metrics`` per group ((channel_id or None,) or, with ``period``,
    (channel_id or None, period_start)) and in total."""
    per_group: dict[tuple, dict] = defaultdict(dict)
    total: dict = {}
    for metric in metrics:
        if metric.cohort == TICKETS:
            groups, total[metric.code] = _auto_owner(
                metric, since=since, until=until, shape=shape, plan=plan, period=period
            )
        elif metric.cohort == OPEN_NOW and period is None:
            groups, total[metric.code] = _queue_age(metric, now=now, shape=shape, plan=plan)
        else:
            continue
        for group, value in groups.items():
            per_group[group][metric.code] = value
    return dict(per_group), total


def _auto_owner(metric: Metric, *, since, until, shape, plan, period):
    """The window's tickets (read from ``ticket_created_idx`` alone) take their channel from
    their account's facts (channel never changes; shape and plan are the account's copies),
    read from ``facts_channel_cover_idx`` alone: neither table's pages are read. A ticket with
    no account, or whose account a filter leaves out, is kept or dropped exactly as the account
    join did."""
    using = reports_db()
    tickets = Ticket.objects.using(using).filter(
        created_at__gte=day_start(since), created_at__lt=day_start(until)
    )
    columns = {"auto": ExpressionWrapper(auto_owner_q(), output_field=BooleanField())}
    if period:
        columns["period_start"] = Trunc("created_at", period, output_field=DateField(), tzinfo=UTC)
    per_ticket = tickets.annotate(**columns).values("account_id", *columns).order_by()
    inner, params = per_ticket.query.sql_with_params()
    conditions, filter_params = [], []
    for field, value in (("shape", shape), ("plan", plan)):
        if value:
            conditions.append(f"f.{field} = %s")
            filter_params.append(value)
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    group = "f.channel_id, t.period_start" if period else "f.channel_id"
    sql = (
        f"SELECT {group}, COUNT(*), SUM(CASE WHEN t.auto THEN 1 ELSE 0 END) FROM ({inner}) t "
        f"LEFT JOIN {AccountFacts._meta.db_table} f ON f.account_id = t.account_id "
        f"{where} GROUP BY {group}"
    )
    with connections[using].cursor() as cursor:
        cursor.execute(sql, (*params, *filter_params))
        rows = cursor.fetchall()
    groups, n_total, auto_total = {}, 0, 0
    for *key, n, auto in rows:
        n, auto = int(n), int(auto)
        if period and key[1] is not None and not isinstance(key[1], date):
            key[1] = date.fromisoformat(str(key[1])[:10])
        groups[tuple(key)] = ratio_value(RATE, auto, n, 0, metric.version)
        n_total += n
        auto_total += auto
    return groups, ratio_value(RATE, auto_total, n_total, 0, metric.version)


def _queue_age(metric: Metric, *, now: datetime, shape, plan):
    open_now = _tickets(shape=shape, plan=plan).filter(status__in=OPEN_TICKET_STATUSES)
    in_sql = percentiles_in_sql(reports_db())
    age = Hours(ExpressionWrapper(Value(now) - F("created_at"), output_field=DurationField()))
    percentiles = {f"p{f}": PercentileCont(age, f / 100) for f in QUEUE_FRACTIONS} if in_sql else {}
    rows = {
        row["account__channel_id"]: row
        for row in open_now.values("account__channel_id")
        .annotate(n=Count("pk"), past=Count("pk", filter=past_target_q(now)), **percentiles)
        .order_by()
    }
    if in_sql:
        total = open_now.order_by().aggregate(**percentiles)
    else:
        ages = defaultdict(list)
        for channel_id, created_at in open_now.values_list("account__channel_id", "created_at").iterator():
            ages[channel_id].append((now - created_at).total_seconds() / 3600)
        everything = sorted(a for values in ages.values() for a in values)
        total = {f"p{f}": percentile(everything, f / 100) for f in QUEUE_FRACTIONS}
        for channel_id, values in ages.items():
            rows[channel_id].update({f"p{f}": percentile(sorted(values), f / 100) for f in QUEUE_FRACTIONS})
    total["n"] = sum(row["n"] for row in rows.values())
    total["past"] = sum(row["past"] for row in rows.values())
    groups = {(channel_id,): _queue_value(metric, row) for channel_id, row in rows.items()}
    return groups, _queue_value(metric, total)


def _queue_value(metric: Metric, row: dict) -> QueueAge:
    return QueueAge(
        rounded(row.get("p50")),
        rounded(row.get("p90")),
        rounded(row.get("p99")),
        row.get("n") or 0,
        row.get("past") or 0,
        metric.version,
    )


def empty_ticket_value(metric: Metric):
    """A group with no tickets: no value, never 0."""
    if metric.cohort == OPEN_NOW:
        return QueueAge(None, None, None, 0, 0, metric.version)
    return ratio_value(RATE, 0, 0, 0, metric.version)
