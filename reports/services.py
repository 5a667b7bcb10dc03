"""Reports' writes: metric snapshots, the rows gates cite.

A snapshot is one metric of one channel's signup-day cohort (period = that day, UTC), as the
metric's definition computes it now. Writing is idempotent per (metric, channel, period,
version): a rerun updates the row when its numbers moved (history keeps what it said), and
leaves it alone when they did not.
"""

from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from accounts.models import Channel
from opsconsole.db_router import primary_reads
from opsconsole.history import service
from reports import hooks
from reports.metrics import COHORT_METRICS, DAY, Distribution, MetricValue, cohort_table
from reports.models import MetricSnapshot

# A day's cohort keeps moving until its longest window (30 days) has passed; late data can
# move it after that too. Each run rewrites this many days back, yesterday included.
SNAPSHOT_LOOKBACK_DAYS = 35
SNAPSHOT_FIELDS = ("value", "numerator", "denominator", "complete", "pending")
# Reads of the reports app go to the replica when there is one (opsconsole/db_router.py). The
# snapshot writer reads on the primary (``primary_reads``): what it writes and what gates then
# evaluates must not lag behind what the primary holds. Rows a write locks name it too.
PRIMARY = "default"


def snapshot_rows(code: str, value) -> list[tuple[str, dict]]:
    """The snapshot rows of one metric value: one, or one per percentile of a distribution
    (``time_to_first_value_h.p50``, with n as its denominator)."""
    if isinstance(value, Distribution):
        return [
            (
                f"{code}.{name}",
                {"value": p, "numerator": None, "denominator": value.n, "complete": True, "pending": 0},
            )
            for name, p in (("p50", value.p50), ("p90", value.p90))
        ]
    assert isinstance(value, MetricValue)
    return [(code, {name: getattr(value, name) for name in SNAPSHOT_FIELDS})]


def _snapshot_write(*, key: dict, fields: dict, now) -> bool:
    """One row, for a run that lost a race to a concurrent one: update theirs."""
    snapshot = MetricSnapshot.objects.using(PRIMARY).select_for_update().filter(**key).first()
    if snapshot is None:
        MetricSnapshot.objects.create(**key, **fields, computed_at=now)
        return True
    return _snapshot_update(snapshot, fields, now)


def _snapshot_update(snapshot: MetricSnapshot, fields: dict, now) -> bool:
    if all(getattr(snapshot, name) == value for name, value in fields.items()):
        return False
    for name, value in fields.items():
        setattr(snapshot, name, value)
    snapshot.computed_at = now
    snapshot.save()
    return True


@service
def metric_snapshots_write(
    *, since: date, until: date, channels: list[str] | None = None, now: datetime | None = None, actor
) -> int:
    """Snapshot every cohort metric of each signup day in [since, until) for every channel (or
    those of ``channels``), from one cohort table; returns how many rows were created or
    changed. New rows are inserted together (each with its history row); existing rows are
    updated, one by one, only where their numbers moved."""
    now = now or timezone.now()
    with primary_reads():
        table = cohort_table(metrics=COHORT_METRICS, since=since, until=until, period=DAY, now=now)
    by_code = {c.code: c for c in Channel.objects.using(PRIMARY)}
    wanted = {}
    for (code, day), values in table.items():
        if code not in by_code or (channels is not None and code not in channels):
            continue  # ``unmatched`` is not a channel
        for metric_code, value in values.items():
            for metric, fields in snapshot_rows(metric_code, value):
                wanted[(metric, by_code[code].pk, day, value.version)] = fields
    existing = {
        (s.metric, s.channel_id, s.period, s.version): s
        for s in MetricSnapshot.objects.using(PRIMARY)
        .select_for_update()
        .filter(period__gte=since, period__lt=until, channel_id__in={key[1] for key in wanted})
    }
    new = [
        MetricSnapshot(metric=m, channel_id=c, period=p, version=v, computed_at=now, **fields)
        for (m, c, p, v), fields in wanted.items()
        if (m, c, p, v) not in existing
    ]
    written = 0
    try:
        with transaction.atomic():
            bulk_create_with_history(new, MetricSnapshot, default_user=actor, default_date=now)
            written += len(new)
    except IntegrityError:  # a concurrent run wrote some first: row by row, updating theirs
        for snapshot in new:
            key = {n: getattr(snapshot, n) for n in ("metric", "channel_id", "period", "version")}
            written += _snapshot_write(key=key, fields=wanted[tuple(key.values())], now=now)
    for key, snapshot in existing.items():
        if key in wanted:  # rows of another version, or of a metric no longer defined, stay
            written += _snapshot_update(snapshot, wanted[key], now)
    return written


def snapshot_periods(today: date, days: int = SNAPSHOT_LOOKBACK_DAYS) -> tuple[date, date]:
    """The signup days a scheduled run rewrites, as [since, until): the ``days`` before
    ``today``."""
    return today - timedelta(days=days), today


def metric_snapshots_run(
    *, since: date, until: date, channels: list[str] | None = None, now: datetime | None = None, actor
) -> int:
    """Snapshot the signup days of [since, until) (one transaction), then tell the registered
    hooks, with the days and channels written (gates evaluates its stop rules on them)."""
    now = now or timezone.now()
    with primary_reads():  # gates evaluates the rows just written: read them where they are
        written = metric_snapshots_write(since=since, until=until, channels=channels, now=now, actor=actor)
        periods = [since + timedelta(days=n) for n in range((until - since).days)]
        hooks.after_snapshot(periods=periods, channels=channels, now=now)
    return written
