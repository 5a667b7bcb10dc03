"""Metric snapshots: one row per (metric, channel, signup day, version), rewritten with history
when the numbers move, by the service, the command and the beat tasks; and the hooks gates uses."""

from datetime import UTC, datetime, time, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import Account
from accounts.services import EventInput, account_events_record, account_mark_duplicate
from reports import hooks
from reports.metrics import COHORT_METRICS
from reports.models import MetricSnapshot
from reports.services import metric_snapshots_run, metric_snapshots_write, snapshot_periods
from reports.tasks import metrics_snapshot, metrics_snapshot_ramping

pytestmark = pytest.mark.django_db

D = timedelta(days=1)


@pytest.fixture
def day_cohort(make_account, make_channel):
    """Two web accounts that signed up on one day, 40 days ago (every window has passed)."""
    web = make_channel("web")
    make_channel("quiet")
    day = timezone.now().date() - 40 * D
    start = datetime.combine(day, time(1), tzinfo=UTC)
    accounts = [make_account(channel=web, signed_up_at=start + timedelta(hours=h)) for h in (0, 1)]
    return day, accounts


def _snapshot(metric, channel="web", **key):
    return MetricSnapshot.objects.get(metric=metric, channel__code=channel, **key)


def test_a_day_is_snapshotted_for_every_metric_and_channel(day_cohort, system):
    day, _ = day_cohort
    written = metric_snapshots_write(since=day, until=day + D, actor=system)
    channels = MetricSnapshot.objects.values("channel").distinct().count()
    per_channel = len(COHORT_METRICS) + 1  # time_to_first_value_h is stored as p50 and p90
    assert written == MetricSnapshot.objects.count() == channels * per_channel
    signups = _snapshot("signups", period=day)
    assert (signups.value, signups.numerator, signups.denominator, signups.complete) == (2, 2, None, True)
    assert signups.version == 1 and signups.computed_at is not None
    quiet = _snapshot("activation_24h", channel="quiet", period=day)
    assert quiet.value is None and quiet.denominator == 0  # no signups: null, never 0
    assert _snapshot("time_to_first_value_h.p50", period=day).denominator == 0


def test_a_rerun_updates_the_rows_that_moved_with_history(day_cohort, system):
    day, accounts = day_cohort
    metric_snapshots_write(since=day, until=day + D, actor=system)
    failure = _snapshot("provisioning_failure_rate", period=day)
    assert failure.value == 0.0

    late = EventInput("late-failure", "import.failed", accounts[0].signed_up_at + timedelta(hours=5))
    account_events_record(account=accounts[0], events=[late], actor=system)
    assert metric_snapshots_write(since=day, until=day + D, actor=system) == 1  # only the failure rate moved

    failure.refresh_from_db()
    assert (failure.value, failure.numerator, failure.denominator) == (0.5, 1, 2)
    assert [h.value for h in failure.history.order_by("history_date")] == [0.0, 0.5]
    assert MetricSnapshot.objects.filter(metric="provisioning_failure_rate", channel__code="web").count() == 1


def test_the_command_snapshots_one_day_or_the_recent_days(day_cohort):
    day, _ = day_cohort
    out = StringIO()
    call_command("metrics_snapshot", "--date", day.isoformat(), stdout=out)
    assert "snapshot rows written" in out.getvalue()
    assert set(MetricSnapshot.objects.values_list("period", flat=True)) == {day}
    assert _snapshot("signups", period=day).history.first().history_user.username == "system:cli"

    call_command("metrics_snapshot", stdout=StringIO())
    periods = set(MetricSnapshot.objects.values_list("period", flat=True))
    since, until = snapshot_periods(timezone.now().date())
    assert periods == {day, *(since + n * D for n in range((until - since).days))}
    with pytest.raises(CommandError):
        call_command("metrics_snapshot", "--date", "01/11/2026", stdout=StringIO())


def test_the_daily_task_is_idempotent(day_cohort):
    first = metrics_snapshot.apply().get()
    assert first > 0
    assert metrics_snapshot.apply().get() == 0


def test_the_hourly_task_snapshots_ramping_channels_then_calls_the_hooks(day_cohort, monkeypatch):
    called = []
    monkeypatch.setattr(hooks, "_RAMPING", [])
    monkeypatch.setattr(hooks, "_AFTER_SNAPSHOT", [])
    assert metrics_snapshot_ramping.apply().get() == 0  # nothing ramps: nothing to do

    hooks.register_ramping_channels(lambda: ["web"])
    hooks.register_after_snapshot(lambda **kwargs: called.append(kwargs))
    assert metrics_snapshot_ramping.apply().get() > 0
    assert set(MetricSnapshot.objects.values_list("channel__code", flat=True)) == {"web"}
    assert called and called[0]["channels"] == ["web"]
    assert timezone.now().date() in called[0]["periods"]


def test_a_run_over_several_days_calls_the_hooks_once(day_cohort, system, monkeypatch):
    day, _ = day_cohort
    calls = []
    monkeypatch.setattr(hooks, "_AFTER_SNAPSHOT", [lambda **kwargs: calls.append(kwargs)])
    metric_snapshots_run(since=day, until=day + 2 * D, actor=system)
    assert len(calls) == 1 and calls[0]["periods"] == [day, day + D] and calls[0]["channels"] is None


def test_rebuild_account_facts_reports_what_it_did(day_cohort):
    out = StringIO()
    call_command("rebuild_account_facts", stdout=out)
    assert out.getvalue().startswith("rebuild_account_facts: 2 accounts")


@pytest.mark.parametrize("emptied_by", ["marked_duplicate", "deleted"])
def test_a_day_whose_cohort_emptied_is_rewritten_as_empty_with_history(
    day_cohort, make_account, system, emptied_by
):
    """METRICS.md: a cohort with no account has value null (signups 0), never a stale number.
    The row stays (a gate decision may cite it) and history keeps what it said before."""
    day, accounts = day_cohort
    metric_snapshots_write(since=day, until=day + D, actor=system)
    rows = MetricSnapshot.objects.count()
    if emptied_by == "deleted":
        Account.objects.filter(pk__in=[a.pk for a in accounts]).delete()
    else:
        canonical = make_account(channel=accounts[0].channel, signed_up_at=accounts[0].signed_up_at - 2 * D)
        for account in accounts:
            account_mark_duplicate(account=account, canonical=canonical, actor=system)

    assert metric_snapshots_write(since=day, until=day + D, actor=system) > 0

    signups = _snapshot("signups", period=day)
    assert (signups.value, signups.numerator, signups.complete, signups.pending) == (0, 0, True, 0)
    assert [h.value for h in signups.history.order_by("history_date")] == [2, 0]
    for metric in ("activation_24h", "provisioning_failure_rate", "tickets_per_100"):
        snapshot = _snapshot(metric, period=day)
        assert (snapshot.value, snapshot.numerator, snapshot.denominator) == (None, 0, 0), metric
    ttv = _snapshot("time_to_first_value_h.p50", period=day)
    assert (ttv.value, ttv.denominator) == (None, 0)
    assert MetricSnapshot.objects.count() == rows
