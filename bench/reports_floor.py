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
    """One statement, one pass over each raw table: the cohort's accounts, what METRICS.md
    counts for each from its events, tickets, escalations and staff work, then grouped."""
    week = ", date_trunc('week', a.signed_up_at AT TIME ZONE 'UTC')::date" if group_week else ""
    mature = {
        "m24": "a.signed_up_at <= %(now)s - interval '24 hours'",
        "m72": "a.signed_up_at <= %(now)s - interval '72 hours'",
        "m7d": "a.signed_up_at <= %(now)s - interval '7 days'",
        "m30": "a.signed_up_at <= %(now)s - interval '30 days'",
        "mshape": f"a.signed_up_at + {_shape_window()} <= %(now)s",
    }
    return f"""
    WITH a AS (
        SELECT a.id, a.channel_id, a.signed_up_at, a.activated_at, a.shape FROM accounts_account a
        WHERE a.signed_up_at >= %(since)s AND a.signed_up_at < %(until)s AND a.duplicate_of_id IS NULL
    ), ev AS (
        SELECT e.account_id,
               bool_or(e.type IN ({_in(FAILURE_EVENT_TYPES)})
                       AND e.occurred_at <= a.signed_up_at + interval '72 hours') AS failed,
               bool_or(e.type IN ({_in(RETENTION_EVENT_TYPES)})
                       AND e.occurred_at BETWEEN a.signed_up_at + interval '23 days'
                                             AND a.signed_up_at + interval '30 days') AS retained
        FROM accounts_accountevent e JOIN a ON a.id = e.account_id
        WHERE e.type IN ({_in(FAILURE_EVENT_TYPES + RETENTION_EVENT_TYPES)})
        GROUP BY e.account_id
    ), tk AS (
        SELECT t.account_id, count(*) AS n FROM routing_ticket t JOIN a ON a.id = t.account_id
        WHERE t.created_at <= a.signed_up_at + interval '7 days' GROUP BY t.account_id
    ), es AS (
        SELECT x.account_id, count(*) AS n FROM routing_escalation x JOIN a ON a.id = x.account_id
        WHERE x.kind = 'engineering' AND x.created_at <= a.signed_up_at + interval '30 days'
        GROUP BY x.account_id
    ), staff AS (
        SELECT x.account_id, sum(rc.estimated_handling_minutes) AS minutes FROM accounts_opsexception x
        JOIN a ON a.id = x.account_id JOIN accounts_reasoncode rc ON rc.id = x.reason_code_id
        JOIN auth_user u ON u.id = x.resolved_by_id
        WHERE x.resolved_at <= a.signed_up_at + interval '30 days' AND {_PERSON.format(u="u")}
        GROUP BY x.account_id
      UNION ALL
        SELECT r.account_id, sum({_run_minutes()}) FROM opsconsole_actionrun r
        JOIN a ON a.id = r.account_id JOIN auth_user u ON u.id = r.actor_id
        WHERE r.status IN ({_in(COUNTED_RUN_STATUSES)})
          AND r.created_at <= a.signed_up_at + interval '30 days' AND {_PERSON.format(u="u")}
        GROUP BY r.account_id
    ), mm AS (SELECT account_id, sum(minutes) AS minutes FROM staff GROUP BY account_id)
    SELECT a.channel_id{week},
      count(*) AS n,
      count(*) FILTER (WHERE a.signed_up_at <= %(now)s) AS m0,
      {", ".join(f"count(*) FILTER (WHERE {cond}) AS {name}" for name, cond in mature.items())},
      count(*) FILTER (WHERE {mature["m24"]} AND a.activated_at <= a.signed_up_at + interval '24 hours')
          AS num_activation_24h,
      count(*) FILTER (WHERE {mature["mshape"]} AND a.activated_at IS NOT NULL) AS num_activation,
      count(*) FILTER (WHERE {mature["m72"]} AND ev.failed) AS num_provisioning_failure_rate,
      coalesce(sum(tk.n) FILTER (WHERE {mature["m7d"]}), 0) AS num_tickets_per_100,
      coalesce(sum(es.n) FILTER (WHERE {mature["m30"]}), 0) AS num_escalations_per_100,
      count(*) FILTER (WHERE {mature["m30"]} AND ev.retained) AS num_retention_30d,
      coalesce(sum(mm.minutes) FILTER (WHERE {mature["m30"]}), 0) AS num_manual_minutes_per_account,
      count(a.activated_at) AS n_ttv,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a.activated_at - a.signed_up_at))
          AS p50_ttv,
      percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM a.activated_at - a.signed_up_at))
          AS p90_ttv
    FROM a
    LEFT JOIN ev ON ev.account_id = a.id LEFT JOIN tk ON tk.account_id = a.id
    LEFT JOIN es ON es.account_id = a.id LEFT JOIN mm ON mm.account_id = a.id
    GROUP BY a.channel_id{week}"""


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
        hours = [None if v is None else round(float(v) / 3600, 2) for v in (row["p50_ttv"], row["p90_ttv"])]
        return (*hours, row["n_ttv"])
    return (int(row[f"num_{code}"]), row[_DENOMINATORS[code]])


def _given(value) -> tuple:
    if hasattr(value, "p50"):
        return (
            value.p50,
            value.p90,
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
