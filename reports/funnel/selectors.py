"""The step-gap funnel: for each step of ``accounts.shapes.JOURNEY_STEPS``, how many cohort
accounts reached it, the median and p90 hours from the step before, and where accounts first
left the product for staff work.

When an account reached a step (the first time):

- created: ``signed_up_at``;
- identity verified or approved: its first ``account.approved`` or ``identity.verified``;
- workspace provisioned: ``workspace.provisioned``; import or integration set up: the first
  ``import.succeeded`` or ``integration.connected``; plan assigned: ``plan.assigned``; user
  invited: the first ``invite.sent`` or ``invite.accepted``;
- activation: ``activated_at``;
- support intake: its first ticket; escalation: its first escalation;
- refund, cancellation or change: its first ``subscription.cancelled``, or refund or dispute
  from Stripe (processed for the account, or naming its Stripe customer).

The gap of a step is the time from the latest earlier step the account had reached by then
(``created`` at least); a step dated before the signup (a ticket filed before it) has no gap.
Percentiles interpolate as ``percentile_cont``.

First staff touch: the earliest of the account's first exception, first ticket and first
guarded action run by a person. It is put at the first step, in journey order, that applies
to the account's shape and that it had not reached by then (approval applies to shapes with an
approval step, import or integration to shapes with either; support intake when every earlier
step was reached). ``share`` divides by the cohort's accounts.

The first times and the first staff touch are stored on each account's facts row
(``reports.AccountFacts``, kept current by ``reports.facts`` in the writers' transactions and
rebuilt from the raw tables): the funnel is one pass over the cohort's facts rows, with the
gaps and the touch's step computed per row (``reports.funnel.journey``) and aggregated in the
same statement (``percentile_cont`` on PostgreSQL). ``journeys`` (a timeline's account) reads
the raw tables with the same definition.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from accounts.models import Account
from accounts.shapes import JOURNEY_STEPS
from reports import rawsql
from reports.funnel.journey import (
    CREATED,
    SETUP,
    WORKSPACE,
    column,
    derived_sql,
    gap_column,
    journey_sql,
    stored_sql,
)
from reports.metrics.sql import percentile, percentiles_in_sql
from reports.query import query_date
from reports.rowlists import register_list, rows_url
from reports.scope import cohort, cohort_facts_rows

__all__ = ["SETUP", "WORKSPACE", "FunnelStep", "funnel_accounts", "journeys", "step_funnel"]
FRACTIONS = (0.5, 0.9)


@dataclass(frozen=True)
class FunnelStep:
    step: str
    reached: int
    median_gap_h: float | None
    p90_gap_h: float | None
    first_staff_touch: int
    first_staff_touch_share: float | None
    reached_url: str
    touch_url: str


@dataclass
class _Journey:
    account_id: int
    shape: str
    at: dict  # step -> first time
    touch: datetime | None = None
    touch_step: str | None = None


def journeys(accounts: QuerySet[Account]) -> list[_Journey]:
    """Each account's journey: when it reached each step, and its first staff touch (for a
    few accounts, such as the timeline's one; the funnel aggregates in the statement)."""
    sql, params, using = journey_sql(accounts)
    found = []
    for row in rawsql.rows(using, sql, params):
        at = {step: rawsql.as_datetime(row[column(step)]) for step in JOURNEY_STEPS}
        found.append(
            _Journey(
                row["id"],
                row["shape"],
                {step: when for step, when in at.items() if when is not None},
                rawsql.as_datetime(row["touch"]),
                row["touch_step"],
            )
        )
    return found


def _stored_journeys(*, since: date, until: date, channel: str | None) -> tuple[str, list, str]:
    """(sql, params, database) of the journey rows of the cohort (``reports.scope.cohort``:
    signed up in [since, until), not duplicates, of the channel) from their stored facts."""
    sql, params, using = stored_sql(cohort_facts_rows(since=since, until=until, channel=channel))
    return derived_sql(using, sql), params, using


def _p(fraction: float, step: str) -> str:
    return f"p{int(fraction * 100)}_{column(step)}"


def _aggregates(in_sql: bool) -> list[str]:
    found = ["COUNT(*) AS total"]
    for step in JOURNEY_STEPS:
        found.append(f"COUNT(q.{column(step)}) AS reached_{column(step)}")
        found.append(
            f"COUNT(CASE WHEN q.touch_step = {rawsql.literal(step)} THEN 1 END) AS touch_{column(step)}"
        )
        if in_sql and step != CREATED:
            found += [
                f"percentile_cont({f}) WITHIN GROUP (ORDER BY q.{gap_column(step)}) AS {_p(f, step)}"
                for f in FRACTIONS
            ]
    return found


def _gap_percentiles(using: str, sql: str, params: list) -> dict[str, tuple]:
    """Elsewhere than PostgreSQL: each step's gaps read and interpolated as percentile_cont."""
    gaps = {step: [] for step in JOURNEY_STEPS[1:]}
    columns = ", ".join(f"q.{gap_column(s)}" for s in gaps)
    for row in rawsql.rows(using, f"SELECT {columns} FROM ({sql}) q", params):
        for step in gaps:
            if row[gap_column(step)] is not None:
                gaps[step].append(row[gap_column(step)])
    return {step: tuple(percentile(sorted(values), f) for f in FRACTIONS) for step, values in gaps.items()}


def _hours(value) -> float | None:
    return None if value is None else round(value, 2)


def step_funnel(*, since: date, until: date, channel: str | None = None) -> list[FunnelStep]:
    """Each journey step of the cohort: accounts that reached it, the median and p90 gap, and
    the accounts whose first staff touch it was; one statement over the cohort's facts rows
    (two on SQLite)."""
    sql, params, using = _stored_journeys(since=since, until=until, channel=channel)
    in_sql = percentiles_in_sql(using)
    (totals,) = rawsql.rows(using, f"SELECT {', '.join(_aggregates(in_sql))} FROM ({sql}) q", params)
    elsewhere = {} if in_sql else _gap_percentiles(using, sql, params)
    total = totals["total"]
    rows = []
    for step in JOURNEY_STEPS:
        if step == CREATED:
            p50 = p90 = None
        elif in_sql:
            p50, p90 = (totals[_p(f, step)] for f in FRACTIONS)
        else:
            p50, p90 = elsewhere[step]
        touched = totals[f"touch_{column(step)}"]
        scope = {"since": since, "until": until, "channel": channel, "step": step}
        rows.append(
            FunnelStep(
                step=step,
                reached=totals[f"reached_{column(step)}"],
                median_gap_h=_hours(p50),
                p90_gap_h=_hours(p90),
                first_staff_touch=touched,
                first_staff_touch_share=round(touched / total, 4) if total else None,
                reached_url=rows_url("funnel_reached", **scope),
                touch_url=rows_url("funnel_first_touch", **scope),
            )
        )
    return rows


def funnel_accounts(
    kind: str, *, step: str, since: date, until: date, channel: str | None = None
) -> QuerySet[Account]:
    """The accounts behind a funnel number: those that reached ``step`` (``kind="reached"``) or
    whose first staff touch was at it (``kind="touch"``)."""
    accounts = cohort(since=since, until=until, channel=channel)
    if step not in JOURNEY_STEPS:
        return accounts.none()
    sql, params, _ = _stored_journeys(since=since, until=until, channel=channel)
    if kind == "reached":
        condition, extra = f"q.{column(step)} IS NOT NULL", []
    else:
        condition, extra = "q.touch_step = %s", [step]
    return accounts.filter(pk__in=RawSQL(f"SELECT q.id FROM ({sql}) q WHERE {condition}", [*params, *extra]))


def _list(kind: str):
    def rows(params: dict) -> QuerySet:
        return funnel_accounts(
            kind,
            step=params.get("step", ""),
            since=query_date(params, "since"),
            until=query_date(params, "until"),
            channel=params.get("channel") or None,
        )

    return rows


_COLUMNS = (
    ("id", "pk"),
    ("Account", "external_id"),
    ("Name", "name"),
    ("Channel", "channel__code"),
    ("Shape", "shape"),
    ("Signed up", "signed_up_at"),
    ("Activated", "activated_at"),
)
register_list("funnel_reached", "Accounts that reached a journey step", _COLUMNS, _list("reached"))
register_list(
    "funnel_first_touch", "Accounts first touched by staff at a journey step", _COLUMNS, _list("touch")
)
