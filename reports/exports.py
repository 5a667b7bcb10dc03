"""CSV exports of the reports, as generators of lines for a ``StreamingHttpResponse``.

Each starts with ``#`` comment lines: what it is, when it was computed, its filters, and the
definition (text, window, version) of every metric in it, so a file read alone still says what
its numbers mean. The numbers are the metric definitions' own (``reports.metrics``).
Cells a spreadsheet would run as a formula (starting with = + - @) are quoted with a ``'``.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime

from reports.metrics import METRICS, ChannelReport, CohortRow, Distribution, MetricValue, QueueAge

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def _line(cells: Iterable) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([_cell(c) for c in cells])
    return buffer.getvalue()


def _comment(text: str) -> str:
    return "# " + " ".join(text.split()) + "\n"


def _header(title: str, *, as_of: datetime, filters: dict, codes: Iterable[str]) -> Iterator[str]:
    yield _comment(title)
    yield _comment(f"as of {as_of.isoformat()}; " + ", ".join(f"{k}={v}" for k, v in filters.items()))
    for code in codes:
        d = METRICS[code].definition
        yield _comment(f"{code} (window {d.window}, version {d.version}): {d.text}")


def _value_lines(channel: str, code: str, value) -> Iterator[list]:
    """One line per number: a distribution gives one per percentile (denominator: n)."""
    if isinstance(value, MetricValue):
        yield [channel, code, value.value, value.numerator, value.denominator, value.complete, value.pending]
    elif isinstance(value, Distribution):
        for name in ("p50", "p90"):
            yield [channel, f"{code}.{name}", getattr(value, name), None, value.n, True, 0]
    elif isinstance(value, QueueAge):
        for name in ("p50", "p90", "p99"):
            yield [channel, f"{code}.{name}", getattr(value, name), None, value.n, True, 0]
        yield [channel, f"{code}.past_target", value.past_target, value.past_target, value.n, True, 0]


CHANNEL_COLUMNS = ["channel", "metric", "value", "numerator", "denominator", "complete", "pending", "version"]


def channel_report_csv(report: ChannelReport) -> Iterator[str]:
    """The channel report, one line per channel and metric, then the ``total`` lines."""
    filters = {"since": report.since, "until": report.until, **report.filters}
    yield from _header("Channel report", as_of=report.as_of, filters=filters, codes=report.definitions)
    yield _line(CHANNEL_COLUMNS)
    for code_row, metrics in [*((r.code, r.metrics) for r in report.channels), ("total", report.total)]:
        for code, value in metrics.items():
            for line in _value_lines(code_row, code, value):
                yield _line([*line, value.version])


COHORT_COLUMNS = ["channel", "period_start", "value", "numerator", "denominator", "complete", "pending"]


def cohort_rows_csv(
    rows: Iterable[CohortRow], *, metric: str, period: str, as_of: datetime, filters: dict
) -> Iterator[str]:
    yield from _header(
        f"Cohorts of {metric} by channel and {period}", as_of=as_of, filters=filters, codes=[metric]
    )
    yield _line(COHORT_COLUMNS)
    for row in rows:
        yield _line(
            [
                row.channel,
                row.period_start,
                row.value,
                row.numerator,
                row.denominator,
                row.complete,
                row.pending,
            ]
        )


ACCOUNT_COLUMNS = [
    "external_id",
    "name",
    "channel",
    "shape",
    "plan",
    "signed_up_at",
    "activated_at",
    "mature",
    "contribution",
]


def cohort_accounts_csv(
    accounts, *, metric: str, as_of: datetime, filters: dict, chunk_size: int = 2000
) -> Iterator[str]:
    """The accounts behind one cohort cell (``reports.metrics.cohort_accounts``), read in
    chunks: ``mature`` says it is in the denominator, ``contribution`` what it adds to the
    numerator (for time_to_first_value_h, its hours to activation)."""
    yield from _header(f"Accounts of a {metric} cohort cell", as_of=as_of, filters=filters, codes=[metric])
    yield _line(ACCOUNT_COLUMNS)
    rows = accounts.values_list(
        "external_id",
        "name",
        "channel__code",
        "shape",
        "plan",
        "signed_up_at",
        "activated_at",
        "mature",
        "contribution",
    )
    for row in rows.iterator(chunk_size=chunk_size):
        *fields, contribution = row
        if hasattr(contribution, "total_seconds"):
            contribution = round(contribution.total_seconds() / 3600, 2)
        yield _line([*fields, contribution])
