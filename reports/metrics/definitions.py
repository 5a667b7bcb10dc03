"""Every metric of ../shared/METRICS.md, written once: its code, its contract text, its window,
its version, and what it counts. Pages, the API, CSV, snapshots and gates ask these for numbers
and never compute a rate themselves. Change a definition: bump its ``version``.

An account-cohort metric says what a *mature* cohort account adds to its numerator: ``counts``
(lookups on the account's facts: each account meeting them counts 1) or ``sums`` (a fact,
summed). Its denominator is the mature accounts (none for ``signups``). Both read
``reports.AccountFacts`` alone, which holds each fact with the metric's window already applied
(``failed_72h``, ``tickets_7d``, ...), so one GROUP BY over it computes every metric with plain
comparisons.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q

from accounts.shapes import SHAPES
from reports.metrics.values import (
    COUNT,
    DISTRIBUTION,
    PER_100,
    PER_ACCOUNT,
    QUEUE,
    RATE,
    Definition,
)

# The cohorts a metric is computed over.
ACCOUNTS = "accounts"  # accounts whose signed_up_at is in [since, until), duplicates excluded
TICKETS = "tickets"  # tickets whose created_at is in [since, until)
OPEN_NOW = "open_now"  # tickets open at the time of the report (not a cohort)

# The window of ``activation``: each shape's own activation window (accounts.shapes).
SHAPE_WINDOW = "shape"

# The events that say provisioning failed, and those that say a customer came back.
FAILURE_EVENT_TYPES = ("workspace.failed", "invite.expired", "integration.failed", "import.failed")
RETENTION_EVENT_TYPES = ("user.login", "report.viewed", "first_value.reached")
# Retained: one of those events in [signed_up_at + 23 days, signed_up_at + 30 days].
RETENTION_FROM = timedelta(days=23)
RETENTION_TO = timedelta(days=30)

ACTIVATION_24H = timedelta(hours=24)
FAILURE_WINDOW = timedelta(hours=72)
TICKETS_WINDOW = timedelta(days=7)
ESCALATIONS_WINDOW = timedelta(days=30)
MANUAL_MINUTES_WINDOW = timedelta(days=30)

# The group tickets with no matched account go to, in place of a channel.
UNMATCHED = "unmatched"


@dataclass(frozen=True)
class Metric:
    code: str
    label: str
    text: str
    window: timedelta | str | None
    version: int
    kind: str
    cohort: str
    unit: str = ""
    counts: dict | None = None
    sums: str | None = None

    @property
    def window_label(self) -> str:
        if self.cohort == OPEN_NOW:
            return "now"
        if self.window is None:
            return "none"
        if self.window == SHAPE_WINDOW:
            return SHAPE_WINDOW
        hours = int(self.window.total_seconds() // 3600)
        if hours == 0:
            return "0"
        return f"{hours // 24}d" if hours % 24 == 0 and hours > 24 * 3 else f"{hours}h"

    @property
    def definition(self) -> Definition:
        return Definition(
            code=self.code,
            label=self.label,
            text=self.text,
            window=self.window_label,
            version=self.version,
            kind=self.kind,
            unit=self.unit,
        )


_METRICS = (
    Metric(
        code="signups",
        label="Signups",
        text="The number of cohort accounts: accounts whose signed_up_at falls in [since, until), "
        "duplicates excluded.",
        window=timedelta(0),
        version=1,
        kind=COUNT,
        cohort=ACCOUNTS,
        unit="accounts",
    ),
    Metric(
        code="activation_24h",
        label="24 h activation",
        text="Accounts with activated_at <= signed_up_at + 24 h, over the mature accounts "
        "(signed up at least 24 h ago).",
        window=timedelta(hours=24),
        version=1,
        kind=RATE,
        cohort=ACCOUNTS,
        counts={"activated_24h": True},
    ),
    Metric(
        code="activation",
        label="Activation",
        text="Accounts with activated_at set, over the mature accounts (signed up at least their "
        "shape's activation window ago). activated_at is the latest of the first occurrences of "
        "the shape's required event types, counting only events up to the shape's window.",
        window=SHAPE_WINDOW,
        version=1,
        kind=RATE,
        cohort=ACCOUNTS,
        counts={"time_to_value__isnull": False},
    ),
    Metric(
        code="provisioning_failure_rate",
        label="Provisioning failure rate",
        text="Accounts with at least one event of type workspace.failed, invite.expired, "
        "integration.failed or import.failed in the window (occurred_at <= signed_up_at + 72 h), "
        "over the mature accounts.",
        window=FAILURE_WINDOW,
        version=1,
        kind=RATE,
        cohort=ACCOUNTS,
        counts={"failed_72h": True},
    ),
    Metric(
        code="tickets_per_100",
        label="Tickets per 100 accounts",
        text="Tickets matched to the account whose created_at <= signed_up_at + 7 days, per 100 "
        "mature accounts.",
        window=TICKETS_WINDOW,
        version=1,
        kind=PER_100,
        cohort=ACCOUNTS,
        unit="per 100 accounts",
        sums="tickets_7d",
    ),
    Metric(
        code="escalations_per_100",
        label="Escalations per 100 accounts",
        text="Engineering escalations of the account created within the window (created_at <= "
        "signed_up_at + 30 days), per 100 mature accounts.",
        window=ESCALATIONS_WINDOW,
        version=1,
        kind=PER_100,
        cohort=ACCOUNTS,
        unit="per 100 accounts",
        sums="escalations_30d",
    ),
    Metric(
        code="retention_30d",
        label="30-day retention",
        text="Accounts with an event of type user.login, report.viewed or first_value.reached whose "
        "occurred_at falls in [signed_up_at + 23 days, signed_up_at + 30 days], over the mature "
        "accounts.",
        window=RETENTION_TO,
        version=1,
        kind=RATE,
        cohort=ACCOUNTS,
        counts={"retained_30d": True},
    ),
    Metric(
        code="manual_minutes_per_account",
        label="Manual minutes per account",
        text="Staff minutes spent on the account within 30 days of signup, per mature account: "
        "each guarded action run by a person (not a system or service user) that ran (succeeded, "
        "failed or was later reversed) counts its action's declared handling minutes, and each "
        "exception resolved by a person counts its reason code's estimated_handling_minutes.",
        window=MANUAL_MINUTES_WINDOW,
        version=1,
        kind=PER_ACCOUNT,
        cohort=ACCOUNTS,
        unit="minutes per account",
        sums="manual_minutes_30d",
    ),
    Metric(
        code="time_to_first_value_h",
        label="Time to first value",
        text="p50 and p90 of activated_at - signed_up_at in hours, over the cohort accounts with "
        "activated_at set (linear interpolation, as PostgreSQL's percentile_cont).",
        window=None,
        version=1,
        kind=DISTRIBUTION,
        cohort=ACCOUNTS,
        unit="hours",
    ),
    Metric(
        code="auto_owner_rate",
        label="Auto-owner rate",
        text="Tickets whose first owner came from a routing rule at intake, with no manual routing "
        "decision before it, over the tickets whose created_at falls in [since, until), by the "
        "channel of their account (no matched account: unmatched).",
        window=None,
        version=1,
        kind=RATE,
        cohort=TICKETS,
    ),
    Metric(
        code="queue_age_h",
        label="Queue age",
        text="p50, p90 and p99 age in hours of the tickets open now, and how many are past an SLA "
        "target, by the channel of their account (no matched account: unmatched). Not a cohort.",
        window=None,
        version=1,
        kind=QUEUE,
        cohort=OPEN_NOW,
        unit="hours",
    ),
)

METRICS: dict[str, Metric] = {metric.code: metric for metric in _METRICS}
ACCOUNT_METRICS = [m.code for m in _METRICS if m.cohort == ACCOUNTS]
TICKET_METRICS = [m.code for m in _METRICS if m.cohort in (TICKETS, OPEN_NOW)]
# What a cohort table (signup period x channel) can show: everything but queue_age_h.
COHORT_METRICS = [m.code for m in _METRICS if m.cohort in (ACCOUNTS, TICKETS)]


def numerator_q(metric: Metric, prefix: str = "") -> Q:
    """``metric.counts`` as a condition on the facts (at ``prefix``, e.g. ``facts__``)."""
    return Q(**{f"{prefix}{lookup}": value for lookup, value in (metric.counts or {}).items()})


def metric(code: str) -> Metric:
    return METRICS[code]


def definitions(codes=None) -> dict[str, Definition]:
    return {code: METRICS[code].definition for code in (codes or METRICS)}


def shape_windows() -> dict[str, timedelta]:
    """Each shape's activation window, the window of ``activation``."""
    return {code: shape.activation.window for code, shape in SHAPES.items()}
