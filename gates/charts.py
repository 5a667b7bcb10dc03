"""Server-side SVG charts (pygal) of a stop rule's evaluation history against its threshold.

Rendered without JavaScript (``js=()``, and pygal's own config ``<script>`` removed): the chart
is a plain image, served as
``image/svg+xml`` and shown with ``<img>``, so the console's pages stay free of inline script.
"""

import re

import pygal
from pygal.style import Style

from gates.choices import Comparator

SCRIPT = re.compile(rb"<script[^>]*>.*?</script>", re.S)
STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#333",
    foreground_strong="#111",
    foreground_subtle="#999",
    colors=("#417690", "#ba2121", "#79aec8"),
    font_family="sans-serif",
)


def _last_value(evaluation, key: str):
    rows = [p for p in evaluation.measured.get("periods", []) if p.get(key) is not None]
    return rows[-1][key] if rows else None


def rule_chart(rule, evaluations) -> bytes:
    """The last mature period each evaluation measured, beside the limit it was held to (the
    absolute threshold, or the baseline's limit); for the growth rule, both growths."""
    chart = pygal.Line(
        js=(),
        style=STYLE,
        width=720,
        height=280,
        explicit_size=True,
        x_label_rotation=30,
        show_minor_x_labels=False,
        y_labels_major_count=6,
        show_minor_y_labels=False,
        x_labels_major_count=8,
        title=rule.name,
        no_data_text="Not evaluated yet",
        print_values=False,
        legend_at_bottom=True,
        truncate_legend=-1,
    )
    chart.x_labels = [ev.evaluated_at.strftime("%m-%d %H:%M") for ev in evaluations]
    if rule.comparator == Comparator.GROWS_FASTER_THAN_SIGNUPS:
        chart.add("tickets growth vs baseline", [_last_value(ev, "metric_growth") for ev in evaluations])
        chart.add("signups growth vs baseline", [_last_value(ev, "signup_growth") for ev in evaluations])
    else:
        chart.add(f"{rule.metric} (last mature day)", [_last_value(ev, "value") for ev in evaluations])
        limits = [_last_value(ev, "limit") for ev in evaluations]
        if rule.comparator in (Comparator.BELOW, Comparator.ABOVE):
            limits = [rule.threshold for _ in evaluations]
        chart.add("threshold", limits, stroke_style={"dasharray": "6, 4"}, show_dots=False)
    return SCRIPT.sub(b"", chart.render())
