"""Console views of reports: the CSV exports, streamed. The dashboard links to them with the
same query parameters as the API (``since``, ``until``, ``shape``, ``plan``; ``metric`` and
``period`` for cohorts; ``channel`` and ``period_start`` for a cell's accounts)."""

from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.utils import timezone

from opsconsole.errors import ApplicationError
from opsconsole.roles import VIEW_DASHBOARD
from reports.exports import channel_report_csv, cohort_accounts_csv, cohort_rows_csv
from reports.metrics import WEEK, channel_report, cohort_accounts, cohort_rows
from reports.query import query_date, query_filters, query_text


def _csv(lines, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _guarded(view):
    """Needs ``reports.view_dashboard``; bad parameters answer 400 with the reason."""

    def wrapper(request, *args, **kwargs):
        if not request.user.has_perm(VIEW_DASHBOARD):
            raise PermissionDenied
        try:
            return view(request, *args, **kwargs)
        except ApplicationError as exc:
            return HttpResponseBadRequest(f"{exc.message} ({exc.code})", content_type="text/plain")

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@_guarded
def channel_report_export(request):
    """The channel report as CSV."""
    filters = query_filters(request.GET)
    report = channel_report(**filters)
    return _csv(channel_report_csv(report), f"channels_{filters['since']}_{filters['until']}.csv")


@_guarded
def cohorts_export(request):
    """One metric's cohort rows as CSV."""
    params = request.GET
    filters = query_filters(params)
    metric = query_text(params, "metric", required=True)
    period = query_text(params, "period") or WEEK
    now = timezone.now()
    rows = cohort_rows(metric=metric, period=period, now=now, **filters)
    lines = cohort_rows_csv(rows, metric=metric, period=period, as_of=now, filters=filters)
    return _csv(lines, f"cohorts_{metric}_{period}_{filters['since']}_{filters['until']}.csv")


@_guarded
def cohort_accounts_export(request):
    """The accounts behind one cohort cell as CSV, those the user may see."""
    params = request.GET
    metric = query_text(params, "metric", required=True)
    channel = query_text(params, "channel", required=True)
    period = query_text(params, "period") or WEEK
    start = query_date(params, "period_start")
    filters = {
        "since": query_date(params, "since", required=False),
        "until": query_date(params, "until", required=False),
        "shape": query_text(params, "shape"),
        "plan": query_text(params, "plan"),
    }
    now = timezone.now()
    accounts = cohort_accounts(
        metric=metric,
        channel=channel,
        period_start=start,
        period=period,
        now=now,
        user=request.user,
        **filters,
    )
    described = {"channel": channel, "period": period, "period_start": start, **filters}
    lines = cohort_accounts_csv(accounts, metric=metric, as_of=now, filters=described)
    return _csv(lines, f"cohort_{metric}_{channel}_{start}.csv")
