"""The console's Support report page: the support metrics (METRICS.md, "Support metrics") by
channel, queue, tier or via, with their definitions, the weekly volume trend and the open
known issues. Reads ``reports.metrics.support`` only; computes nothing itself."""

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils import timezone

from opsconsole.errors import ApplicationError
from opsconsole.roles import VIEW_DASHBOARD
from reports.metrics.support import GROUPINGS, TEXTS, support_report
from reports.query import query_date

DEFAULT_DAYS = 28
RATE_COLUMNS = (
    ("first_response_within_target_rate", "FRT within target"),
    ("tier1_resolution_24h_rate", "Tier-1 solved ≤ 24 h"),
    ("csat", "CSAT"),
    ("reopen_rate", "Reopen rate"),
    ("self_service_rate", "Tier-0 self-service"),
)
# The targets a support lead works to (issue #15); a figure on the wrong side is flagged.
TARGETS = {"csat": 0.9, "tier1_resolution_24h_rate": None, "first_response_within_target_rate": None}


def support_view(request, admin_site):
    if not request.user.has_perm(VIEW_DASHBOARD):
        raise PermissionDenied
    today = timezone.now().date()
    error = None
    try:
        since = query_date(request.GET, "since", required=False) or today - timedelta(days=DEFAULT_DAYS)
        until = query_date(request.GET, "until", required=False) or today + timedelta(days=1)
        group_by = request.GET.get("group_by") or "channel"
        report = support_report(since=since, until=until, group_by=group_by)
    except ApplicationError as exc:
        error = exc.message
        since, until, group_by = today - timedelta(days=DEFAULT_DAYS), today + timedelta(days=1), "channel"
        report = support_report(since=since, until=until, group_by=group_by)
    rows = [_row(row) for row in report.rows] + [_row(report.total, total=True)]
    context = {
        **admin_site.each_context(request),
        "title": "Support",
        "report": report,
        "rows": rows,
        "columns": [label for _, label in RATE_COLUMNS],
        "groupings": GROUPINGS,
        "group_by": group_by,
        "since": since,
        "until": until,
        "error": error,
        "definitions": sorted(TEXTS.items()),
        "trend": report.total.metrics["tickets_per_active_account_week"],
    }
    return TemplateResponse(request, "reports/support.html", context, status=400 if error else 200)


def _row(row, *, total: bool = False) -> dict:
    m = row.metrics
    frt = m["first_response_h"]
    cells = []
    for code, _label in RATE_COLUMNS:
        value = m.get(code)
        if value is None:
            cells.append({"text": "—", "title": "not measured for this grouping"})
            continue
        if value.value is None:
            cells.append({"text": "not measurable yet", "title": f"{code}: nothing to divide by"})
            continue
        low = code == "csat" and value.value < TARGETS["csat"]
        cells.append(
            {
                "text": f"{value.value:.1%}",
                "title": f"{value.numerator} / {value.denominator}",
                "low": low,
            }
        )
    trend = m.get("tickets_per_active_account_week")
    return {
        "group": row.group,
        "total": total,
        "frt": frt,
        "cells": cells,
        "slope": trend.slope if trend else None,
    }
