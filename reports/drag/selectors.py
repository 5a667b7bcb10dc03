"""Operational drag per day over [since, until), by channel where a row has an account:

- ``outbox``: outbox messages that failed or were retried (more than one attempt), by the day
  they were written;
- ``webhook_retries``: Stripe events that failed or took more than one attempt, by the day
  received; ``stuck_events``: Stripe events still pending ``REPORTS_STUCK_AFTER_MINUTES``
  after they were received;
- ``reconciliation``: reconciliation runs that failed, or are running with no heartbeat for
  ``REPORTS_STUCK_AFTER_MINUTES`` (stalled), by the day started (no channel);
- ``task_failures``: Celery task failures and retries the tasks recorded themselves
  (``opsconsole.TaskFailure``, one per task id and attempt), by the day they happened (no
  channel: a task names no account);
- ``manual``: guarded actions run by people (succeeded, failed or reversed, as
  ``manual_minutes_per_account`` counts them), by the day run.

Manual interventions per new account = that day's manual runs / that day's signups (cohort
accounts, not duplicates); its trend line is a least-squares fit over the days with signups.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.choices import ReconciliationStatus, StripeEventStatus
from accounts.models import ReconciliationRun, StripeEvent
from opsconsole.models import ActionRun, OutboxMessage, OutboxStatus, TaskFailure
from reports.facts import COUNTED_RUN_STATUSES, person_q
from reports.metrics.sql import day_start
from reports.query import query_date
from reports.rowlists import register_list, rows_url
from reports.scope import bounds, channel_named, cohort


@dataclass(frozen=True)
class _Drag:
    code: str
    label: str
    day_field: str
    rows: Callable[..., QuerySet]  # rows(start, end, channel or None)


def _stuck_after() -> timedelta:
    return timedelta(minutes=settings.REPORTS_STUCK_AFTER_MINUTES)


def _of_channel(qs: QuerySet, channel, path: str = "account__channel") -> QuerySet:
    return qs.filter(**{path: channel}) if channel is not None else qs


def _outbox(start, end, channel):
    qs = OutboxMessage.objects.filter(created_at__gte=start, created_at__lt=end).filter(
        Q(status=OutboxStatus.FAILED) | Q(attempts__gt=1)
    )
    return _of_channel(qs, channel)


def _webhook_retries(start, end, channel):
    qs = StripeEvent.objects.filter(received_at__gte=start, received_at__lt=end).filter(
        Q(status=StripeEventStatus.FAILED) | Q(attempts__gt=1)
    )
    return _of_channel(qs, channel)


def _stuck_events(start, end, channel):
    stuck_before = min(end, timezone.now() - _stuck_after())
    qs = StripeEvent.objects.filter(
        received_at__gte=start, received_at__lt=stuck_before, status=StripeEventStatus.PENDING
    )
    return _of_channel(qs, channel)


def _reconciliation(start, end, channel):
    stalled_before = timezone.now() - _stuck_after()
    stalled = Q(status=ReconciliationStatus.RUNNING) & (
        Q(heartbeat_at__lt=stalled_before) | Q(heartbeat_at__isnull=True, started_at__lt=stalled_before)
    )
    return ReconciliationRun.objects.filter(started_at__gte=start, started_at__lt=end).filter(
        Q(status=ReconciliationStatus.FAILED) | stalled
    )


def _task_failures(start, end, channel):
    return TaskFailure.objects.filter(occurred_at__gte=start, occurred_at__lt=end)


def _manual(start, end, channel):
    qs = ActionRun.objects.filter(
        person_q("actor"), created_at__gte=start, created_at__lt=end, status__in=COUNTED_RUN_STATUSES
    )
    return _of_channel(qs, channel)


DRAGS = (
    _Drag("outbox", "Outbox failed or retried", "created_at", _outbox),
    _Drag("webhook_retries", "Webhook retries and failures", "received_at", _webhook_retries),
    _Drag("stuck_events", "Stripe events stuck unprocessed", "received_at", _stuck_events),
    _Drag("reconciliation", "Reconciliation runs failed or stalled", "started_at", _reconciliation),
    _Drag("task_failures", "Celery tasks failed or retried", "occurred_at", _task_failures),
    _Drag("manual", "Manual interventions (person-run actions)", "created_at", _manual),
)
DRAGS_BY_CODE = {d.code: d for d in DRAGS}


def drag_rows(code: str, *, since: date, until: date, channel: str | None = None, day: date | None = None):
    """The rows behind a drag number: the whole range, or one ``day`` of it."""
    start, end = bounds(since, until)
    if day is not None:
        start, end = max(start, day_start(day)), min(end, day_start(day + timedelta(days=1)))
    return DRAGS_BY_CODE[code].rows(start, end, channel_named(channel))


@dataclass(frozen=True)
class DragDay:
    day: date
    counts: dict  # code -> (count, url)
    signups: int
    manual_per_account: float | None
    trend: float | None


def _fit(points: list[tuple[int, float]]) -> tuple[float, float] | None:
    """Least squares: (slope per day, intercept), over (day index, value) points."""
    if len(points) < 2:
        return None
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if not sxx:
        return None
    slope = sum((x - mx) * (y - my) for x, y in points) / sxx
    return slope, my - slope * mx


def operational_drag(
    *, since: date, until: date, channel: str | None = None
) -> tuple[list[DragDay], float | None]:
    """One row per day of the range, and the trend's slope (manual interventions per new
    account, per day)."""
    per_day: dict[str, dict[date, int]] = defaultdict(dict)
    for drag in DRAGS:
        grouped = (
            drag_rows(drag.code, since=since, until=until, channel=channel)
            .annotate(day=TruncDate(drag.day_field, tzinfo=UTC))
            .values("day")
            .annotate(n=Count("pk"))
            .order_by()
        )
        per_day[drag.code] = {row["day"]: row["n"] for row in grouped}
    signups = {
        row["day"]: row["n"]
        for row in cohort(since=since, until=until, channel=channel)
        .annotate(day=TruncDate("signed_up_at", tzinfo=UTC))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by()
    }
    days = [since + timedelta(days=i) for i in range((until - since).days)]
    ratios = {d: per_day["manual"].get(d, 0) / signups[d] for d in days if signups.get(d)}
    fit = _fit([(i, ratios[d]) for i, d in enumerate(days) if d in ratios])
    rows = []
    for i, d in enumerate(days):
        scope = {"since": since, "until": until, "channel": channel, "day": d}
        counts = {
            drag.code: (per_day[drag.code].get(d, 0), rows_url(f"drag_{drag.code}", **scope))
            for drag in DRAGS
        }
        ratio = ratios.get(d)
        trend = None if fit is None else round(fit[0] * i + fit[1], 4)
        rows.append(DragDay(d, counts, signups.get(d, 0), None if ratio is None else round(ratio, 4), trend))
    return rows, (None if fit is None else round(fit[0], 5))


def _list(code: str):
    def rows(params: dict) -> QuerySet:
        return drag_rows(
            code,
            since=query_date(params, "since"),
            until=query_date(params, "until"),
            channel=params.get("channel") or None,
            day=query_date(params, "day", required=False),
        )

    return rows


_COLUMNS = {
    "outbox": (
        ("id", "pk"),
        ("Command", "command"),
        ("Status", "status"),
        ("Attempts", "attempts"),
        ("Written", "created_at"),
        ("Last error", "last_error"),
    ),
    "webhook_retries": (
        ("id", "pk"),
        ("Stripe event", "stripe_id"),
        ("Type", "type"),
        ("Status", "status"),
        ("Attempts", "attempts"),
        ("Received", "received_at"),
    ),
    "stuck_events": (
        ("id", "pk"),
        ("Stripe event", "stripe_id"),
        ("Type", "type"),
        ("Status", "status"),
        ("Attempts", "attempts"),
        ("Received", "received_at"),
    ),
    "reconciliation": (
        ("id", "pk"),
        ("Target", "target"),
        ("Mode", "mode"),
        ("Status", "status"),
        ("Started", "started_at"),
        ("Heartbeat", "heartbeat_at"),
        ("Last error", "last_error"),
    ),
    "task_failures": (
        ("id", "pk"),
        ("Task", "task_name"),
        ("Kind", "kind"),
        ("Attempt", "attempt"),
        ("Error", "exception_class"),
        ("Message", "message"),
        ("Task id", "task_id"),
        ("At", "occurred_at"),
    ),
    "manual": (
        ("id", "pk"),
        ("Action", "action"),
        ("By", "actor__username"),
        ("Account", "account__external_id"),
        ("Status", "status"),
        ("Run", "created_at"),
    ),
}
for _drag in DRAGS:
    register_list(f"drag_{_drag.code}", _drag.label, _COLUMNS[_drag.code], _list(_drag.code))
