"""The charts are pygal's SVG, self-contained and script-free: axes with units, a legend naming
every channel, gaps (not zeros) where nothing is measurable, and a policy of their own."""

import re
from datetime import date, timedelta

from reports.dashboard.charts import SVG_POLICY, sparkline, svg_response, trend_chart

WEEKS = [date(2026, 10, 5) + timedelta(weeks=i) for i in range(4)]


def _text(svg: bytes) -> str:
    return svg.decode()


def test_a_trend_has_axes_units_and_a_legend_of_the_channels():
    svg = _text(
        trend_chart(
            "activation_24h",
            starts=WEEKS,
            period="week",
            series=[("northwind-partners", [0.25, None, 0.1, 0.2]), ("organic", [0.5, 0.55, None, None])],
        )
    )
    assert svg.startswith("<?xml") and "<svg" in svg
    assert "24 h activation" in svg  # the title
    assert "Signup week, from Monday (UTC)" in svg and "% of mature accounts" in svg  # axis titles
    assert ">northwind-partners<" in svg and ">organic<" in svg  # the legend
    assert "Oct 5" in svg and "Oct 26" in svg  # the x labels
    assert re.search(r">\s*50%\s*<", svg)  # rates read in percent on the y axis
    assert "<script" not in svg  # pygal's JavaScript off, and its config script taken out
    assert not re.search(r'(?:href|src)="|@import|url\(http', svg)  # loads nothing


def test_null_values_are_gaps_not_zeros():
    gaps = _text(
        trend_chart("activation_24h", starts=WEEKS, period="week", series=[("web", [0.5, None, None, 0.5])])
    )
    zeros = _text(
        trend_chart("activation_24h", starts=WEEKS, period="week", series=[("web", [0.5, 0, 0, 0.5])])
    )
    dots = re.compile(r'class="dot reactive')
    assert len(dots.findall(gaps)) == 2 and len(dots.findall(zeros)) == 4


def test_no_data_says_so():
    svg = _text(trend_chart("retention_30d", starts=WEEKS, period="week", series=[("web", [None] * 4)]))
    assert "No signups in this range" in svg


def test_a_sparkline_takes_its_channels_colour():
    assert "#dc2626" in _text(sparkline([1, 2, None, 3], index=1))
    assert "<script" not in _text(sparkline([1, 2]))


def test_the_response_is_an_svg_image_with_its_own_policy():
    response = svg_response(sparkline([1, 2]))
    assert response["Content-Type"] == "image/svg+xml"
    assert (
        response["Content-Security-Policy"] == SVG_POLICY == "default-src 'none'; style-src 'unsafe-inline'"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
