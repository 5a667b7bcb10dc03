"""What every constraint page shares: the permission, the range and channel from the query
string, tables of cells (a number with the link to its rows), and their CSV."""

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlencode

from django.contrib import admin
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from accounts.models import Channel
from opsconsole.errors import ApplicationError
from reports.dashboard import charts
from reports.exports import _comment, _line
from reports.query import query_date
from reports.views import _csv, _guarded

# The range a page shows when the query string names none: the last 30 days, today included.
DEFAULT_DAYS = 30


def guarded(view):
    """Needs ``reports.view_dashboard`` (``reports.views._guarded``). A page whose query string
    is refused (a malformed or out-of-range date) answers 400 with its range form and the
    reason above it, so the person corrects it there; a CSV or a chart asked for answers the
    reason as text."""

    @functools.wraps(view)
    def with_form_error(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except ApplicationError as exc:
            if request.GET.get("csv") or not request.path.endswith("/"):
                raise  # _guarded: 400, the reason as text
            return _refused(request, exc)

    return _guarded(with_form_error)


def _refused(request, exc: ApplicationError) -> TemplateResponse:
    today = timezone.now().date()
    scope = Scope(today + timedelta(days=1) - timedelta(days=DEFAULT_DAYS), today + timedelta(days=1), None)
    context = {
        **admin.site.each_context(request),
        "title": "Constraints",
        "scope": scope,
        "tables": [],
        "channels": list(Channel.objects.order_by("code").values_list("code", "name")),
        "error": exc,
    }
    return TemplateResponse(request, "reports/constraints/base.html", context, status=400)


@dataclass(frozen=True)
class Cell:
    text: object
    url: str = ""
    tone: str = ""  # "bad", "warn", "ok": a highlighted cell

    def __str__(self):
        return "" if self.text is None else str(self.text)


@dataclass
class Table:
    code: str
    title: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)
    note: str = ""

    def cells(self) -> list[list[Cell]]:
        return [[c if isinstance(c, Cell) else Cell(c) for c in row] for row in self.rows]


@dataclass(frozen=True)
class Scope:
    since: date
    until: date
    channel: str | None

    def as_params(self) -> dict:
        return {"since": self.since, "until": self.until, "channel": self.channel}

    def query(self, **extra) -> str:
        params = {
            k: (v.isoformat() if isinstance(v, date) else v) for k, v in {**self.as_params(), **extra}.items()
        }
        return urlencode({k: v for k, v in params.items() if v not in (None, "")})


def scope_of(request, *, channel_required: bool = False) -> Scope:
    params = request.GET
    today = timezone.now().date()
    until = query_date(params, "until", required=False) or today + timedelta(days=1)
    since = query_date(params, "since", required=False) or until - timedelta(days=DEFAULT_DAYS)
    channel = params.get("channel") or None
    if channel is None and channel_required:
        first = Channel.objects.order_by("code").values_list("code", flat=True).first()
        channel = first
    return Scope(since, until, channel)


def svg_response(chart) -> HttpResponse:
    """A pygal chart as an SVG image, with pygal's config script removed (an ``<img>`` never
    runs it, and the page stays free of script) and the image's own policy, as the dashboard's
    charts (``reports.dashboard.charts``)."""
    return charts.svg_response(charts.without_script(chart.render(is_unicode=True)))


def table_csv(table: Table, scope: Scope) -> Iterator[str]:
    yield _comment(table.title)
    yield _comment(f"as of {timezone.now().isoformat()}; {scope.query()}")
    if table.note:
        yield _comment(table.note)
    yield _line(table.headers)
    for row in table.cells():
        yield _line([c.text for c in row])


def render(request, *, title: str, scope: Scope, tables: list[Table], template: str = "", **context):
    """The page, or one of its tables as streamed CSV with ``?csv=<code>``."""
    wanted = request.GET.get("csv")
    if wanted:
        table = next((t for t in tables if t.code == wanted), None)
        if table is not None:
            return _csv(table_csv(table, scope), f"{table.code}_{scope.since}_{scope.until}.csv")
    channels = list(Channel.objects.order_by("code").values_list("code", "name"))
    context = {
        **admin.site.each_context(request),
        "is_nav_sidebar_enabled": False,  # the tables need the width
        "title": title,
        "scope": scope,
        "tables": tables,
        "channels": channels,
        "csv_query": scope.query(),
        **context,
    }
    return TemplateResponse(request, template or "reports/constraints/page.html", context)
