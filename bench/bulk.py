"""``generate_data --bulk``: the same accounts as the service path, loaded with COPY.

Each account is planned by ``bench.plans`` exactly as the service path plans it (same seed,
same draws). What the product would send (the account row, its timeline, its tickets, and
what staff do with its exceptions) goes in with PostgreSQL ``COPY`` from worker processes.
Everything the services derive from it (provisioning steps, exceptions and their resolution,
activation, lifecycle, the staff's work and the reports' facts) is then computed by set-based
SQL over the loaded rows (``bench.bulk_sql``), never row by row in Python.

Benchmark rows only: no history rows are written (the services write one per change), and
tickets are not routed by the rules (a queue and category are drawn; no routing decision).
"""

import json
import multiprocessing
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, connections, transaction
from django.utils import timezone

from accounts import demo
from accounts.choices import EventSource
from accounts.eventflags import is_before_signup, is_late
from accounts.models import Account, AccountEvent, Channel, ReasonCode
from accounts.rules import choose_onboarding_path
from accounts.services.events import SYSTEM_EVENT_ID_PREFIX
from accounts.shapes import EVENT_STEP_TRANSITIONS, shape_for
from bench import bulk_sql, plans
from bench.bulk_indexes import drop_secondary_indexes
from bench.bulk_sql import STAFF_TABLE
from routing.choices import Category, Severity, TicketStatus
from routing.models import Queue, Ticket

# Rows per COPY flush from a worker (bounded memory).
FLUSH_ACCOUNTS = 2000


@dataclass(frozen=True)
class Job:
    seed: int
    prefix: str
    days: int
    anchor: datetime
    usage: int
    tickets: bool
    base_id: int
    indexes: tuple[int, ...]
    actor_id: int


def _defaults(model, supplied: set[str]) -> dict[str, object]:
    """Each concrete column not supplied, with its default as the database stores it."""
    result = {}
    for f in model._meta.concrete_fields:
        if f.primary_key or f.column in supplied:
            continue
        value = f.get_default()
        if value is None and not f.null:
            raise ValueError(f"{model.__name__}.{f.name} has no default; the bulk loader must supply it")
        result[f.column] = json.dumps(value) if f.get_internal_type() == "JSONField" else value
    return result


class _Catalogue:
    """What every row needs from the database, read once per worker."""

    def __init__(self):
        self.channels = {c.code: c for c in Channel.objects.all()}
        self.reasons = dict(ReasonCode.objects.values_list("code", "pk"))
        self.queues = list(Queue.objects.order_by("pk").values_list("pk", flat=True))
        self.paths = {}

    def path(self, plan) -> tuple[str, str]:
        key = (plan.shape, plan.channel_code, tuple(plan.flags))
        if key not in self.paths:
            channel = self.channels[plan.channel_code]
            self.paths[key] = choose_onboarding_path(shape_code=plan.shape, channel=channel, flags=plan.flags)
        return self.paths[key]

    def reason_of(self, event) -> int | None:
        """``accounts.services.events._reason_codes_for``: the error code if known, else the
        step's default (a lookup in the catalogue, not derived state)."""
        transition = EVENT_STEP_TRANSITIONS.get(event.type)
        if not (
            event.type.endswith((".failed", ".expired")) or (transition and transition.outcome == "failed")
        ):
            return None
        default = transition.default_reason_code if transition else None
        return self.reasons.get(event.error_code) or self.reasons.get(default)


ACCOUNT_COLUMNS = (
    "id",
    "external_id",
    "name",
    "admin_email",
    "shape",
    "plan",
    "channel_id",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "partner",
    "flags",
    "onboarding_path",
    "onboarding_path_reason",
    "signed_up_at",
    "lifecycle_stage",
    "created_at",
    "updated_at",
)
EVENT_COLUMNS = (
    "event_id",
    "account_id",
    "channel_id",
    "source",
    "type",
    "occurred_at",
    "recorded_at",
    "request_id",
    "error_code",
    "feature_area",
    "reason_code_id",
    "payload",
    "recorded_by_id",
    "intake_id",
    "before_signup",
    "late",
)
TICKET_COLUMNS = (
    "source",
    "external_id",
    "requester_email",
    "subject",
    "body",
    "account_id",
    "account_match",
    "error_code",
    "request_id",
    "feature_area",
    "context",
    "category",
    "severity",
    "queue_id",
    "status",
    "final_category",
    "created_at",
    "owner_assigned_at",
    "first_response_at",
    "solved_at",
    "owner_due_at",
    "first_response_due_at",
    "resolution_due_at",
)
STAFF_COLUMNS = ("account_id", "code", "roll", "status", "manual")

_TICKET_CATEGORY = {
    "imports": Category.PROVISIONING,
    "integrations": Category.INTEGRATION_FAILURE,
    "billing": Category.BILLING,
    "reports": Category.PRODUCT_DEFECT,
    "": Category.DOCUMENTATION,
}


def _copy(cursor, table: str, columns: tuple[str, ...], defaults: dict, rows: list[tuple]) -> None:
    names = [*columns, *defaults]
    tail = tuple(defaults.values())
    with cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row + tail)


def _load_in_worker(job: Job) -> tuple[int, int, int]:
    try:
        return _load(job)
    finally:
        connections.close_all()


def _load(job: Job) -> tuple[int, int, int]:
    """Plan and COPY the accounts ``job.indexes``; returns (accounts, events, tickets)."""
    catalogue = _Catalogue()
    now = timezone.now()
    account_defaults = _defaults(Account, set(ACCOUNT_COLUMNS) | {"id"})
    event_defaults = _defaults(AccountEvent, set(EVENT_COLUMNS))
    ticket_defaults = _defaults(Ticket, set(TICKET_COLUMNS))
    totals = [0, 0, 0]
    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor  # psycopg's, for COPY
        # Referential integrity holds by construction; skip the per-row FK triggers.
        cursor.execute("SET session_replication_role = replica")
        for start in range(0, len(job.indexes), FLUSH_ACCOUNTS):
            accounts, events, tickets, staff = [], [], [], []
            for position in job.indexes[start : start + FLUSH_ACCOUNTS]:
                _rows_of(job, catalogue, now, position, accounts, events, tickets, staff)
            with transaction.atomic():
                _copy(cursor, Account._meta.db_table, ACCOUNT_COLUMNS, account_defaults, accounts)
                _copy(cursor, AccountEvent._meta.db_table, EVENT_COLUMNS, event_defaults, events)
                _copy(cursor, Ticket._meta.db_table, TICKET_COLUMNS, ticket_defaults, tickets)
                _copy(cursor, STAFF_TABLE, STAFF_COLUMNS, {}, staff)
            totals[0] += len(accounts)
            totals[1] += len(events)
            totals[2] += len(tickets)
        cursor.execute("SET session_replication_role = DEFAULT")
    return tuple(totals)


def _rows_of(job: Job, catalogue: _Catalogue, now, position, accounts, events, tickets, staff) -> None:
    index, account_id = position
    plan = plans.plan_account(
        seed=job.seed, index=index, anchor=job.anchor, prefix=job.prefix, days=job.days, usage=job.usage
    )
    channel = catalogue.channels[plan.channel_code]
    path, path_reason = catalogue.path(plan)
    accounts.append(
        (
            account_id,
            plan.external_id,
            plan.name,
            plan.admin_email,
            plan.shape,
            shape_for(plan.shape).default_plan,
            channel.pk,
            plan.utm_source,
            plan.utm_medium,
            plan.utm_campaign,
            channel.partner_name,
            json.dumps(plan.flags),
            path,
            path_reason,
            plan.signed_up_at,
            "signed_up",
            now,
            now,
        )
    )
    intake = str(uuid.uuid4())
    created = f"{SYSTEM_EVENT_ID_PREFIX}account.created:{plan.external_id}"
    events.append(
        (created, account_id, channel.pk, EventSource.SYSTEM, "account.created", plan.signed_up_at, now)
        + ("", "", "", None, "{}", job.actor_id, intake, False, False)
    )
    intake = str(uuid.uuid4())
    for e in plan.events:
        recorded_at = min(now, e.occurred_at + plans.delivery_delay(e.event_id))
        events.append(
            (e.event_id, account_id, channel.pk, e.source, e.type, e.occurred_at, recorded_at, e.request_id)
            + (
                e.error_code,
                e.feature_area,
                catalogue.reason_of(e),
                json.dumps(e.payload) if e.payload else "{}",
                job.actor_id,
                intake,
                # The intake's data-quality flags (accounts/eventflags.py), from the same times.
                is_before_signup(source=e.source, occurred_at=e.occurred_at, signed_up_at=plan.signed_up_at),
                is_late(source=e.source, occurred_at=e.occurred_at, recorded_at=recorded_at),
            )
        )
    manual = set(plan.manual_exceptions)
    for code, (roll, status) in plan.staff_draws.items():
        staff.append((account_id, code, roll, status, code in manual))
    if job.tickets:
        for n, t in enumerate(plans.plan_tickets(seed=job.seed, index=index, plan=plan, anchor=job.anchor)):
            tickets.append(_ticket_row(t, account_id, catalogue.queues[(index + n) % len(catalogue.queues)]))


def _ticket_row(t: plans.TicketPlan, account_id: int, queue_id: int) -> tuple:
    category = _TICKET_CATEGORY[t.feature_area]
    at = t.received_at
    context = {"subject": t.subject, "account_match": "external_id", "error_code": t.error_code}
    return (
        plans.TICKET_SOURCE,
        t.external_id,
        t.requester_email,
        t.subject,
        t.body,
        account_id,
        "external_id",
        t.error_code,
        "",
        t.feature_area,
        json.dumps(context),
        category,
        Severity.SEV3,
        queue_id,
        TicketStatus.SOLVED,
        category,
        at,
        at,
        at + bulk_sql.TICKET_FIRST_RESPONSE,
        at + bulk_sql.TICKET_SOLVED,
        at + bulk_sql.TICKET_FIRST_RESPONSE,
        at + bulk_sql.TICKET_FIRST_RESPONSE,
        at + bulk_sql.TICKET_SOLVED,
    )


@dataclass
class BulkResult:
    created: int
    skipped: int
    events: int
    tickets: int
    timings: dict[str, float]


def bulk_generate(
    *,
    seed: int,
    count: int,
    anchor: datetime,
    actor,
    prefix: str,
    days: int,
    usage: int = plans.USAGE,
    tickets: bool = True,
    workers: int = 2,
    log=print,
    drop_indexes_from: int = bulk_sql.DROP_INDEXES_FROM,
) -> BulkResult:
    """Load accounts ``0 .. count-1`` that do not exist yet; idempotent like the service path."""
    timings = {}
    started = time.perf_counter()
    demo.ensure_channels(actor=actor)
    existing = set(
        Account.objects.filter(external_id__startswith=f"{prefix}_").values_list("external_id", flat=True)
    )
    wanted = [i for i in range(count) if f"{prefix}_{i:06d}" not in existing]
    if not wanted:
        return BulkResult(0, len(existing), 0, 0, timings)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {Account._meta.db_table}")
        (base_id,) = cursor.fetchone()
        cursor.execute(
            f"CREATE UNLOGGED TABLE IF NOT EXISTS {STAFF_TABLE} "
            "(account_id bigint, code text, roll float8, status text, manual boolean)"
        )
        cursor.execute(f"TRUNCATE {STAFF_TABLE}")
    # Indexes are rebuilt on connections of their own, which could not see into (and would
    # wait forever on the locks of) a caller's open transaction: inside one they are kept.
    big = len(wanted) >= drop_indexes_from and not connection.in_atomic_block
    dropped = drop_secondary_indexes(bulk_sql.LOADED_TABLES) if big else []
    positions = [(index, base_id + n) for n, index in enumerate(wanted)]
    jobs = [
        Job(seed, prefix, days, anchor, usage, tickets, base_id, tuple(positions[k::workers]), actor.pk)
        for k in range(workers)
    ]
    if workers > 1:
        connections.close_all()  # a forked child must not share the parent's connection
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_load_in_worker, jobs)
    else:
        parts = [_load(jobs[0])]
    created, events, ticket_count = (sum(p[i] for p in parts) for i in range(3))
    timings["plan and COPY"] = time.perf_counter() - started
    log(
        f"bulk: {created} accounts, {events} events, {ticket_count} tickets copied "
        f"in {timings['plan and COPY']:.0f} s"
    )
    bulk_sql.derive(
        base_id=base_id, anchor=anchor, actor_id=actor.pk, dropped=dropped, timings=timings, log=log
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAFF_TABLE}")
    return BulkResult(created, len(existing), events, ticket_count, timings)
