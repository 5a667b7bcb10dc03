"""Charts as server-side SVG, drawn by pygal (its JavaScript off: ``js=[]``, nothing from a CDN).

Why separate ``image/svg+xml`` responses behind ``<img src>``: pygal styles its SVG with a
``<style>`` element (its colours are per chart), which a page under a strict
Content-Security-Policy (``style-src 'self'``) may not hold inline. An SVG loaded by ``<img>``
is its own document: it runs no script, loads nothing, and the page's policy stays strict with
no exception. The SVG response carries its own policy (``default-src 'none'; style-src
'unsafe-inline'``), so a chart opened alone in a tab still draws and can run nothing; pygal's
config ``<script>`` (written even with ``js=[]``) is taken out as well.

Each trend has one line per channel, in the report's channel order, and each channel keeps its
colour on every chart and in its sparklines.
"""

import re
from datetime import date

import pygal
from django.http import HttpResponse
from pygal.style import Style

from reports.dashboard.display import chart_value, unit
from reports.metrics import DAY, METRICS, RATE

PALETTE = (
    "#1d4ed8",
    "#dc2626",
    "#059669",
    "#d97706",
    "#7c3aed",
    "#0891b2",
    "#db2777",
    "#4b5563",
    "#65a30d",
    "#9333ea",
)
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#374151",
    foreground_strong="#111827",
    foreground_subtle="#e5e7eb",
    font_family=FONT,
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=12,
    title_font_size=14,
    value_font_size=10,
    no_data_font_size=16,
    colors=PALETTE,
    opacity="1",
    opacity_hover="1",
    stroke_opacity="1",
    stroke_opacity_hover="1",
)
CHART_SIZE = (680, 320)
SPARK_SIZE = (72, 22)
# The most points a sparkline takes (a year of weeks, or 90 days).
MAX_SPARK_POINTS = 120
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL)


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def without_script(svg: str) -> bytes:
    """pygal's SVG without the config ``<script>`` it writes even with ``js=[]``."""
    return _SCRIPT.sub("", svg).encode("utf-8")


def _labels(starts: list[date]) -> list[str]:
    return [f"{start:%b} {start.day}" for start in starts]


def _major_every(count: int) -> int:
    """Label about eight points, so the axis stays readable."""
    return max(1, round(count / 8))


def trend_chart(code: str, *, starts: list[date], period: str, series: list[tuple[str, list]]) -> bytes:
    """``code`` by signup period, one line per channel (``series``: (name, values) with None
    for a period with nothing measurable: a gap, never a 0)."""
    metric = METRICS[code]
    rate = metric.kind == RATE
    chart = pygal.Line(
        js=[],
        style=STYLE,
        width=CHART_SIZE[0],
        height=CHART_SIZE[1],
        explicit_size=False,
        title=metric.label,
        x_title=f"Signup {'day' if period == DAY else 'week, from Monday'} (UTC)",
        y_title=unit(code),
        allow_interruptions=True,
        include_x_axis=True,
        show_dots=True,
        dots_size=2.5,
        stroke_style={"width": 2},
        legend_at_bottom=False,
        truncate_legend=-1,
        truncate_label=-1,
        show_minor_x_labels=False,
        x_labels_major_every=_major_every(len(starts)),
        value_formatter=(lambda v: f"{v:.0f}%") if rate else (lambda v: f"{v:g}"),
        no_data_text="No signups in this range",
        margin=12,
    )
    chart.x_labels = _labels(starts)
    for name, values in series:
        chart.add(name, [chart_value(code, v) for v in values])
    return without_script(chart.render(is_unicode=True))


def sparkline(values: list, index: int = 0) -> bytes:
    """A cell's trend, in its channel's colour; gaps where nothing was measurable."""
    chart = pygal.Line(
        js=[],
        style=Style(
            background="transparent",
            plot_background="transparent",
            colors=(colour(index),),
            opacity="1",
            stroke_opacity="1",
        ),
        allow_interruptions=True,
        stroke_style={"width": 2},
    )
    chart.add("", values)
    return without_script(
        chart.render_sparkline(width=SPARK_SIZE[0], height=SPARK_SIZE[1], is_unicode=True, margin=2)
    )


def svg_response(svg: bytes) -> HttpResponse:
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Content-Security-Policy"] = SVG_POLICY
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=300"
    return response
