"""The services' derived state, computed by set-based SQL over bulk-loaded accounts.

``bench.bulk`` COPYs what the product sends: accounts, their timelines, tickets, and what
staff do with exceptions (a staging table). This module derives, for every account with
``id >= base_id``, what ``account_create``, ``account_events_record`` and the staff's services
would have written, with the same rules (``accounts.services.provisioning``):

- one provisioning step per applicable step (the shape's, led by ``approve`` for an identity
  review), moved by its last transition event in (occurred_at, id) order;
- an exception per failure event with a reason code, unless one is still unresolved for the
  same (account, reason): then the failure joins it (a recursive CTE walks each
  (account, reason)'s failures in order); an exception is resolved by the first success of
  its own step, or of a step it blocks, after it;
- the review exception of an account under review, resolved by the approval;
- ``activated_at`` (the latest first occurrence of each required type within the window),
  the lifecycle stage, the staff's resolutions and status changes, and the reports' facts
  (``reports.facts.facts_rebuild``, itself one ``INSERT ... SELECT``).

``tests/bench/test_bulk.py`` loads the same seed through both paths and compares the results.
"""

import time
from datetime import datetime, timedelta

from django.db import connection, transaction

from accounts import demo_staff
from accounts.rules import IDENTITY_REVIEW_FLAG, REVIEW_REASON_ENTERPRISE, REVIEW_REASON_IDENTITY
from accounts.shapes import EVENT_STEP_TRANSITIONS, SHAPES
from bench.bulk_indexes import IndexBuilder, Rebuild, attach_constraints
from reports.facts import facts_rebuild

# From this many new accounts the loaded tables' secondary indexes are dropped for the COPY
# and rebuilt after it (faster than maintaining them row by row).
DROP_INDEXES_FROM = 20_000
ACCOUNTS = "accounts_account"
EVENTS = "accounts_accountevent"
LOADED_TABLES = (ACCOUNTS, EVENTS, "routing_ticket")
# Staging table for what staff do with exceptions (bench.bulk fills it, dropped after a load).
STAFF_TABLE = "bench_bulk_staff"
TICKET_FIRST_RESPONSE = timedelta(minutes=30)
TICKET_SOLVED = timedelta(hours=5)
_OUTCOME_STATUS = {"started": "in_progress", "succeeded": "succeeded", "failed": "failed"}


def _values(rows) -> str:
    """A VALUES list of literals from trusted constants (codes defined in code)."""

    def literal(v):
        if isinstance(v, (int, float)):
            return str(v)
        if isinstance(v, timedelta):
            return f"interval '{int(v.total_seconds())} seconds'"
        return "'" + str(v).replace("'", "''") + "'"

    return "VALUES " + ", ".join("(" + ", ".join(literal(v) for v in row) + ")" for row in rows)


def _run(cursor, timings, log, label, sql, params=None):
    started = time.perf_counter()
    cursor.execute(sql, params or {})
    timings[label] = timings.get(label, 0) + time.perf_counter() - started
    log(f"bulk: {label}: {cursor.rowcount} rows, {time.perf_counter() - started:.1f} s")


def derive(
    *, base_id: int, anchor: datetime, actor_id: int, dropped: list[Rebuild], timings, log=print
) -> None:
    """Derive the services' state for accounts ``id >= base_id`` and rebuild ``dropped``
    beside it (``bench.bulk_indexes`` says in which order, and why)."""
    p = {"base": base_id, "anchor": anchor, "actor": actor_id}
    with connection.cursor() as cursor:
        cursor.execute("SET work_mem = '256MB'")  # the session's: the facts rebuild's too
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('accounts_account', 'id'), "
            "(SELECT max(id) FROM accounts_account))"
        )
        for table in LOADED_TABLES:
            _run(cursor, timings, log, "analyze", f"ANALYZE {table}")
    others = [r for r in dropped if r.table != ACCOUNTS]
    own = [r for r in dropped if r.table == ACCOUNTS]
    beside_derivation = IndexBuilder(others, timings=timings, log=log, label="indexes of events and tickets")
    beside_facts = IndexBuilder(own, timings=timings, log=log, label="indexes of accounts")
    beside_derivation.start()
    try:
        _derivation(p, timings, log)
        beside_derivation.join()
        beside_facts.start()
        started = time.perf_counter()
        rows = facts_rebuild()
        timings["facts"] = time.perf_counter() - started
        log(f"bulk: facts: {rows} rows, {timings['facts']:.1f} s")
        beside_facts.join()
    except BaseException:
        # A failed load still leaves every index and constraint it dropped in place (the
        # builders' own errors are logged, not raised over this one).
        beside_derivation.join(quietly=True)
        beside_facts.finish(quietly=True)
        attach_constraints(dropped, quietly=True, log=log)
        raise
    attach_constraints(dropped)
    with connection.cursor() as cursor:
        # Vacuumed as autovacuum would leave them, so the reports' index-only scans (tickets by
        # day, the facts' channel) read no table pages; the timeline is only analysed: vacuuming
        # its 20M rows would cost more than any report saves on it.
        # (VACUUM cannot run in a transaction: a load inside one, as in the tests, analyses.)
        vacuum = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
        for table in ("routing_ticket", ACCOUNTS, "reports_accountfacts"):
            _run(cursor, timings, log, "vacuum", f"{vacuum} {table}")
        for table in (EVENTS, "accounts_provisioningstep", "accounts_opsexception"):
            _run(cursor, timings, log, "analyze", f"ANALYZE {table}")


def _derivation(p, timings, log) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '256MB'")
        # Every row written here references rows loaded or written just before: skip the
        # per-row foreign-key triggers (the tables written have no other triggers).
        cursor.execute("SET LOCAL session_replication_role = replica")
        _drop_scratch(cursor)
        _transitions(cursor, p, timings, log)
        _exceptions(cursor, p, timings, log)
        _steps(cursor, p, timings, log)
        _activation(cursor, p, timings, log)
        _staff_work(cursor, p, timings, log)
        _drop_scratch(cursor)


def _drop_scratch(cursor) -> None:
    cursor.execute("DROP TABLE IF EXISTS bulk_tr, bulk_fail, bulk_walk, bulk_chain")


def _applicable_steps() -> str:
    """``accounts.rules.applicable_steps`` as a SELECT of (account_id, step) for new accounts."""
    shape_steps = [(code, step) for code, shape in SHAPES.items() for step in shape.steps]
    with_approve = ", ".join(f"'{c}'" for c, shape in SHAPES.items() if "approve" in shape.steps)
    return f"""SELECT a.id AS account_id, s.step FROM accounts_account a
        JOIN ({_values(shape_steps)}) AS s(shape, step) ON s.shape = a.shape WHERE a.id >= %(base)s
        UNION ALL
        SELECT a.id, 'approve' FROM accounts_account a
        WHERE a.id >= %(base)s AND a.flags ? '{IDENTITY_REVIEW_FLAG}' AND a.shape NOT IN ({with_approve})"""


def _transitions(cursor, p, timings, log) -> None:
    """Every event that moves an applicable step, with its step."""
    transitions = [(t, tr.step, tr.outcome) for t, tr in EVENT_STEP_TRANSITIONS.items()]
    _run(
        cursor,
        timings,
        log,
        "transitions",
        f"""CREATE TEMP TABLE bulk_tr AS
        SELECT e.id, e.account_id, e.occurred_at, e.type, e.event_id, e.error_code, e.request_id,
               e.feature_area, e.reason_code_id, t.step, t.outcome
        FROM {EVENTS} e
        JOIN ({_values(transitions)}) AS t(type, step, outcome) ON t.type = e.type
        JOIN ({_applicable_steps()}) ap ON ap.account_id = e.account_id AND ap.step = t.step
        WHERE e.account_id >= %(base)s""",
        p,
    )
    cursor.execute("CREATE INDEX ON bulk_tr (account_id, step, outcome, occurred_at, id)")
    cursor.execute("ANALYZE bulk_tr")


def _exceptions(cursor, p, timings, log) -> None:
    # Each failure with a reason code, the first success of its step after it, and its rank
    # among the failures of the same (account, reason).
    _run(
        cursor,
        timings,
        log,
        "failures",
        """CREATE TEMP TABLE bulk_fail AS
        SELECT f.id, f.account_id, f.reason_code_id, f.occurred_at, f.step, r.id AS res_id,
               r.occurred_at AS res_at,
               row_number() OVER (
                   PARTITION BY f.account_id, f.reason_code_id ORDER BY f.occurred_at, f.id
               ) AS rn
        FROM bulk_tr f
        LEFT JOIN LATERAL (
            SELECT s.id, s.occurred_at FROM bulk_tr s
            WHERE s.account_id = f.account_id AND s.step = f.step AND s.outcome = 'succeeded'
              AND (s.occurred_at, s.id) > (f.occurred_at, f.id)
            ORDER BY s.occurred_at, s.id LIMIT 1
        ) r ON true
        WHERE f.outcome = 'failed' AND f.reason_code_id IS NOT NULL""",
    )
    # A failure opens an exception unless the (account, reason)'s last one is still
    # unresolved when it happens; then it joins that one, and its own step's success
    # resolves it too.
    _run(
        cursor,
        timings,
        log,
        "exception chains",
        """CREATE TEMP TABLE bulk_walk AS
        WITH RECURSIVE chain AS (
            SELECT f.id, f.account_id, f.reason_code_id, f.rn, f.id AS opener, f.res_id, f.res_at
            FROM bulk_fail f WHERE f.rn = 1
          UNION ALL
            SELECT f.id, f.account_id, f.reason_code_id, f.rn,
                   CASE WHEN m.joins THEN c.opener ELSE f.id END,
                   CASE WHEN m.joins AND NOT m.own_first THEN c.res_id ELSE f.res_id END,
                   CASE WHEN m.joins AND NOT m.own_first THEN c.res_at ELSE f.res_at END
            FROM chain c
            JOIN bulk_fail f ON f.account_id = c.account_id AND f.reason_code_id = c.reason_code_id
                             AND f.rn = c.rn + 1
            CROSS JOIN LATERAL (
                SELECT (c.res_id IS NULL OR (f.occurred_at, f.id) < (c.res_at, c.res_id)) AS joins,
                       (f.res_id IS NOT NULL
                        AND (c.res_id IS NULL OR (f.res_at, f.res_id) < (c.res_at, c.res_id))) AS own_first
            ) m
        )
        SELECT id, opener, rn, res_id FROM chain""",
    )
    cursor.execute(
        "CREATE TEMP TABLE bulk_chain AS "
        "SELECT DISTINCT ON (opener) opener, res_id FROM bulk_walk ORDER BY opener, rn DESC"
    )
    _insert_exceptions(cursor, p, timings, log)


def _target_minutes() -> str:
    """``accounts.rules.response_target_minutes`` as SQL over rc (reason), a and ch."""
    shape_max = _values([(code, shape.max_response_minutes) for code, shape in SHAPES.items()])
    return (
        "least(rc.target_response_minutes, "
        f"(SELECT m FROM ({shape_max}) AS sm(shape, m) WHERE sm.shape = a.shape), "
        "CASE WHEN ch.support_sla_minutes > 0 THEN ch.support_sla_minutes END)"
    )


_RESOLVED_NOTE = (
    "'Resolved automatically: ' || r.type || ' (' || r.event_id || ') at ' || "
    "to_char(r.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC.'"
)
_EXCEPTION_COLUMNS = (
    "status, owner_team, target_response_minutes, respond_by, opened_at, resolved_at, resolution_note, "
    "summary, evidence, account_id, opened_by_event_id, reason_code_id, resolved_by_id"
)


def _insert_exceptions(cursor, p, timings, log) -> None:
    minutes = _target_minutes()
    _run(
        cursor,
        timings,
        log,
        "failure exceptions",
        f"""INSERT INTO accounts_opsexception ({_EXCEPTION_COLUMNS})
        SELECT CASE WHEN r.id IS NULL THEN 'open' ELSE 'resolved' END, rc.owner_team, {minutes},
               f.occurred_at + {minutes} * interval '1 minute', f.occurred_at,
               CASE WHEN r.id IS NOT NULL THEN greatest(r.occurred_at, f.occurred_at) END,
               coalesce({_RESOLVED_NOTE}, ''),
               left(f.type || CASE WHEN f.error_code <> '' THEN ' (' || f.error_code || ')' ELSE '' END, 300),
               jsonb_build_object('event_id', f.event_id, 'error_code', f.error_code,
                                  'request_id', f.request_id, 'feature_area', f.feature_area),
               f.account_id, f.id, f.reason_code_id, CASE WHEN r.id IS NOT NULL THEN %(actor)s END
        FROM bulk_chain c
        JOIN bulk_tr f ON f.id = c.opener
        JOIN accounts_reasoncode rc ON rc.id = f.reason_code_id
        JOIN accounts_account a ON a.id = f.account_id
        JOIN accounts_channel ch ON ch.id = a.channel_id
        LEFT JOIN accounts_accountevent r ON r.id = c.res_id""",
        p,
    )
    names = _values([(code, shape.name) for code, shape in SHAPES.items()])
    _run(
        cursor,
        timings,
        log,
        "review exceptions",
        f"""INSERT INTO accounts_opsexception ({_EXCEPTION_COLUMNS})
        SELECT CASE WHEN r.id IS NULL THEN 'open' ELSE 'resolved' END, rc.owner_team, {minutes},
               a.signed_up_at + {minutes} * interval '1 minute', a.signed_up_at,
               CASE WHEN r.id IS NOT NULL THEN greatest(r.occurred_at, a.signed_up_at) END,
               coalesce({_RESOLVED_NOTE}, ''),
               left(sn.name || ' signup awaiting review', 300),
               jsonb_build_object('flags', a.flags, 'shape', a.shape),
               a.id, NULL, rc.id, CASE WHEN r.id IS NOT NULL THEN %(actor)s END
        FROM ({_applicable_steps()}) ps
        JOIN accounts_account a ON a.id = ps.account_id
        JOIN accounts_channel ch ON ch.id = a.channel_id
        JOIN ({names}) AS sn(shape, name) ON sn.shape = a.shape
        JOIN accounts_reasoncode rc ON rc.code = CASE WHEN a.flags ? '{IDENTITY_REVIEW_FLAG}'
             THEN '{REVIEW_REASON_IDENTITY}' ELSE '{REVIEW_REASON_ENTERPRISE}' END
        LEFT JOIN LATERAL (
            SELECT s.id, s.type, s.event_id, s.occurred_at FROM bulk_tr s
            WHERE s.account_id = ps.account_id AND s.step = 'approve' AND s.outcome = 'succeeded'
            ORDER BY s.occurred_at, s.id LIMIT 1
        ) r ON true
        WHERE ps.step = 'approve'""",
        p,
    )


def _steps(cursor, p, timings, log) -> None:
    """Each applicable step as its last transition left it: status, time, event, and what
    blocks it (the exception of its last failure after its last success; for an approval
    still awaited, the review)."""
    statuses = _values(list(_OUTCOME_STATUS.items()))
    _run(
        cursor,
        timings,
        log,
        "steps",
        f"""INSERT INTO accounts_provisioningstep
            (account_id, step, status, status_at, last_event_id, blocking_exception_id, updated_at)
        SELECT ap.account_id, ap.step, coalesce(st.status, 'pending'), x.occurred_at, x.id,
               coalesce(fb.exception_id, rv.id), now()
        FROM ({_applicable_steps()}) ap
        LEFT JOIN (SELECT DISTINCT ON (account_id, step) account_id, step, id, occurred_at, outcome
                   FROM bulk_tr ORDER BY account_id, step, occurred_at DESC, id DESC) x
               ON x.account_id = ap.account_id AND x.step = ap.step
        LEFT JOIN ({statuses}) AS st(outcome, status) ON st.outcome = x.outcome
        LEFT JOIN (
            SELECT DISTINCT ON (f.account_id, f.step) f.account_id, f.step, e.id AS exception_id
            FROM bulk_fail f
            JOIN bulk_walk w ON w.id = f.id
            JOIN accounts_opsexception e ON e.opened_by_event_id = w.opener
            WHERE NOT EXISTS (
                SELECT 1 FROM bulk_tr s WHERE s.account_id = f.account_id AND s.step = f.step
                  AND s.outcome = 'succeeded' AND (s.occurred_at, s.id) > (f.occurred_at, f.id))
            ORDER BY f.account_id, f.step, f.occurred_at DESC, f.id DESC
        ) fb ON fb.account_id = ap.account_id AND fb.step = ap.step
        LEFT JOIN (
            SELECT e.id, e.account_id FROM accounts_opsexception e
            JOIN accounts_reasoncode rc ON rc.id = e.reason_code_id
            WHERE e.account_id >= %(base)s AND e.opened_by_event_id IS NULL AND e.status <> 'resolved'
              AND rc.code IN ('{REVIEW_REASON_IDENTITY}', '{REVIEW_REASON_ENTERPRISE}')
        ) rv ON ap.step = 'approve' AND rv.account_id = ap.account_id""",
        p,
    )


def _activation(cursor, p, timings, log) -> None:
    """``activated_at`` (the latest first occurrence of each required type within the
    window) and the lifecycle stage, in one pass over the new accounts."""
    required = _values(
        [
            (code, t, shape.activation.window, len(shape.activation.required_event_types))
            for code, shape in SHAPES.items()
            for t in shape.activation.required_event_types
        ]
    )
    _run(
        cursor,
        timings,
        log,
        "activation and lifecycle",
        f"""UPDATE accounts_account a
        SET activated_at = x.activated_at,
            lifecycle_stage = CASE WHEN c.account_id IS NOT NULL THEN 'churned'
                                   WHEN x.activated_at IS NOT NULL THEN 'activated'
                                   WHEN m.account_id IS NOT NULL THEN 'onboarding'
                                   ELSE 'signed_up' END
        FROM accounts_account b
        LEFT JOIN (
            SELECT account_id, max(first) AS activated_at FROM (
                SELECT e.account_id, e.type, min(e.occurred_at) AS first, min(r.n) AS n
                FROM {EVENTS} e
                JOIN accounts_account a ON a.id = e.account_id
                JOIN ({required}) AS r(shape, type, win, n) ON r.shape = a.shape AND r.type = e.type
                WHERE e.account_id >= %(base)s AND e.occurred_at <= a.signed_up_at + r.win
                GROUP BY e.account_id, e.type
            ) firsts GROUP BY account_id HAVING count(*) = min(n)
        ) x ON x.account_id = b.id
        LEFT JOIN (SELECT DISTINCT account_id FROM {EVENTS}
                   WHERE type = 'subscription.cancelled' AND account_id >= %(base)s) c ON c.account_id = b.id
        LEFT JOIN (SELECT DISTINCT account_id FROM bulk_tr) m ON m.account_id = b.id
        WHERE a.id = b.id AND b.id >= %(base)s""",
        p,
    )


def _staff_work(cursor, p, timings, log) -> None:
    """``accounts.demo._apply_staff_work`` with the plan's draws (the staging table)."""
    minutes = _target_minutes()
    _run(
        cursor,
        timings,
        log,
        "staff: exceptions raised by hand",
        f"""INSERT INTO accounts_opsexception ({_EXCEPTION_COLUMNS})
        SELECT 'open', rc.owner_team, {minutes}, now() + {minutes} * interval '1 minute', now(), NULL, '',
               'Raised by support: ' || rc.code, '{{}}'::jsonb, a.id, NULL, rc.id, NULL
        FROM {STAFF_TABLE} s JOIN accounts_reasoncode rc ON rc.code = s.code
        JOIN accounts_account a ON a.id = s.account_id JOIN accounts_channel ch ON ch.id = a.channel_id
        WHERE s.manual""",
    )
    notes = _values(list(demo_staff.RESOLUTION_NOTES.items()))
    _run(
        cursor,
        timings,
        log,
        "staff: resolutions",
        f"""UPDATE accounts_opsexception e
        SET status = 'resolved', resolved_at = greatest(now(), e.opened_at),
            first_response_at = coalesce(e.first_response_at, now()), resolved_by_id = %(actor)s,
            resolution_note = n.note
        FROM {STAFF_TABLE} s, accounts_reasoncode rc, ({notes}) AS n(code, note)
        WHERE e.account_id = s.account_id AND rc.id = e.reason_code_id AND rc.code = s.code
          AND n.code = s.code AND e.status <> 'resolved'
          AND s.roll < least(0.5::float8, 0.05::float8
                             * floor(extract(epoch FROM (%(anchor)s - e.opened_at)) / 86400)::float8)""",
        p,
    )
    _run(
        cursor,
        timings,
        log,
        "staff: status changes",
        f"""UPDATE accounts_opsexception e
        SET status = s.status, first_response_at = coalesce(e.first_response_at, now())
        FROM {STAFF_TABLE} s, accounts_reasoncode rc
        WHERE e.account_id = s.account_id AND rc.id = e.reason_code_id AND rc.code = s.code
          AND e.status <> 'resolved' AND s.roll < {demo_staff.STAFF_WORKED_BELOW} AND s.status <> 'open'""",
    )
