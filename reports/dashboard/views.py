"""The channel dashboard, the cohort heat map and their chart images: console pages for the
holders of ``reports.view_dashboard`` (ops leads, leadership). Every number is read from
``reports.metrics`` (the one definition), judged at one ``as_of`` per page; the charts and
cell links carry that ``as_of`` so they show the same cohort."""

from datetime import datetime
from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from opsconsole.errors import ApplicationError, ValidationFailed
from opsconsole.roles import VIEW_DASHBOARD
from reports.dashboard import charts
from reports.dashboard.cell_filter import cell_accounts_url
from reports.dashboard.display import (
    DASHBOARD_METRICS,
    HEADLINE_METRICS,
    HEATMAP_METRICS,
    cell,
    cohort_cell,
    direction,
    heat_class,
    tints,
    unit,
    window_text,
)
from reports.dashboard.params import (
    COHORT_WEEKS,
    DASHBOARD_DAYS,
    PageFilters,
    last_days,
    last_weeks,
    page_filters,
    plan_choices,
    shape_choices,
)
from reports.metrics import (
    METRICS,
    WEEK,
    Distribution,
    channel_report,
    cohort_rows,
    cohort_table,
    definitions,
    period_starts,
)
from reports.query import date_in_range, query_text


def _guarded(view):
    """Needs ``reports.view_dashboard`` (others get 403)."""

    def wrapper(request, *args, **kwargs):
        if not request.user.has_perm(VIEW_DASHBOARD):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def _page(request, template: str, context: dict, *, status: int = 200) -> TemplateResponse:
    site = admin.site
    return TemplateResponse(request, template, {**site.each_context(request), **context}, status=status)


def _refused(request, template: str, title: str, exc: ApplicationError) -> TemplateResponse:
    """Bad filters: the page says why, with a 400, and shows no numbers."""
    return _page(request, template, {"title": title, "error": exc, **_choices()}, status=400)


def _choices() -> dict:
    return {"shapes": shape_choices(), "plans": plan_choices()}


def _as_of(params) -> datetime:
    raw = params.get("as_of")
    if not raw:
        return timezone.now()
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise ValidationFailed("invalid_as_of", f"as_of must be an ISO time, not {raw!r}.") from exc
    if timezone.is_naive(moment):
        raise ValidationFailed("invalid_as_of", "as_of needs a time zone offset.")
    date_in_range(moment.date(), "as_of")
    return moment


def _trend_value(value):
    return value.p50 if isinstance(value, Distribution) else value.value


def _spark_url(values: list, index: int) -> str:
    points = ",".join("" if v is None else f"{v:g}" for v in values)
    return f"{reverse('reports:sparkline')}?{urlencode({'v': points, 'c': index})}"


def _export_url(name: str, filters: PageFilters, **extra) -> str:
    return f"{reverse(f'admin:{name}')}?{filters.querystring(**extra)}"


@_guarded
def dashboard_view(request):
    """One row per channel: the headline numbers and three more, with hover, pending,
    sparklines, the trend charts and the definitions."""
    title = "Channel dashboard"
    try:
        filters = page_filters(request.GET, default=last_days(DASHBOARD_DAYS))
    except ApplicationError as exc:
        return _refused(request, "reports/dashboard.html", title, exc)
    as_of = timezone.now()
    report = channel_report(**filters.report_kwargs(), now=as_of, metrics=DASHBOARD_METRICS)
    period = filters.trend_period
    trends = cohort_table(metrics=DASHBOARD_METRICS, period=period, now=as_of, **filters.report_kwargs())
    starts = period_starts(filters.since, filters.until, period)
    rows = []
    for index, row in enumerate(report.channels):
        cells = []
        for code in DASHBOARD_METRICS:
            series = [_trend_value(trends[(row.code, start)][code]) for start in starts]
            cells.append({"cell": cell(code, row.metrics[code]), "spark": _spark_url(series, index)})
        rows.append(
            {"code": row.code, "name": row.name, "cells": cells, "colour": index % len(charts.PALETTE)}
        )
    for column, code in enumerate(DASHBOARD_METRICS):
        found = [row["cells"][column] for row in rows]
        for item, tint in zip(found, tints(code, [item["cell"] for item in found]), strict=True):
            item["tint"] = tint
    total = [{"cell": cell(code, report.total[code])} for code in DASHBOARD_METRICS]
    chart_query = filters.querystring(as_of=as_of.isoformat())
    context = {
        "title": title,
        "filters": filters,
        "presets": filters.presets(),
        "as_of": as_of,
        "period": period,
        "columns": [
            {
                "code": code,
                "label": METRICS[code].label,
                "headline": code in HEADLINE_METRICS,
                "window": window_text(code),
            }
            for code in DASHBOARD_METRICS
        ],
        "rows": rows,
        "total": total,
        "charts": [
            {
                "code": code,
                "label": METRICS[code].label,
                "url": f"{reverse('reports:chart', args=[code])}?{chart_query}",
            }
            for code in DASHBOARD_METRICS
        ],
        "definitions": list(definitions(DASHBOARD_METRICS).values()),
        "csv_url": _export_url("reports_export_channels", filters),
        "cohorts_url": f"{reverse('reports:cohorts')}?{filters.querystring()}",
        **_choices(),
    }
    return _page(request, "reports/dashboard.html", context)


@_guarded
def chart_view(request, code: str):
    """One metric's trend by signup day (ranges up to two weeks) or week, a line per channel."""
    if code not in DASHBOARD_METRICS and code not in HEATMAP_METRICS:
        raise Http404("No chart of that metric.")
    try:
        filters = page_filters(request.GET, default=last_days(DASHBOARD_DAYS))
        as_of = _as_of(request.GET)
    except ApplicationError as exc:
        return HttpResponseBadRequest(f"{exc.message} ({exc.code})", content_type="text/plain")
    period = filters.trend_period
    table = cohort_table(metrics=[code], period=period, now=as_of, **filters.report_kwargs())
    starts = period_starts(filters.since, filters.until, period)
    channels = list(dict.fromkeys(channel for channel, _ in table))
    series = [(channel, [_trend_value(table[(channel, s)][code]) for s in starts]) for channel in channels]
    return charts.svg_response(charts.trend_chart(code, starts=starts, period=period, series=series))


@_guarded
def sparkline_view(request):
    """A cell's sparkline from the points the page computed (``v``: comma-separated numbers,
    blank for a gap; ``c``: the channel's colour), so the page's one query feeds them all."""
    raw, colour = request.GET.get("v", ""), request.GET.get("c", "0")
    parts = raw.split(",") if raw else []
    try:
        if len(parts) > charts.MAX_SPARK_POINTS or not (colour.isascii() and colour.isdigit()):
            raise ValueError
        values = [float(p) if p else None for p in parts]
    except ValueError:
        return HttpResponseBadRequest(
            f"v: at most {charts.MAX_SPARK_POINTS} comma-separated numbers; c: a colour index.",
            content_type="text/plain",
        )
    return charts.svg_response(charts.sparkline(values, int(colour)))


@_guarded
def cohorts_view(request):
    """A heat map of signup week x channel for one account-cohort metric: each cell its value
    and n, coloured on the table's range, linking to exactly its accounts."""
    title = "Cohorts by signup week"
    try:
        metric = query_text(request.GET, "metric") or "activation_24h"
        if metric not in HEATMAP_METRICS:
            raise ValidationFailed(
                "unknown_metric", f"No heat map of {metric!r}.", {"metrics": HEATMAP_METRICS}
            )
        filters = page_filters(request.GET, default=last_weeks(COHORT_WEEKS))
    except ApplicationError as exc:
        return _refused(request, "reports/cohorts.html", title, exc)
    as_of = timezone.now()
    found = cohort_rows(metric=metric, period=WEEK, now=as_of, **filters.report_kwargs())
    channels = list(dict.fromkeys(row.channel for row in found))
    by_cell = {(row.channel, row.period_start): row for row in found}
    starts = sorted({row.period_start for row in found})
    values = [row.value for row in found if row.value is not None]
    low, high = (min(values), max(values)) if values else (None, None)
    weeks = []
    for start in starts:
        cells = []
        for channel in channels:
            row = by_cell[(channel, start)]
            shown = cohort_cell(metric, row)
            where = {"metric": metric, "channel": channel, "period_start": start, "period": WEEK}
            where.update(filters.report_kwargs())
            cells.append(
                {
                    "channel": channel,
                    "cell": shown,
                    "heat": heat_class(metric, row.value, low, high),
                    "accounts_url": cell_accounts_url(**where, as_of=as_of),
                    "csv_url": _export_url(
                        "reports_export_cohort_accounts",
                        filters,
                        metric=metric,
                        channel=channel,
                        period=WEEK,
                        period_start=start.isoformat(),
                    ),
                }
            )
        weeks.append({"start": start, "cells": cells})
    context = {
        "title": title,
        "metric": METRICS[metric],
        "metrics": [(code, METRICS[code].label) for code in HEATMAP_METRICS],
        "definition": METRICS[metric].definition,
        "direction": direction(metric),
        "unit": unit(metric),
        "low": low,
        "high": high,
        "low_text": cohort_cell(metric, _extreme(found, low)).text if low is not None else None,
        "high_text": cohort_cell(metric, _extreme(found, high)).text if high is not None else None,
        "filters": filters,
        "presets": filters.presets(),
        "as_of": as_of,
        "channels": channels,
        "weeks": weeks,
        "csv_url": _export_url("reports_export_cohorts", filters, metric=metric, period=WEEK),
        "dashboard_url": f"{reverse('reports:dashboard')}?{filters.querystring()}",
        "chart_url": (
            f"{reverse('reports:chart', args=[metric])}?{filters.querystring(as_of=as_of.isoformat())}"
        ),
        **_choices(),
    }
    return _page(request, "reports/cohorts.html", context)


def _extreme(rows, value):
    return next(row for row in rows if row.value == value)
