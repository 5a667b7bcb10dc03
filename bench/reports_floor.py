"""The floor for the reports bench: the simplest single-pass SQL over the raw tables (accounts,
their events, tickets, escalations, exceptions and action runs) that computes the numbers the
reports compute from the facts, written straight from ../shared/METRICS.md. The bench times it
beside the reports, and refuses to print a ratio unless both give the same numbers.
"""

from datetime import UTC, date, datetime, timedelta

from django.db import connection

from accounts.models import Channel
from accounts.shapes import SHAPES
from opsconsole.actions.registry import DEFAULT_HANDLING_MINUTES, all_actions
from reports.facts import COUNTED_RUN_STATUSES
from reports.metrics import ChannelReport, CohortRow
from reports.metrics.definitions import FAILURE_EVENT_TYPES, RETENTION_EVENT_TYPES

# The account-cohort metrics the floor computes (every one of them).
FLOOR_METRICS = (
    "signups",
    "activation_24h",
    "activation",
    "provisioning_failure_rate",
    "tickets_per_100",
    "escalations_per_100",
    "retention_30d",
    "manual_minutes_per_account",
    "time_to_first_value_h",
)


def _in(values) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _shape_window() -> str:
    whens = " ".join(
        f"WHEN '{code}' THEN interval '{int(s.activation.window.total_seconds())} seconds'"
        for code, s in SHAPES.items()
    )
    return f"(CASE a.shape {whens} END)"


def _run_minutes() -> str:
    whens = " ".join(f"WHEN {_in([a.name])} THEN {a.handling_minutes}" for a in all_actions())
    return (
        f"(CASE r.action {whens} ELSE {DEFAULT_HANDLING_MINUTES} END)"
        if whens
        else str(DEFAULT_HANDLING_MINUTES)
    )


_PERSON = (
    "{u}.username NOT LIKE 'system:%%' AND {u}.username NOT LIKE 'service:%%' "
    "AND NOT EXISTS (SELECT 1 FROM opsconsole_servicetoken st WHERE st.user_id = {u}.id)"
)


def _per_account_sql(group_week: bool) -> str:
    """One statement: every cohort account with what METRICS.md counts for it, grouped."""
    group = "a.channel_id" + (
        ", date_trunc('week', a.signed_up_at AT TIME ZONE 'UTC')::date" if group_week else ""
    )
    return f"""
    SELECT {group},
      count(*) AS n,
      count(*) FILTER (WHERE a.signed_up_at <= %(now)s) AS m0,
      count(*) FILTER (WHERE a.signed_up_at <= %(now)s - interval '24 hours') AS m24,
      count(*) FILTER (WHERE a.signed_up_at <= %(now)s - interval '24 hours'
                         AND a.activated_at <= a.signed_up_at + interval '24 hours') AS num_activation_24h,
      count(*) FILTER (WHERE a.signed_up_at + {_shape_window()} <= %(now)s) AS mshape,
      count(*) FILTER (WHERE a.signed_up_at + {_shape_window()} <= %(now)s
                         AND a.activated_at IS NOT NULL) AS num_activation,
      count(*) FILTER (WHERE a.signed_up_at <= %(now)s - interval '72 hours') AS m72,
      count(*) FILTER (WHERE a.signed_up_at <= %(now)s - interval '72 hours' AND EXISTS (
          SELECT 1 FROM accounts_accountevent e WHERE e.account_id = a.id
            AND e.type IN ({_in(FAILURE_EVENT_TYPES)})
            AND e.occurred_at <= a.signed_up_at + interval '72 hours')) AS num_provisioning_failure_rate,
      count(*) FILTER (WHERE a.signed_up_at <= %(now)s - interval '7 days') AS m7d,
      coalesce(sum((SELECT count(*) FROM routing_ticket t WHERE t.account_id = a.id
                      AND t.created_at <= a.signed_up_at + interval '7 days'))
               FILTER (WHERE a.signed_up_at <= %(now)s - interval '7 days'), 0) AS num_tickets_per_100,
      count(*) FILTER (WHERE a.signed_up_at <= %(now)s - interval '30 days') AS m30,
      coalesce(sum((SELECT count(*) FROM routing_escalation x WHERE x.account_id = a.id
                      AND x.kind = 'engineering' AND x.created_at <= a.signed_up_at + interval '30 days'))
               FILTER (WHERE a.signed_up_at <= %(now)s - interval '30 days'), 0) AS num_escalations_per_100,
      count(*) FILTER (WHERE a.signed_up_at <= %(now)s - interval '30 days' AND EXISTS (
          SELECT 1 FROM accounts_accountevent e WHERE e.account_id = a.id
            AND e.type IN ({_in(RETENTION_EVENT_TYPES)})
            AND e.occurred_at BETWEEN a.signed_up_at + interval '23 days'
                                  AND a.signed_up_at + interval '30 days')) AS num_retention_30d,
      coalesce(sum(
          (SELECT coalesce(sum(rc.estimated_handling_minutes), 0) FROM accounts_opsexception x
             JOIN accounts_reasoncode rc ON rc.id = x.reason_code_id
             JOIN auth_user u ON u.id = x.resolved_by_id
           WHERE x.account_id = a.id AND x.resolved_at <= a.signed_up_at + interval '30 days'
             AND {_PERSON.format(u="u")})
        + (SELECT coalesce(sum({_run_minutes()}), 0) FROM opsconsole_actionrun r
             JOIN auth_user u ON u.id = r.actor_id
           WHERE r.account_id = a.id AND r.status IN ({_in(COUNTED_RUN_STATUSES)})
             AND r.created_at <= a.signed_up_at + interval '30 days' AND {_PERSON.format(u="u")})
        ) FILTER (WHERE a.signed_up_at <= %(now)s - interval '30 days'), 0) AS num_manual_minutes_per_account,
      count(a.activated_at) AS n_ttv,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a.activated_at - a.signed_up_at))
          AS p50_ttv,
      percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM a.activated_at - a.signed_up_at))
          AS p90_ttv
    FROM accounts_account a
    WHERE a.signed_up_at >= %(since)s AND a.signed_up_at < %(until)s AND a.duplicate_of_id IS NULL
    GROUP BY {group}"""


_DENOMINATORS = {
    "activation_24h": "m24",
    "activation": "mshape",
    "provisioning_failure_rate": "m72",
    "tickets_per_100": "m7d",
    "escalations_per_100": "m30",
    "retention_30d": "m30",
    "manual_minutes_per_account": "m30",
}


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def floor_rows(*, since: date, until: date, now: datetime, weekly: bool = False) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(
            _per_account_sql(weekly), {"since": _midnight(since), "until": _midnight(until), "now": now}
        )
        names = [c.name for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _expected(row: dict, code: str) -> tuple:
    """(numerator, denominator) or (p50 h, p90 h, n) as the reports give them."""
    if code == "signups":
        return (row["m0"], None)
    if code == "time_to_first_value_h":
        hours = [None if v is None else round(v / 3600, 4) for v in (row["p50_ttv"], row["p90_ttv"])]
        return (*hours, row["n_ttv"])
    return (int(row[f"num_{code}"]), row[_DENOMINATORS[code]])


def _given(value) -> tuple:
    if hasattr(value, "p50"):
        return (
            None if value.p50 is None else round(value.p50, 4),
            None if value.p90 is None else round(value.p90, 4),
            value.n,
        )
    return (int(value.numerator), value.denominator if value.denominator is not None else None)


def report_mismatches(report: ChannelReport, floor: list[dict]) -> list[str]:
    """Where the report and the floor disagree (empty: the same numbers)."""
    by_channel = {row["channel_id"]: row for row in floor}
    ids = dict(Channel.objects.values_list("code", "pk"))
    problems = []
    for row in report.channels:
        if not row.is_channel:
            continue
        found = by_channel.get(ids[row.code])
        for code in FLOOR_METRICS:
            if found is None:
                expected = (0, None) if code == "signups" else None
                if code == "signups" and _given(row.metrics[code]) != expected:
                    problems.append(
                        f"{row.code} {code}: report {_given(row.metrics[code])}, floor {expected}"
                    )
                continue
            if _given(row.metrics[code]) != _expected(found, code):
                problems.append(
                    f"{row.code} {code}: report {_given(row.metrics[code])}, floor {_expected(found, code)}"
                )
    return problems


def cohort_mismatches(rows: list[CohortRow], floor: list[dict], metric: str, channel_ids: dict) -> list[str]:
    found = {(r["channel_id"], r["date_trunc"]): r for r in floor}
    problems = []
    for row in rows:
        f = found.get((channel_ids.get(row.channel), row.period_start))
        expected = (0, 0) if f is None else _expected(f, metric)
        given = (int(row.numerator or 0), row.denominator or 0)
        if given != (int(expected[0]), expected[1] or 0):
            problems.append(f"{row.channel} {row.period_start}: cohort {given}, floor {expected}")
    return problems


def week_floor_start(day: date) -> date:
    return day - timedelta(days=day.weekday())
