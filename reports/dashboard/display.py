"""How a metric's value reads on the pages: the cell text, the numerator and denominator on
hover, "n pending" while its window is incomplete, and a heat-map colour. Nothing here computes
a number: values come from ``reports.metrics`` as they are (null stays "—", never 0%)."""

from dataclasses import dataclass

from reports.metrics import (
    ACCOUNT_METRICS,
    COUNT,
    DISTRIBUTION,
    METRICS,
    PER_100,
    PER_ACCOUNT,
    RATE,
    CohortRow,
    Distribution,
    MetricValue,
)

NULL = "—"

# The channel dashboard's columns: the five headline numbers, then activation within each
# shape's own window (24 h activation favours quick shapes; this compares channels of different
# shape mixes fairly), escalations, manual minutes and time to first value.
HEADLINE_METRICS = [
    "signups",
    "activation_24h",
    "provisioning_failure_rate",
    "tickets_per_100",
    "retention_30d",
]
DASHBOARD_METRICS = HEADLINE_METRICS + [
    "activation",
    "escalations_per_100",
    "manual_minutes_per_account",
    "time_to_first_value_h",
]
# The heat map shows any account-cohort metric (a signup week's accounts can be listed).
HEATMAP_METRICS = list(ACCOUNT_METRICS)

# Which way is better, for the heat map's colours (signups: neither).
HIGHER_IS_BETTER = {"activation_24h", "activation", "retention_30d"}
LOWER_IS_BETTER = {
    "provisioning_failure_rate",
    "tickets_per_100",
    "escalations_per_100",
    "manual_minutes_per_account",
    "time_to_first_value_h",
}
HEAT_STEPS = 5

# The unit a metric's numbers are shown in (charts' axis titles say the same).
UNITS = {
    COUNT: "accounts",
    RATE: "% of mature accounts",
    PER_100: "per 100 mature accounts",
    PER_ACCOUNT: "minutes per mature account",
    DISTRIBUTION: "hours (p50)",
}


def unit(code: str) -> str:
    return UNITS[METRICS[code].kind]


def window_text(code: str) -> str:
    """A column's window as a heading says it: "window 24h", "shape's window", "count"."""
    window = METRICS[code].window_label
    if window == "0":
        return "count"
    if window == "shape":
        return "shape's window"
    if window == "none":
        return "p50 (p90 below)"
    return f"window {window}"


def number(code: str, value) -> str:
    """A value as the pages write it: 412, 42.1%, 12.5, 3.2 min, 20.5 h; "—" for null."""
    if value is None:
        return NULL
    kind = METRICS[code].kind
    if kind == COUNT:
        return f"{int(value):,}"
    if kind == RATE:
        return f"{100 * value:.1f}%"
    if kind == PER_ACCOUNT:
        return f"{value:.1f} min"
    if kind == DISTRIBUTION:
        return f"{value:.1f} h"
    return f"{value:.1f}"


def chart_value(code: str, value):
    """A value on a chart's axis: rates in percent, the rest as they are."""
    if value is None:
        return None
    return round(100 * value, 2) if METRICS[code].kind == RATE else value


def _pending(pending: int) -> str:
    return f"{pending:,} pending" if pending else ""


def _ratio_title(code: str, numerator: int, denominator: int, pending: int) -> str:
    kind = METRICS[code].kind
    if kind == COUNT:
        title = f"{numerator:,} accounts signed up"
    elif not denominator:
        title = "Not measurable yet: no account is mature for this window"
    elif kind == PER_100:
        title = f"100 × {numerator:,} / {denominator:,} mature accounts"
    elif kind == PER_ACCOUNT:
        title = f"{numerator:,} staff minutes / {denominator:,} mature accounts"
    else:
        title = f"{numerator:,} / {denominator:,} mature accounts"
    if pending:
        title += f"; {pending:,} not mature yet (pending)"
    return title


@dataclass(frozen=True)
class Cell:
    """One number on a page, with what a person needs to read it."""

    metric: str
    text: str
    title: str
    pending_text: str
    value: float | int | None
    numerator: int | None
    denominator: int | None
    pending: int
    complete: bool
    detail: str = ""  # a second line (p90 of a distribution)

    @property
    def n(self) -> int:
        """How many accounts the value is over: its denominator, or the count itself."""
        return self.denominator if self.denominator is not None else (self.numerator or 0)


def cell(code: str, value: MetricValue | Distribution) -> Cell:
    """A channel report's value (``reports.metrics.channel_report``) as a dashboard cell."""
    if isinstance(value, Distribution):
        if value.p50 is None:
            title = "No activated account in this cohort yet"
        else:
            title = f"p50 {value.p50:.1f} h over {value.n:,} activated accounts"
        detail = "" if value.p90 is None else f"p90 {value.p90:.1f} h"
        return Cell(code, number(code, value.p50), title, "", value.p50, None, value.n, 0, True, detail)
    return Cell(
        code,
        number(code, value.value),
        _ratio_title(code, value.numerator or 0, value.denominator or 0, value.pending),
        _pending(value.pending),
        value.value,
        value.numerator,
        value.denominator,
        value.pending,
        value.complete,
    )


def cohort_cell(code: str, row: CohortRow) -> Cell:
    """A cohort row (``reports.metrics.cohort_rows``) as a heat-map cell. For a distribution the
    row's value is the p50 and its denominator the activated accounts."""
    metric = METRICS[code]
    if metric.kind == DISTRIBUTION:
        return cell(code, Distribution(row.value, None, row.denominator or 0, metric.version))
    value = MetricValue(row.value, row.numerator, row.denominator, row.complete, row.pending, metric.version)
    return cell(code, value)


def heat_class(code: str, value, low, high) -> str:
    """The heat-map colour of ``value`` between the table's ``low`` and ``high``: ``oc-heat-none``
    for null; ``oc-heat-g1`` (worst) .. ``g5`` (best) where a direction is better; ``oc-heat-n1``
    .. ``n5`` (more) for signups."""
    if value is None or low is None or high is None:
        return "oc-heat-none"
    share = 0.5 if high == low else (value - low) / (high - low)
    if code in LOWER_IS_BETTER:
        share = 1 - share
    step = min(HEAT_STEPS, 1 + int(share * HEAT_STEPS))
    family = "g" if code in HIGHER_IS_BETTER | LOWER_IS_BETTER else "n"
    return f"oc-heat-{family}{step}"


# The dashboard tints a channel's number only when it is over this many accounts: a channel
# with a handful of signups would otherwise take the extremes of the scale by chance.
MIN_N_FOR_TINT = 20


def tints(code: str, cells: list[Cell]) -> list[str]:
    """Each dashboard cell's heat class among the channels (worst red, best green), for metrics
    with a better direction; "" for signups, null values and small samples."""
    if code not in HIGHER_IS_BETTER | LOWER_IS_BETTER:
        return ["" for _ in cells]
    measured = [c.value for c in cells if c.value is not None and c.n >= MIN_N_FOR_TINT]
    low, high = (min(measured), max(measured)) if len(measured) > 1 else (None, None)
    return [
        heat_class(code, c.value, low, high) if c.value is not None and c.n >= MIN_N_FOR_TINT else ""
        for c in cells
    ]


def direction(code: str) -> str:
    if code in HIGHER_IS_BETTER:
        return "higher is better"
    if code in LOWER_IS_BETTER:
        return "lower is better"
    return "darker is more"
