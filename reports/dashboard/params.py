"""The pages' filters from a query string: a date range (``since``, ``until``; presets for the
last 7, 30 and 90 days), a shape and a plan, read and checked as the API reads them
(``reports.query``, ``reports.metrics.validate_query``). Bad input raises ``ValidationFailed``."""

from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from django.utils import timezone

from accounts.shapes import PLANS, SHAPES
from reports.metrics import DAY, WEEK, validate_query
from reports.query import query_date, query_text

PRESET_DAYS = (7, 30, 90)
# The dashboard opens on 90 days: the 30-day metrics (retention, escalations, manual minutes)
# need accounts older than 30 days, so a shorter range shows them as not measurable yet.
DASHBOARD_DAYS = 90
COHORT_WEEKS = 12
# Trends have a point per day up to this many days (a week or two reads day by day), and a
# point per ISO week beyond (a day's cohort of a month is too small to read as a trend).
DAILY_UP_TO_DAYS = 14


def last_days(days: int, today: date | None = None) -> tuple[date, date]:
    """The last ``days`` days, today included: [today - (days - 1), today + 1)."""
    today = today or timezone.now().date()
    return today - timedelta(days=days - 1), today + timedelta(days=1)


def last_weeks(weeks: int, today: date | None = None) -> tuple[date, date]:
    """The last ``weeks`` ISO weeks, this one included, from a Monday to tomorrow."""
    today = today or timezone.now().date()
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(weeks=weeks - 1), today + timedelta(days=1)


@dataclass(frozen=True)
class PageFilters:
    since: date
    until: date
    shape: str | None = None
    plan: str | None = None

    @property
    def days(self) -> int:
        return (self.until - self.since).days

    @property
    def trend_period(self) -> str:
        return DAY if self.days <= DAILY_UP_TO_DAYS else WEEK

    def report_kwargs(self) -> dict:
        """What ``channel_report``, ``cohort_rows`` and the exports take."""
        return {"since": self.since, "until": self.until, "shape": self.shape, "plan": self.plan}

    def query(self, **extra) -> dict:
        """The query parameters that say these filters (what links carry), without blanks."""
        params = {"since": self.since.isoformat(), "until": self.until.isoformat()}
        params.update({"shape": self.shape, "plan": self.plan, **extra})
        return {k: v for k, v in params.items() if v not in (None, "")}

    def querystring(self, **extra) -> str:
        return urlencode(self.query(**extra))

    def presets(self, today: date | None = None) -> list[dict]:
        """Links for the last 7, 30 and 90 days, keeping shape and plan."""
        found = []
        for days in PRESET_DAYS:
            since, until = last_days(days, today)
            chosen = PageFilters(since, until, self.shape, self.plan)
            found.append(
                {
                    "label": f"Last {days} days",
                    "querystring": chosen.querystring(),
                    "active": (since, until) == (self.since, self.until),
                }
            )
        return found


def page_filters(params, *, default: tuple[date, date]) -> PageFilters:
    """The filters of a page's query string; ``default`` is the range when none is given."""
    since = query_date(params, "since", required=False)
    until = query_date(params, "until", required=False)
    if since is None and until is None:
        since, until = default
    elif since is None:
        since = until - (default[1] - default[0])
    elif until is None:
        until = max(default[1], since + timedelta(days=1))
    shape, plan = query_text(params, "shape"), query_text(params, "plan")
    validate_query(since=since, until=until, shape=shape, plan=plan)
    return PageFilters(since, until, shape, plan)


def shape_choices() -> list[tuple[str, str]]:
    return [(code, shape.name) for code, shape in sorted(SHAPES.items())]


def plan_choices() -> list[tuple[str, str]]:
    return [(code, plan.name) for code, plan in sorted(PLANS.items())]
