"""SQL pieces the metric queries share: the database reports read from, percentiles, hours.

Percentiles are PostgreSQL's ``percentile_cont`` (linear interpolation between closest ranks),
computed in the same GROUP BY as the other aggregates. Elsewhere (SQLite under ``make run``)
the durations are read and ``routing.rules.percentile`` interpolates them the same way.
"""

from datetime import UTC, date, datetime, time

from django.db import connections, router
from django.db.models import Aggregate, FloatField, Func

from reports.models import AccountFacts
from routing.rules import percentile

__all__ = ["Hours", "PercentileCont", "day_start", "percentile", "percentiles_in_sql", "reports_db"]


def reports_db() -> str:
    """The database reports read from: the replica when one is configured (db_router)."""
    return router.db_for_read(AccountFacts) or "default"


def percentiles_in_sql(using: str) -> bool:
    return connections[using].vendor == "postgresql"


def day_start(day: date) -> datetime:
    """A date read as midnight UTC, as METRICS.md reads ``since`` and ``until``."""
    return datetime.combine(day, time.min, tzinfo=UTC)


class PercentileCont(Aggregate):
    """``percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)``, PostgreSQL only."""

    function = "percentile_cont"
    name = "PercentileCont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


class Hours(Func):
    """A duration (an interval expression) in hours, as a float, PostgreSQL only."""

    template = "(EXTRACT(EPOCH FROM (%(expressions)s)) / 3600.0)"
    output_field = FloatField()
