"""Operational drag per day, with the trend of manual interventions per new account."""

import pygal
from django.urls import reverse
from pygal.style import CleanStyle

from reports.drag.selectors import DRAGS, operational_drag
from reports.pages.common import Cell, Table, guarded, render, scope_of, svg_response


@guarded
def drag_view(request):
    scope = scope_of(request)
    days, slope = operational_drag(since=scope.since, until=scope.until, channel=scope.channel)
    table = Table(
        "drag",
        "Per day",
        ["Day", *[d.label for d in DRAGS], "Signups", "Manual per new account", "Trend"],
        note="Trend: least-squares line of manual interventions per new account over the days with signups.",
    )
    for day in days:
        table.rows.append(
            [
                day.day.isoformat(),
                *[Cell(day.counts[d.code][0], day.counts[d.code][1]) for d in DRAGS],
                day.signups,
                "—" if day.manual_per_account is None else f"{day.manual_per_account:.2f}",
                "—" if day.trend is None else f"{day.trend:.2f}",
            ]
        )
    totals = Table("drag_totals", "Over the range", [d.label for d in DRAGS])
    totals.rows.append([sum(day.counts[d.code][0] for day in days) for d in DRAGS])
    chart_url = f"{reverse('admin:reports_constraints_drag_chart')}?{scope.query()}"
    return render(
        request,
        title="Operational drag",
        scope=scope,
        tables=[totals, table],
        template="reports/constraints/drag.html",
        slope=slope,
        chart_url=chart_url,
    )


@guarded
def drag_chart(request):
    scope = scope_of(request)
    days, _ = operational_drag(since=scope.since, until=scope.until, channel=scope.channel)
    chart = pygal.Line(
        js=[],  # no script: the chart is an image
        style=CleanStyle,
        width=1000,
        height=360,
        x_label_rotation=30,
        show_minor_x_labels=False,
        legend_at_bottom=True,
        title="Manual interventions per new account, and its trend",
    )
    chart.x_labels = [d.day.isoformat() for d in days]
    chart.x_labels_major = [d.day.isoformat() for d in days[::7]]
    chart.add("Manual per new account", [d.manual_per_account for d in days])
    chart.add("Trend", [d.trend for d in days], show_dots=False, stroke_style={"dasharray": "6, 3"})
    return svg_response(chart)
