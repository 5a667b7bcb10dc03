"""The accounts behind one heat-map cell, on the account list: a list filter reports adds to the
accounts' page (``opsconsole.list_filters``), so a cell's link opens the console's own account
changelist holding exactly the cell's n accounts.

The accounts come from ``reports.metrics.cohort_accounts`` (the one definition of a cell), judged
at the page's ``as_of``, so the list's count is the cell's n: the mature accounts the value is
over (a distribution: the activated ones). The sidebar offers those of them in the numerator
(the failed, the activated, ...) and the cell's pending accounts too.
"""

from datetime import date, datetime
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import QuerySet

from opsconsole.errors import ApplicationError
from opsconsole.links import admin_url
from reports.metrics import DISTRIBUTION, METRICS, WEEK, cohort_accounts
from reports.query import date_in_range

PREFIX = "cohort_"
FIELDS = ("metric", "channel", "period", "start", "since", "until", "shape", "plan", "as_of", "scope")
COUNTED = "counted"  # the n accounts the cell's value is over
NUMERATOR = "numerator"  # those of them that add to its numerator (failed, activated, ...)
ALL = "all"  # every account of the cell, pending ones too


def cell_query(
    *,
    metric: str,
    channel: str,
    period_start: date,
    period: str = WEEK,
    since: date | None = None,
    until: date | None = None,
    shape: str | None = None,
    plan: str | None = None,
    as_of: datetime,
    scope: str = COUNTED,
) -> dict:
    values = {
        "metric": metric,
        "channel": channel,
        "period": period,
        "start": period_start.isoformat(),
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "shape": shape,
        "plan": plan,
        "as_of": as_of.isoformat(),
        "scope": scope,
    }
    return {PREFIX + k: v for k, v in values.items() if v}


def cell_accounts_url(**cell) -> str:
    """The account list holding exactly the cell's accounts."""
    return f"{admin_url('admin:accounts_account_changelist')}?{urlencode(cell_query(**cell))}"


def _date(raw: str | None) -> date | None:
    return date_in_range(date.fromisoformat(raw), "date") if raw else None


def _moment(raw: str) -> datetime:
    moment = datetime.fromisoformat(raw)
    date_in_range(moment.date(), "as_of")
    return moment


def cell_queryset(values: dict, *, user) -> QuerySet:
    """The accounts of the cell ``values`` (``FIELDS``, as strings) that ``user`` may see."""
    metric = values["metric"]
    if metric not in METRICS:
        raise IncorrectLookupParameters(f"Unknown metric {metric!r}")
    try:
        accounts = cohort_accounts(
            metric=metric,
            channel=values["channel"],
            period_start=_date(values["start"]),
            period=values.get("period") or WEEK,
            since=_date(values.get("since")),
            until=_date(values.get("until")),
            shape=values.get("shape") or None,
            plan=values.get("plan") or None,
            now=_moment(values["as_of"]),
            user=user,
        )
    except (ApplicationError, KeyError, ValueError, TypeError, OverflowError) as exc:
        raise IncorrectLookupParameters(str(exc)) from exc
    scope = values.get("scope")
    if scope == ALL:
        return accounts
    if METRICS[metric].kind == DISTRIBUTION:
        return accounts.filter(contribution__isnull=False)
    if scope == NUMERATOR:
        return accounts.filter(mature=True, contribution__gt=0)
    return accounts.filter(mature=True)


class CohortCellFilter(admin.ListFilter):
    """``?cohort_metric=...&cohort_channel=...&cohort_start=...&cohort_as_of=...``: the accounts
    of one heat-map cell. Shown in the sidebar only while it filters."""

    title = "cohort cell"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        for name in FIELDS:
            if PREFIX + name in params:
                self.used_parameters[name] = params.pop(PREFIX + name)[-1]

    def has_output(self) -> bool:
        return bool(self.used_parameters)

    def expected_parameters(self):
        return [PREFIX + name for name in FIELDS]

    def _label(self) -> str:
        v = self.used_parameters
        label = METRICS[v["metric"]].label if v.get("metric") in METRICS else v.get("metric", "?")
        period = "week" if (v.get("period") or WEEK) == WEEK else "day"
        return f"{label}: {v.get('channel', '?')}, {period} of {v.get('start', '?')}"

    def choices(self, changelist):
        chosen = self.used_parameters.get("scope") or COUNTED
        cell = {PREFIX + k: v for k, v in self.used_parameters.items() if k != "scope"}
        yield {
            "selected": False,
            "query_string": changelist.get_query_string(remove=self.expected_parameters()),
            "display": "All accounts",
        }
        scopes = ((COUNTED, "the accounts counted (n)"), (NUMERATOR, "those in the numerator"))
        for scope, display in (*scopes, (ALL, "with pending ones")):
            yield {
                "selected": chosen == scope,
                "query_string": changelist.get_query_string({**cell, PREFIX + "scope": scope}),
                "display": f"{self._label()}: {display}" if scope == COUNTED else display,
            }

    def queryset(self, request, queryset):
        if not self.used_parameters:
            return queryset
        cell = cell_queryset(self.used_parameters, user=request.user)
        return queryset.filter(pk__in=cell.values("pk"))
