"""The step-gap funnel page and its chart (a server-side SVG, no script: an ``<img>``)."""

import pygal
from django.urls import reverse
from pygal.style import CleanStyle

from reports.funnel.selectors import step_funnel
from reports.pages.common import Cell, Table, guarded, render, scope_of, svg_response


def _h(value) -> str:
    return "—" if value is None else f"{value:g}"


@guarded
def funnel_view(request):
    scope = scope_of(request)
    steps = step_funnel(since=scope.since, until=scope.until, channel=scope.channel)
    table = Table(
        "funnel",
        "Journey steps",
        ["Step", "Reached", "Median gap (h)", "p90 gap (h)", "First staff touch", "Share of accounts"],
        note="Gap: hours from the latest earlier step the account had reached. First staff touch: "
        "the first exception, ticket or person-run action, at the first step not reached by then.",
    )
    top = max(steps, key=lambda s: s.first_staff_touch, default=None)
    for s in steps:
        share = "—" if s.first_staff_touch_share is None else f"{s.first_staff_touch_share:.0%}"
        tone = "bad" if top is not None and top.first_staff_touch and s is top else ""
        table.rows.append(
            [
                s.step,
                Cell(s.reached, s.reached_url),
                _h(s.median_gap_h),
                _h(s.p90_gap_h),
                Cell(s.first_staff_touch, s.touch_url, tone),
                share,
            ]
        )
    chart_url = f"{reverse('admin:reports_constraints_funnel_chart')}?{scope.query()}"
    return render(
        request,
        title="Step-gap funnel",
        scope=scope,
        tables=[table],
        template="reports/constraints/funnel.html",
        chart_url=chart_url,
        leaves_at=top.step if top is not None and top.first_staff_touch else None,
    )


@guarded
def funnel_chart(request):
    """The funnel as SVG: accounts reaching each step, and where staff first stepped in."""
    scope = scope_of(request)
    steps = step_funnel(since=scope.since, until=scope.until, channel=scope.channel)
    chart = pygal.Bar(
        js=[],  # no script: the page stays CSP-clean, the chart is an image
        style=CleanStyle,
        width=1000,
        height=420,
        x_label_rotation=25,
        legend_at_bottom=True,
        title=f"Journey of {scope.channel or 'every channel'}: {scope.since} to {scope.until}",
    )
    chart.x_labels = [s.step for s in steps]
    chart.add("Reached", [s.reached for s in steps])
    chart.add("First staff touch", [s.first_staff_touch for s in steps])
    return svg_response(chart)
