"""Support metrics (../shared/METRICS.md, "Support metrics"), written once, over the ticket
cohort: tickets whose ``created_at`` is in [since, until), grouped by the account's channel
(``unmatched`` without an account), or by queue, tier or ``via``.

Business hours run on the ticket's SLA policy clock (its calendar's working hours, or around
the clock for a 24x7 policy, or wall-clock time with no policy) minus the time the ticket
waited on the customer, exactly as the SLA clocks do (``routing.sla``). That arithmetic is
Python, so these metrics read the cohort's rows once and compute in Python; percentiles are
``percentile_cont``'s (``routing.rules.percentile``).

``self_service_rate`` is about blocking reasons, not tickets: the exceptions opened by a
product event whose ``resolved_at`` is in [since, until), grouped by the account's channel.
``tickets_per_active_account_week`` is per ISO week starting in [since, until), by channel.
Neither has a queue, tier or via; grouped that way they show only in the total.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from accounts.choices import EventSource, ExceptionStatus
from accounts.models import AccountEvent, Channel, OpsException
from opsconsole.errors import ValidationFailed
from opsconsole.models import ActionRun
from reports.facts import person_q
from reports.metrics.definitions import UNMATCHED
from reports.metrics.report import validate_query
from reports.metrics.sql import reports_db
from reports.metrics.values import RATE, Distribution, MetricValue, ratio, rounded
from routing.choices import OPEN_KNOWN_ISSUE_STATUSES, Rating
from routing.models import KnownIssue, Ticket
from routing.rules import percentile
from routing.selectors.setup import routing_setup
from routing.sla import ALWAYS_OPEN, add_business_time, business_time_between, parse_pauses

VERSION = 1
TIER1_RESOLUTION = timedelta(hours=24)
GROUPINGS = ("channel", "queue", "tier", "via")

TEXTS = {
    "first_response_h": "p50 and p90 of business hours from created_at to the first public agent reply, "
    "over tickets that have one.",
    "first_response_within_target_rate": "Tickets whose first public reply came by first_response_due_at ÷ "
    "tickets (with a due time) whose due time has passed or that were answered.",
    "tier1_resolution_24h_rate": "Tier-1 tickets first solved within 24 business hours ÷ tier-1 tickets "
    "whose 24 business hours have passed or that were solved.",
    "csat": "good ÷ (good + bad) over the latest rating of each rated ticket; null with no ratings.",
    "reopen_rate": "Solved tickets reopened at least once ÷ solved tickets.",
    "tickets_per_active_account_week": "Tickets created in an ISO week ÷ accounts with a product event that "
    "week, per week; the trend is the least-squares slope per week.",
    "self_service_rate": "Blocking reasons cleared with no ticket and no staff action ÷ blocking reasons "
    "cleared (exceptions opened by a product event, resolved in the range).",
}


@dataclass
class SupportRow:
    group: str
    metrics: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Trend:
    """Weekly values of ``tickets_per_active_account_week`` and their slope per week."""

    weeks: list  # [(week start, MetricValue)]
    slope: float | None
    version: int = VERSION

    def as_dict(self) -> dict:
        return {
            "weeks": [{"week": w.isoformat(), **v.as_dict()} for w, v in self.weeks],
            "slope": self.slope,
            "version": self.version,
        }


@dataclass(frozen=True)
class SupportReport:
    as_of: datetime
    since: date
    until: date
    group_by: str
    rows: list  # [SupportRow], one per group
    total: SupportRow
    known_issues: list  # [{"id", "title", "status", "linked_tickets"}]
    definitions: dict


def _rate(numerator: int, denominator: int) -> MetricValue:
    return MetricValue(ratio(RATE, numerator, denominator), numerator, denominator, True, 0, VERSION)


def _clock(ticket, setup):
    return setup.clock_for(ticket.sla_policy) if ticket.sla_policy_id else ALWAYS_OPEN


def _group_of(ticket, group_by: str) -> str:
    if group_by == "channel":
        return ticket.account.channel.code if ticket.account_id else UNMATCHED
    if group_by == "queue":
        return ticket.queue.code
    if group_by == "tier":
        return str(ticket.queue.tier)
    return ticket.via or "unknown"


def ticket_figures(tickets, *, now: datetime) -> dict:
    """Every ticket-cohort support metric over ``tickets``."""
    setup = routing_setup()
    hours, answered_in, answered_due = [], 0, 0
    tier1_in, tier1_due, good, rated, solved, reopened = 0, 0, 0, 0, 0, 0
    for t in tickets:
        clock, pauses = _clock(t, setup), parse_pauses(t.pauses)
        if t.first_response_at is not None:
            hours.append(
                business_time_between(clock, t.created_at, t.first_response_at, pauses).total_seconds() / 3600
            )
        if t.first_response_due_at is not None and (
            t.first_response_at is not None or t.first_response_due_at <= now
        ):
            answered_due += 1
            answered_in += t.first_response_at is not None and t.first_response_at <= t.first_response_due_at
        if t.queue.tier == 1:
            deadline = add_business_time(clock, t.created_at, TIER1_RESOLUTION, pauses)
            if t.first_solved_at is not None or (deadline is not None and deadline <= now):
                tier1_due += 1
                tier1_in += (
                    t.first_solved_at is not None and deadline is not None and t.first_solved_at <= deadline
                )
        if t.csat_rating:
            rated += 1
            good += t.csat_rating == Rating.GOOD
        if t.first_solved_at is not None:
            solved += 1
            reopened += t.reopen_count > 0
    hours.sort()
    return {
        "first_response_h": Distribution(
            rounded(percentile(hours, 0.5)), rounded(percentile(hours, 0.9)), len(hours), VERSION
        ),
        "first_response_within_target_rate": _rate(answered_in, answered_due),
        "tier1_resolution_24h_rate": _rate(tier1_in, tier1_due),
        "csat": _rate(good, rated),
        "reopen_rate": _rate(reopened, solved),
    }


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weekly_tickets_per_active_account(
    *, since: date, until: date, channel_id=None, everything=False
) -> Trend:
    """Tickets created in each ISO week starting in [since, until) ÷ accounts with a product event
    that week (one channel's accounts, or every account with ``everything``)."""
    weeks = []
    start = since if _week_start(since) == since else _week_start(since) + timedelta(days=7)
    while start < until:
        weeks.append(start)
        start += timedelta(days=7)
    values = []
    for week in weeks:
        begin = _midnight(week)
        end = begin + timedelta(days=7)
        tickets = Ticket.objects.using(reports_db()).filter(created_at__gte=begin, created_at__lt=end)
        events = AccountEvent.objects.using(reports_db()).filter(
            source=EventSource.PRODUCT, occurred_at__gte=begin, occurred_at__lt=end
        )
        if not everything:
            tickets = tickets.filter(account__channel_id=channel_id)
            events = events.filter(account__channel_id=channel_id)
        active = events.values("account_id").distinct().count()
        n = tickets.count()
        values.append(
            (week, MetricValue(rounded(n / active, 4) if active else None, n, active, True, 0, VERSION))
        )
    return Trend(values, _slope([(i, v.value) for i, (_, v) in enumerate(values) if v.value is not None]))


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _slope(points: list[tuple[int, float]]) -> float | None:
    """Least-squares slope of (week index, value); None under two points."""
    if len(points) < 2:
        return None
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return rounded(sum((x - mx) * (y - my) for x, y in points) / sxx, 4) if sxx else None


def self_service(*, since: date, until: date) -> dict:
    """``self_service_rate`` per channel code: blocking reasons (exceptions opened by a product
    event) resolved in [since, until), and those cleared with no ticket of the account and no
    action run by a person on it between opening and resolution, nor resolved by a person."""
    cleared = OpsException.objects.using(reports_db()).filter(
        opened_by_event__isnull=False,
        status=ExceptionStatus.RESOLVED,
        resolved_at__gte=_midnight(since),
        resolved_at__lt=_midnight(until),
    )
    ticket = Ticket.objects.filter(
        account=OuterRef("account"),
        created_at__gte=OuterRef("opened_at"),
        created_at__lte=OuterRef("resolved_at"),
    )
    staff = ActionRun.objects.filter(
        person_q("actor"),
        account=OuterRef("account"),
        created_at__gte=OuterRef("opened_at"),
        created_at__lte=OuterRef("resolved_at"),
    )
    by_person = Q(resolved_by__isnull=False) & person_q("resolved_by")
    rows = (
        cleared.values("account__channel__code")
        .annotate(
            total=Count("pk"),
            alone=Count("pk", filter=~Exists(ticket) & ~Exists(staff) & ~by_person),
        )
        .order_by()
    )
    return {row["account__channel__code"]: (row["alone"], row["total"]) for row in rows}


def open_known_issues() -> list[dict]:
    issues = (
        KnownIssue.objects.using(reports_db())
        .filter(status__in=OPEN_KNOWN_ISSUE_STATUSES)
        .annotate(linked=Count("links"))
        .order_by("-linked", "pk")
    )
    return [{"id": i.pk, "title": i.title, "status": i.status, "linked_tickets": i.linked} for i in issues]


def support_report(
    *, since: date, until: date, group_by: str = "channel", now: datetime | None = None
) -> SupportReport:
    """The support metrics per group and in total."""
    validate_query(since=since, until=until, shape=None, plan=None)
    if group_by not in GROUPINGS:
        raise ValidationFailed("unknown_grouping", f"Group by one of {', '.join(GROUPINGS)}.")
    now = now or timezone.now()
    tickets = list(
        Ticket.objects.using(reports_db())
        .filter(created_at__gte=_midnight(since), created_at__lt=_midnight(until))
        .select_related("queue", "sla_policy", "account__channel")
    )
    groups = defaultdict(list)
    for t in tickets:
        groups[_group_of(t, group_by)].append(t)
    names = sorted(groups)
    if group_by == "channel":
        names = sorted(set(names) | set(Channel.objects.using(reports_db()).values_list("code", flat=True)))
    self_served = self_service(since=since, until=until)
    channels = dict(Channel.objects.using(reports_db()).values_list("code", "pk"))
    rows = []
    for name in names:
        metrics = ticket_figures(groups.get(name, []), now=now)
        if group_by == "channel" and name in channels:
            alone, total = self_served.get(name, (0, 0))
            metrics["self_service_rate"] = _rate(alone, total)
            metrics["tickets_per_active_account_week"] = weekly_tickets_per_active_account(
                since=since, until=until, channel_id=channels[name]
            )
        rows.append(SupportRow(name, metrics))
    total = SupportRow("total", ticket_figures(tickets, now=now))
    alone = sum(a for a, _ in self_served.values())
    total.metrics["self_service_rate"] = _rate(alone, sum(t for _, t in self_served.values()))
    total.metrics["tickets_per_active_account_week"] = weekly_tickets_per_active_account(
        since=since, until=until, everything=True
    )
    return SupportReport(now, since, until, group_by, rows, total, open_known_issues(), dict(TEXTS))
