"""The metrics contract (../shared/METRICS.md) in code: each metric written once, with its text,
window and version, and the reports every consumer reads. The dashboard, cohorts, snapshots,
CSV, gates and the API call these and never compute a rate themselves.

Reports::

    channel_report(*, since, until, shape=None, plan=None, now=None, metrics=None) -> ChannelReport
    cohort_rows(*, metric, since, until, period="week", shape=None, plan=None, now=None)
        -> list[CohortRow]
    cohort_table(*, metrics, since, until, period="week", shape=None, plan=None, now=None)
        -> {(channel code, period_start): {code: value}}   # several metrics, one GROUP BY
    cohort_accounts(*, metric, channel, period_start, period="week", since=None, until=None,
                    shape=None, plan=None, now=None, user=None) -> QuerySet[Account]

Values (frozen dataclasses, each with ``as_dict()`` as the API shows it):

- ``MetricValue(value, numerator, denominator, complete, pending, version)``: counts, rates
  (fractions to 4 places), per-100 and per-account figures; ``value`` None when nothing is
  mature, never 0;
- ``Distribution(p50, p90, n, version)``: ``time_to_first_value_h``, in hours;
- ``QueueAge(p50, p90, p99, n, past_target, version)``: ``queue_age_h``, in hours;
- ``ChannelReport(as_of, since, until, filters, channels: list[ChannelRow], total, definitions)``;
  ``ChannelRow(code, name, metrics: {code: value}, is_channel)``;
- ``CohortRow(channel, period_start, value, numerator, denominator, complete, pending)``;
- ``Definition(code, label, text, window, version, kind, unit)``.

Definitions: ``METRICS`` (code -> ``Metric``), ``definitions(codes=None)``, and the lists
``ACCOUNT_METRICS``, ``TICKET_METRICS``, ``COHORT_METRICS``. Bad input raises
``opsconsole.errors.ValidationFailed`` (``invalid_range``, ``range_too_long``,
``unknown_shape``, ``unknown_plan``, ``unknown_metric``, ``unknown_period``,
``not_a_cohort_metric``, ``not_an_account_metric``).
"""

from reports.metrics.accounts import DAY, PERIODS, WEEK
from reports.metrics.definitions import (
    ACCOUNT_METRICS,
    COHORT_METRICS,
    METRICS,
    TICKET_METRICS,
    UNMATCHED,
    Metric,
    definitions,
)
from reports.metrics.report import (
    MAX_RANGE_DAYS,
    channel_report,
    cohort_accounts,
    cohort_rows,
    cohort_table,
    period_starts,
    validate_query,
)
from reports.metrics.values import (
    COUNT,
    DISTRIBUTION,
    PER_100,
    PER_ACCOUNT,
    QUEUE,
    RATE,
    ChannelReport,
    ChannelRow,
    CohortRow,
    Definition,
    Distribution,
    MetricValue,
    QueueAge,
)

__all__ = [
    "ACCOUNT_METRICS",
    "COHORT_METRICS",
    "COUNT",
    "DAY",
    "DISTRIBUTION",
    "MAX_RANGE_DAYS",
    "METRICS",
    "PERIODS",
    "PER_100",
    "PER_ACCOUNT",
    "QUEUE",
    "RATE",
    "TICKET_METRICS",
    "UNMATCHED",
    "WEEK",
    "ChannelReport",
    "ChannelRow",
    "CohortRow",
    "Definition",
    "Distribution",
    "Metric",
    "MetricValue",
    "QueueAge",
    "channel_report",
    "cohort_accounts",
    "cohort_rows",
    "cohort_table",
    "definitions",
    "period_starts",
    "validate_query",
]
