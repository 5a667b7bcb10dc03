"""What a metric computes to: plain, immutable values the pages, API, CSV, snapshots and gates
all read. Rounding happens here, once: rates are fractions to 4 places, everything else to 2."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

RATE_PLACES = 4
OTHER_PLACES = 2

# The kinds of metric, by how a value is made from its numerator and denominator.
COUNT = "count"  # the numerator itself
RATE = "rate"  # numerator / denominator, a fraction to 4 places
PER_100 = "per_100"  # 100 * numerator / denominator
PER_ACCOUNT = "per_account"  # numerator / denominator (minutes per account)
DISTRIBUTION = "distribution"  # p50 and p90 of a duration in hours
QUEUE = "queue"  # p50, p90 and p99 age of what is open now, and how many are past target


@dataclass(frozen=True)
class Definition:
    """A metric's contract (METRICS.md), shown beside every number."""

    code: str
    label: str
    text: str
    window: str  # "24h", "7d", "shape" (the shape's activation window), "none", "now"
    version: int
    kind: str
    unit: str

    def as_dict(self) -> dict:
        return {"text": self.text, "window": self.window, "version": self.version}


@dataclass(frozen=True)
class MetricValue:
    """A count, rate, per-100 or per-account figure. ``value`` is None when no account is mature
    ("not measurable yet"), never 0; ``numerator`` and ``denominator`` are the raw counts
    (``denominator`` is None for a plain count). ``pending`` counts cohort members not mature
    yet, and ``complete`` says there are none."""

    value: float | int | None
    numerator: int | None
    denominator: int | None
    complete: bool
    pending: int
    version: int

    def as_dict(self) -> dict:
        return {
            "value": self.value,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "complete": self.complete,
            "pending": self.pending,
            "version": self.version,
        }


@dataclass(frozen=True)
class Distribution:
    """Percentiles (``percentile_cont``) of a duration in hours over ``n`` accounts."""

    p50: float | None
    p90: float | None
    n: int
    version: int

    def as_dict(self) -> dict:
        return {"p50": self.p50, "p90": self.p90, "n": self.n, "version": self.version}


@dataclass(frozen=True)
class QueueAge:
    """Ages in hours of the tickets open at ``as_of``, and how many are past a target."""

    p50: float | None
    p90: float | None
    p99: float | None
    n: int
    past_target: int
    version: int

    def as_dict(self) -> dict:
        return {
            "p50": self.p50,
            "p90": self.p90,
            "p99": self.p99,
            "n": self.n,
            "past_target": self.past_target,
            "version": self.version,
        }


Value = MetricValue | Distribution | QueueAge


@dataclass(frozen=True)
class ChannelRow:
    """One channel's metrics (code -> value). The ``unmatched`` row (tickets with no matched
    account) is not a channel: it carries the ticket-cohort metrics only."""

    code: str
    name: str
    metrics: dict[str, Value]
    is_channel: bool = True


@dataclass(frozen=True)
class ChannelReport:
    as_of: datetime
    since: date
    until: date
    filters: dict[str, str | None]
    channels: list[ChannelRow]
    total: dict[str, Value]
    definitions: dict[str, Definition] = field(default_factory=dict)

    def row(self, code: str) -> ChannelRow:
        return next(r for r in self.channels if r.code == code)

    def as_dict(self) -> dict:
        """The report as ``GET /api/v1/reports/channels/`` answers it (METRICS.md)."""
        return {
            "as_of": self.as_of.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "filters": dict(self.filters),
            "channels": [
                {"channel": row.code, "metrics": {code: v.as_dict() for code, v in row.metrics.items()}}
                for row in self.channels
            ],
            "total": {"metrics": {code: v.as_dict() for code, v in self.total.items()}},
            "definitions": {code: d.as_dict() for code, d in self.definitions.items()},
        }


@dataclass(frozen=True)
class CohortRow:
    """One cell of a cohort table: a channel's accounts (or tickets) of one period. For a
    distribution, ``value`` is its p50 and ``denominator`` its n."""

    channel: str
    period_start: date
    value: float | int | None
    numerator: int | None
    denominator: int | None
    complete: bool
    pending: int

    def as_dict(self) -> dict:
        return {
            "channel": self.channel,
            "period_start": self.period_start.isoformat(),
            "value": self.value,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "complete": self.complete,
            "pending": self.pending,
        }


def rounded(value: float | None, places: int = OTHER_PLACES) -> float | None:
    return None if value is None else round(float(value), places)


def ratio(kind: str, numerator: int, denominator: int) -> float | None:
    """The value of a rate, per-100 or per-account metric; None with nothing to divide by."""
    if not denominator:
        return None
    if kind == RATE:
        return round(numerator / denominator, RATE_PLACES)
    if kind == PER_100:
        return round(100 * numerator / denominator, OTHER_PLACES)
    return round(numerator / denominator, OTHER_PLACES)


def ratio_value(kind: str, numerator: int, denominator: int, pending: int, version: int) -> MetricValue:
    return MetricValue(
        ratio(kind, numerator, denominator), numerator, denominator, pending == 0, pending, version
    )
