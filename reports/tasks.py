"""Thin Celery tasks for reports; each is safe to run twice (a snapshot row is unique per
metric, channel, period and version, and a rerun updates it)."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from opsconsole.history import SYSTEM_SCHEDULER, system_user
from reports import hooks
from reports.services import metric_snapshots_run, snapshot_periods


@shared_task(name="reports.metrics_snapshot", acks_late=True, time_limit=30 * 60, soft_time_limit=29 * 60)
def metrics_snapshot() -> int:
    """Daily: every channel's snapshots of the last SNAPSHOT_LOOKBACK_DAYS signup days."""
    now = timezone.now()
    since, until = snapshot_periods(now.date())
    return metric_snapshots_run(since=since, until=until, now=now, actor=system_user(SYSTEM_SCHEDULER))


@shared_task(
    name="reports.metrics_snapshot_ramping", acks_late=True, time_limit=15 * 60, soft_time_limit=14 * 60
)
def metrics_snapshot_ramping() -> int:
    """Hourly: the snapshots of the channels that are ramping (hooks.register_ramping_channels;
    none until gates registers its ramp plans), today's cohort included."""
    channels = hooks.ramping_channels()
    if not channels:
        return 0
    now = timezone.now()
    since, _ = snapshot_periods(now.date())
    until = now.date() + timedelta(days=1)
    return metric_snapshots_run(
        since=since, until=until, channels=channels, now=now, actor=system_user(SYSTEM_SCHEDULER)
    )
