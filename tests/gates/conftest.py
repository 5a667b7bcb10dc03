"""Fixtures for the gates tests: an executive owner, an ops lead, a ramp plan, snapshot rows."""

from datetime import UTC, date, datetime, timedelta

import pytest

from gates.services import ramp_plan_create
from reports.metrics import METRICS
from reports.models import MetricSnapshot

TARGETS = {
    "target_activation": 0.5,
    "target_tickets_per_100": 30.0,
    "target_provisioning_failure": 0.1,
    "target_escalations_per_100": 5.0,
}
STEPS = [{"label": "1.5x now", "multiplier": 1.5}, {"label": "3x after review", "multiplier": 3}]
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def owner(make_user):
    return make_user("leadership")


@pytest.fixture
def ops_lead(make_user):
    return make_user("ops_lead")


@pytest.fixture
def make_plan(channel, owner, ops_lead):
    def _make(**fields):
        fields.setdefault("channel", channel)
        fields.setdefault("weekly_signups", 200)
        fields.setdefault("steps", STEPS)
        fields.setdefault("executive_owner", owner)
        fields.setdefault("targets", TARGETS)
        return ramp_plan_create(**fields, actor=fields.pop("actor", ops_lead))

    return _make


@pytest.fixture
def plan(make_plan):
    return make_plan()


@pytest.fixture
def snapshot(channel):
    """``snapshot("activation_24h", day, numerator, denominator, complete=True)``: one row as
    reports writes it (value computed as the metric's definition does)."""

    def _write(metric, day: date, numerator, denominator, *, complete=True, channel_=None, computed_at=NOW):
        scale = 100 if metric in ("tickets_per_100", "escalations_per_100") else 1
        value = round(scale * numerator / denominator, 4) if denominator else None
        return MetricSnapshot.objects.create(
            metric=metric,
            channel=channel_ or channel,
            period=day,
            value=value,
            numerator=numerator,
            denominator=denominator,
            complete=complete,
            pending=0 if complete else 5,
            version=METRICS[metric].version,
            computed_at=computed_at,
        )

    return _write


def days_before(day: date, n: int) -> list[date]:
    """The n days before ``day``, oldest first."""
    return [day - timedelta(days=i) for i in range(n, 0, -1)]
