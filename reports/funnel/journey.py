"""The journey of each account as SQL (the definition is in ``selectors``' docstring): per
account, when it first reached each journey step (``t0`` .. ``t9``, in ``JOURNEY_STEPS``
order), the gap in hours of each step from the latest earlier step it had reached by then
(``g1`` .. ``g9``), its first staff touch (``touch``) and the step that touch is put at
(``touch_step``).

The first times and the touch come from the raw tables (``firsts_sql``: one pass over each
source table, never a query per account), or as ``reports.AccountFacts`` stores them
(``stored_sql``; ``reports.facts`` keeps them current and rebuilds them with ``firsts_sql``).
The gaps and the touch's step are computed from either by ``derived_sql``. The funnel reads the
stored rows of a cohort, the timeline the raw rows of one account.
"""

from functools import partial

from accounts.choices import ProvisioningStepName as Step
from accounts.models import AccountEvent, OpsException, StripeEvent
from accounts.shapes import JOURNEY_STEPS, SHAPES
from opsconsole.models import ActionRun
from reports import rawsql
from routing.models import Escalation, Ticket

CREATED, APPROVED, WORKSPACE, SETUP, PLAN, INVITED, ACTIVATION, SUPPORT, ESCALATION, CHANGE = JOURNEY_STEPS
STEP_EVENTS = {
    APPROVED: ("account.approved", "identity.verified"),
    WORKSPACE: ("workspace.provisioned",),
    SETUP: ("import.succeeded", "integration.connected"),
    PLAN: ("plan.assigned",),
    INVITED: ("invite.sent", "invite.accepted"),
    CHANGE: ("subscription.cancelled",),
}
# The provisioning steps that make a journey step apply to a shape (others apply to every shape).
STEP_APPLIES = {
    APPROVED: {Step.APPROVE},
    WORKSPACE: {Step.CREATE_WORKSPACE},
    SETUP: {Step.CONNECT_INTEGRATION, Step.IMPORT_DATA},
    PLAN: {Step.ASSIGN_PLAN},
    INVITED: {Step.INVITE_ADMIN},
}
# Where a first staff touch can land, in order.
TOUCH_STEPS = (APPROVED, WORKSPACE, SETUP, PLAN, INVITED, ACTIVATION, SUPPORT)
CHANGE_STRIPE_TYPES = ("charge.refunded", "charge.dispute.created")
# Where ``reports.AccountFacts`` keeps the time each step was first reached (created and
# activation are the facts' copies of the account's), and the first staff touch.
STEP_FIELDS = {
    CREATED: "signed_up_at",
    APPROVED: "approved_at",
    WORKSPACE: "workspace_at",
    SETUP: "setup_at",
    PLAN: "plan_at",
    INVITED: "invited_at",
    ACTIVATION: "activated_at",
    SUPPORT: "first_ticket_at",
    ESCALATION: "first_escalation_at",
    CHANGE: "changed_at",
}
TOUCH_FIELD = "first_touch_at"


def column(step: str) -> str:
    """The column of the time ``step`` was reached."""
    return f"t{JOURNEY_STEPS.index(step)}"


def gap_column(step: str) -> str:
    return f"g{JOURNEY_STEPS.index(step)}"


def applies_sql(step: str) -> str:
    """Whether ``step`` applies to the account's shape (``j.shape``), as a condition: a step
    of ``STEP_APPLIES`` applies to the shapes with one of its provisioning steps, and to a
    shape that is not defined; every other step applies to all."""
    needed = STEP_APPLIES.get(step)
    if needed is None:
        return "1 = 1"
    having = [code for code, shape in SHAPES.items() if needed & set(shape.steps)]
    known = rawsql.literals(SHAPES)
    return f"(j.shape IN ({rawsql.literals(having) or 'NULL'}) OR j.shape NOT IN ({known}))"


def _joined(lateral: bool, alias: str, model, columns: str, *, where: str = "", join: str = "") -> str:
    """``alias``: ``columns`` (aggregates over the account's rows ``x`` of ``model``), joined to
    each account ``a``. ``lateral`` (PostgreSQL, a few accounts): each account's rows read by
    its index (a LATERAL subquery: a merge or hash join would read the tables whole); otherwise
    one grouped pass over the table joined to the accounts."""
    table = model._meta.db_table
    if lateral:
        condition = f"x.account_id = a.id{' AND ' + where if where else ''}"
        return f"LEFT JOIN LATERAL (SELECT {columns} FROM {table} x {join} WHERE {condition}) {alias} ON TRUE"
    return (
        f"LEFT JOIN (SELECT x.account_id, {columns} FROM {table} x JOIN a ON a.id = x.account_id {join} "
        f"{'WHERE ' + where if where else ''} GROUP BY x.account_id) {alias} ON {alias}.account_id = a.id"
    )


def firsts_sql(accounts, *, grouped: bool = False) -> tuple[str, list, str]:
    """(sql, params, database) of each account of queryset ``accounts`` with the time it first
    reached each step and its first staff touch, from the raw tables: rows ``(id, shape, t0 ..
    t9, touch)``. What ``reports.facts`` stores per account (``STEP_FIELDS``, ``TOUCH_FIELD``).

    ``grouped``: one grouped pass over each table on PostgreSQL too (a rebuild of every
    account); otherwise each account's rows are read by its index (a cohort, one account)."""
    using = accounts.db
    a_sql, params = rawsql.compiled(accounts.order_by().values("pk", "shape", "signed_up_at", "activated_at"))
    by_step = [
        f"MIN(CASE WHEN x.type IN ({rawsql.literals(types)}) THEN x.occurred_at END) AS {column(step)}"
        for step, types in STEP_EVENTS.items()
    ]
    all_types = rawsql.literals(t for types in STEP_EVENTS.values() for t in types)
    joined = partial(_joined, not grouped and rawsql.vendor(using) == "postgresql")
    sources = [
        joined("ev", AccountEvent, ", ".join(by_step), where=f"x.type IN ({all_types})"),
        joined("tk", Ticket, "MIN(x.created_at) AS first"),
        joined("es", Escalation, "MIN(x.created_at) AS first"),
        joined(
            "sc",
            StripeEvent,
            "MIN(x.created) AS first",
            where=f"x.type IN ({rawsql.literals(CHANGE_STRIPE_TYPES)})",
        ),
        joined("ox", OpsException, "MIN(x.opened_at) AS first"),
        joined(
            "ar",
            ActionRun,
            "MIN(x.created_at) AS first",
            join="JOIN auth_user u ON u.id = x.actor_id",
            where=rawsql.is_person_sql("u"),
        ),
    ]
    ev = {step: f"ev.{column(step)}" for step in STEP_EVENTS}
    sql = f"""
    WITH a (id, shape, signed_up_at, activated_at) AS ({a_sql})
    SELECT a.id, a.shape, a.signed_up_at AS {column(CREATED)},
        {", ".join(f"{ev[s]} AS {column(s)}" for s in (APPROVED, WORKSPACE, SETUP, PLAN, INVITED))},
        a.activated_at AS {column(ACTIVATION)}, tk.first AS {column(SUPPORT)},
        es.first AS {column(ESCALATION)},
        {rawsql.least_present(ev[CHANGE], "sc.first")} AS {column(CHANGE)},
        {rawsql.least_present("ox.first", "tk.first", "ar.first")} AS touch
    FROM a {" ".join(sources)}"""
    return sql, params, using


def derived_sql(using: str, j_sql: str) -> str:
    """Over rows ``j`` of ``firsts_sql``'s columns (the statement ``j_sql``): each row with the
    gap in hours of each step (``g1`` .. ``g9``) and the step of its first staff touch
    (``touch_step``)."""
    t = {step: f"j.{column(step)}" for step in JOURNEY_STEPS}
    gaps = []
    for index, step in enumerate(JOURNEY_STEPS[1:], start=1):
        when = t[step]
        # The latest earlier step reached by then; created always is (the step is not before it).
        earlier = [t[CREATED]] + [
            f"CASE WHEN {t[s]} <= {when} THEN {t[s]} ELSE {t[CREATED]} END" for s in JOURNEY_STEPS[1:index]
        ]
        previous = rawsql.greatest(using, *earlier) if len(earlier) > 1 else earlier[0]
        gaps.append(
            f"CASE WHEN {when} IS NULL OR {when} < {t[CREATED]} THEN NULL "
            f"ELSE {rawsql.hours_between(using, when, previous)} END AS {gap_column(step)}"
        )
    touch_cases = " ".join(
        f"WHEN {applies_sql(step)} AND ({t[step]} IS NULL OR {t[step]} > j.touch) THEN {rawsql.literal(step)}"
        for step in TOUCH_STEPS
    )
    touch_step = f"CASE WHEN j.touch IS NULL THEN NULL {touch_cases} ELSE {rawsql.literal(SUPPORT)} END"
    return f"SELECT j.*, {', '.join(gaps)}, {touch_step} AS touch_step FROM ({j_sql}) j"


def stored_sql(facts) -> tuple[str, list, str]:
    """``firsts_sql``'s rows as the facts rows of queryset ``facts`` (``reports.AccountFacts``)
    store them: one pass over the facts, no raw table read."""
    fields = [STEP_FIELDS[step] for step in JOURNEY_STEPS]
    sql, params = rawsql.compiled(facts.order_by().values("account_id", "shape", *fields, TOUCH_FIELD))
    names = ["id", "shape", *(column(step) for step in JOURNEY_STEPS), "touch"]
    return f"WITH f ({', '.join(names)}) AS ({sql}) SELECT * FROM f", params, facts.db


def journey_sql(accounts) -> tuple[str, list, str]:
    """(sql, params, database) of the journey rows of the accounts of queryset ``accounts``,
    computed from the raw tables (a timeline's account; the funnel reads the stored firsts)."""
    sql, params, using = firsts_sql(accounts)
    return derived_sql(using, sql), params, using
