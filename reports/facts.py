"""Per-account facts (``reports.AccountFacts``), kept current and rebuilt.

Kept current: the lower layers announce each write by a signal sent inside the writing
transaction (accounts: a signup, new timeline rows, a resolved exception; routing: a ticket,
an escalation; the framework: a finished action run, a bulk update of rows; Django: a saved
account, a new exception, a new action run, a saved Stripe event), and the receivers here move
the account's fact row with one ``UPDATE ... WHERE account_id = <pk>`` computed in SQL
(``x = x + n``, the earlier of two times), so concurrent writers never lose each other's change
and nothing is read first. A late event, ticket or resolution moves the facts of an old cohort
like any other. The journey's first times (the step-gap funnel's, ``reports.funnel``) only
ever move earlier, whatever order rows arrive in.

Rebuilt: ``facts_rebuild()`` (``manage.py rebuild_account_facts``) recomputes every row from
the raw tables in one ``INSERT ... SELECT ... ON CONFLICT DO UPDATE`` (and the namesake flags,
``reports.namesakes``, in one window over the accounts). The SELECT is built by
the ORM from the same rules, joined to the journey's first times as
``reports.funnel.journey.firsts_sql`` reads them, so it runs on PostgreSQL and SQLite alike.
Run it after a bulk load that bypassed the services, or after changing a declared handling
figure.
"""

from datetime import datetime

from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from accounts.models import Account, AccountEvent, OpsException
from accounts.namesakes import candidate_q
from opsconsole.actions.registry import DEFAULT_HANDLING_MINUTES, all_actions, handling_minutes_of
from opsconsole.history import SERVICE_USER_PREFIX, SYSTEM_USER_PREFIX
from opsconsole.models import ActionRun, ActionStatus, ServiceToken
from reports.funnel.journey import (
    CHANGE,
    CHANGE_STRIPE_TYPES,
    ESCALATION,
    STEP_EVENTS,
    STEP_FIELDS,
    SUPPORT,
    TOUCH_FIELD,
    column,
    firsts_sql,
)
from reports.metrics.definitions import (
    ACTIVATION_24H,
    ESCALATIONS_WINDOW,
    FAILURE_EVENT_TYPES,
    FAILURE_WINDOW,
    MANUAL_MINUTES_WINDOW,
    RETENTION_EVENT_TYPES,
    RETENTION_FROM,
    RETENTION_TO,
    TICKETS_WINDOW,
    shape_windows,
)
from reports.models import AccountFacts
from reports.namesakes import namesake_keys, namesakes_lock, namesakes_rebuild, namesakes_recount
from routing.choices import EscalationKind
from routing.models import Escalation, Ticket

# The runs whose effect ran count their handling minutes: succeeded, failed (a person did the
# work, and it broke) and reversed (it succeeded; the reversal is a run of its own). A refused
# run never ran (a precondition, a rejected or expired approval: the work happens in the run
# that follows), and one awaiting approval has not run yet.
COUNTED_RUN_STATUSES = (ActionStatus.SUCCEEDED, ActionStatus.FAILED, ActionStatus.REVERSED)
_NOT_PEOPLE = (SYSTEM_USER_PREFIX, SERVICE_USER_PREFIX)


# --- Who counts as a person ---------------------------------------------------------------


def is_person(user) -> bool:
    """A person, not a system user (``system:*``) nor a service token's user (``service:*``,
    or any user holding a token)."""
    if user is None or user.get_username().startswith(_NOT_PEOPLE):
        return False
    return not ServiceToken.objects.filter(user_id=user.pk).exists()


def person_q(path: str) -> Q:
    """``is_person`` for the user at ``path``, as a condition."""
    return (
        ~Q(**{f"{path}__username__startswith": SYSTEM_USER_PREFIX})
        & ~Q(**{f"{path}__username__startswith": SERVICE_USER_PREFIX})
        & Q(**{f"{path}__service_token__isnull": True})
    )


# --- Receivers (connected in ReportsConfig.ready) -----------------------------------------


def _facts(account_id: int) -> QuerySet[AccountFacts]:
    return AccountFacts.objects.filter(pk=account_id)


def _earliest(field: str, when: datetime) -> Case:
    """``field`` moved back to ``when`` if that is earlier (or ``field`` is empty): an update
    that a late, out-of-order write can only move earlier."""
    return Case(When(**{f"{field}__lte": when}, then=F(field)), default=Value(when))


def _add_minutes(account_id: int, minutes: int, *, at: datetime) -> None:
    """Count ``minutes`` of staff time done at ``at`` if that is within the window."""
    if minutes:
        _facts(account_id).filter(signed_up_at__gte=at - MANUAL_MINUTES_WINDOW).update(
            manual_minutes_30d=F("manual_minutes_30d") + minutes
        )


# The account's fields the facts copy, and how each copy is made: from an account in memory
# (a save) and as SQL over the accounts table (a rebuild, a bulk update). Keep the two alike.
MARK_FIELDS = frozenset({"duplicate_of", "duplicate_of_id"})
COPIED_FIELDS = frozenset({"shape", "plan", "mrr_cents", "activated_at", *MARK_FIELDS})


def copies_of(account) -> dict:
    activated_at = account.activated_at
    return {
        "shape": account.shape,
        "plan": account.plan,
        "mrr_cents": account.mrr_cents,
        "activated_at": activated_at,
        "is_duplicate": account.duplicate_of_id is not None,
        "time_to_value": activated_at - account.signed_up_at if activated_at is not None else None,
        "activation_due_at": account.signed_up_at + shape_windows()[account.shape],
        "activated_24h": activated_at is not None and activated_at <= account.signed_up_at + ACTIVATION_24H,
    }


def _flag(condition: Q) -> Case:
    return Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())


def copies_sql() -> dict:
    """``copies_of`` as expressions over an account row."""
    due = [When(shape=code, then=F("signed_up_at") + window) for code, window in shape_windows().items()]
    return {
        "shape": F("shape"),
        "plan": F("plan"),
        "mrr_cents": F("mrr_cents"),
        "activated_at": F("activated_at"),
        "is_duplicate": _flag(Q(duplicate_of__isnull=False)),
        "time_to_value": ExpressionWrapper(
            F("activated_at") - F("signed_up_at"), output_field=DurationField()
        ),
        "activation_due_at": Case(*due, output_field=DateTimeField()),
        "activated_24h": _flag(Q(activated_at__lte=F("signed_up_at") + ACTIVATION_24H)),
    }


def account_created(sender, *, account, **kwargs) -> None:
    AccountFacts.objects.create(
        account_id=account.pk,
        channel_id=account.channel_id,
        signed_up_at=account.signed_up_at,
        **copies_of(account),
    )
    namesakes_recount(namesake_keys([account.pk]), also=[account.pk])


def account_saved(sender, *, instance, created: bool, update_fields=None, **kwargs) -> None:
    """Django's ``post_save`` of an account: a save of a copied field moves the copies (a new
    account's row comes with ``account_created``), with one UPDATE by primary key; a save that
    marks or unmarks the account also recounts its namesakes, their lock taken first."""
    if created or (update_fields is not None and not COPIED_FIELDS.intersection(update_fields)):
        return
    is_duplicate = instance.duplicate_of_id is not None
    may_mark = update_fields is None or bool(MARK_FIELDS.intersection(update_fields))
    moved = may_mark and _facts(instance.pk).exclude(is_duplicate=is_duplicate).exists()  # (un)marked
    keys = namesake_keys([instance.pk]) if moved else set()
    namesakes_lock(keys)
    _facts(instance.pk).update(**copies_of(instance))
    if moved:
        namesakes_recount(keys, also=[instance.pk])


def rows_updated(sender, *, pks, fields, **kwargs) -> None:
    """Accounts written in bulk (``update_rows_with_history``): copy what they now hold."""
    if sender is not Account or not COPIED_FIELDS.intersection(fields):
        return
    marks = bool(MARK_FIELDS.intersection(fields))
    keys = namesake_keys(pks) if marks else set()
    namesakes_lock(keys)
    of_account = Account.objects.filter(pk=OuterRef("account_id"))
    AccountFacts.objects.filter(pk__in=list(pks)).update(
        **{name: Subquery(of_account.annotate(v=expr).values("v")[:1]) for name, expr in copies_sql().items()}
    )
    if marks:
        namesakes_recount(keys, also=pks)


def account_deleting(sender, *, instance, **kwargs) -> None:
    """Django's ``pre_delete`` of an account: its key, read while the row is there, for the
    recount once it is gone (its facts row goes with it)."""
    instance._namesake_keys = namesake_keys([instance.pk])
    namesakes_lock(instance._namesake_keys)


def account_deleted(sender, *, instance, **kwargs) -> None:
    """Django's ``post_delete``: the namesakes of a deleted account may no longer be candidates."""
    namesakes_recount(getattr(instance, "_namesake_keys", set()))


def account_events_recorded(sender, *, account, events, **kwargs) -> None:
    """The earliest failure moves ``first_failure_at`` back; a return in days 23-30 retains;
    the earliest event of a journey step moves that step's first time back."""
    changes = {}
    for step, types in STEP_EVENTS.items():
        reached = [e.occurred_at for e in events if e.type in types]
        if reached:
            changes[STEP_FIELDS[step]] = _earliest(STEP_FIELDS[step], min(reached))
    failures = [e.occurred_at for e in events if e.type in FAILURE_EVENT_TYPES]
    if failures:
        first = min(failures)
        changes["first_failure_at"] = _earliest("first_failure_at", first)
        if first <= account.signed_up_at + FAILURE_WINDOW:
            changes["failed_72h"] = Value(True)
    since, until = account.signed_up_at + RETENTION_FROM, account.signed_up_at + RETENTION_TO
    if any(e.type in RETENTION_EVENT_TYPES and since <= e.occurred_at <= until for e in events):
        changes["retained_30d"] = Value(True)
    if changes:
        _facts(account.pk).update(**changes)


def ticket_created(sender, *, ticket, **kwargs) -> None:
    """A ticket counts within 7 days of signup, and is the journey's support intake and a
    staff touch if it is the account's first."""
    if ticket.account_id is None:
        return
    _facts(ticket.account_id).update(
        tickets_7d=Case(
            When(signed_up_at__gte=ticket.created_at - TICKETS_WINDOW, then=F("tickets_7d") + 1),
            default=F("tickets_7d"),
            output_field=IntegerField(),
        ),
        **{
            STEP_FIELDS[SUPPORT]: _earliest(STEP_FIELDS[SUPPORT], ticket.created_at),
            TOUCH_FIELD: _earliest(TOUCH_FIELD, ticket.created_at),
        },
    )


def escalation_created(sender, *, escalation, **kwargs) -> None:
    """An engineering escalation counts within 30 days of signup; any escalation is the
    journey's escalation step if it is the account's first."""
    changes = {STEP_FIELDS[ESCALATION]: _earliest(STEP_FIELDS[ESCALATION], escalation.created_at)}
    if escalation.kind == EscalationKind.ENGINEERING:
        changes["escalations_30d"] = Case(
            When(signed_up_at__gte=escalation.created_at - ESCALATIONS_WINDOW, then=F("escalations_30d") + 1),
            default=F("escalations_30d"),
            output_field=IntegerField(),
        )
    _facts(escalation.account_id).update(**changes)


def exception_saved(sender, *, instance, created: bool, **kwargs) -> None:
    """Django's ``post_save`` of an exception: a new one may be the first staff touch."""
    if created:
        _facts(instance.account_id).update(**{TOUCH_FIELD: _earliest(TOUCH_FIELD, instance.opened_at)})


def action_run_saved(sender, *, instance, created: bool, **kwargs) -> None:
    """Django's ``post_save`` of an action run: a person's run on an account, whatever becomes
    of it (refused, awaiting approval), may be the first staff touch."""
    if created and instance.account_id is not None and is_person(instance.actor):
        _facts(instance.account_id).update(**{TOUCH_FIELD: _earliest(TOUCH_FIELD, instance.created_at)})


def stripe_event_saved(sender, *, instance, **kwargs) -> None:
    """Django's ``post_save`` of a Stripe event: a refund or dispute processed for an account
    may be its first change."""
    if instance.account_id is not None and instance.type in CHANGE_STRIPE_TYPES:
        field = STEP_FIELDS[CHANGE]
        _facts(instance.account_id).update(**{field: _earliest(field, instance.created)})


def action_run_finished(sender, *, run, **kwargs) -> None:
    if run.account_id is None:
        return
    if run.reversal_of_id is not None and run.status == ActionStatus.SUCCEEDED:
        # A reversal put fields back as they were (an exception the run resolved is open
        # again), through the framework, which names no domain: recount this account.
        facts_rebuild(account_ids=[run.account_id])
    elif run.status in COUNTED_RUN_STATUSES and is_person(run.actor):
        _add_minutes(run.account_id, handling_minutes_of(run.action), at=run.created_at)


def exception_resolved(sender, *, exception, actor, **kwargs) -> None:
    if is_person(actor):
        minutes = exception.reason_code.estimated_handling_minutes
        _add_minutes(exception.account_id, minutes, at=exception.resolved_at)


# --- The rebuild from raw tables ----------------------------------------------------------


def _run_minutes() -> Case:
    """Each run's declared handling minutes, by its action's name."""
    declared = [When(action=a.name, then=Value(a.handling_minutes)) for a in all_actions()]
    return Case(*declared, default=Value(DEFAULT_HANDLING_MINUTES), output_field=IntegerField())


def _per_account(qs: QuerySet, aggregate) -> Coalesce:
    """``aggregate`` over the rows of ``qs`` (filtered on OuterRef accounts), 0 for none."""
    total = qs.order_by().values("account").annotate(total=aggregate).values("total")
    return Coalesce(Subquery(total, output_field=IntegerField()), Value(0))


def _accounts(account_ids=None) -> QuerySet[Account]:
    accounts = Account.objects.using("default")
    return accounts if account_ids is None else accounts.filter(pk__in=list(account_ids))


def facts_select(account_ids=None) -> QuerySet:
    """Every account's facts computed from the raw tables, as ``values()`` rows named as the
    columns of ``AccountFacts`` (``id`` is the account; the copies are ``copy_<column>``)."""
    signup = OuterRef("signed_up_at")
    first_failure = (
        AccountEvent.objects.filter(account=OuterRef("pk"), type__in=FAILURE_EVENT_TYPES)
        .order_by("occurred_at")
        .values("occurred_at")[:1]
    )
    tickets = Ticket.objects.filter(account=OuterRef("pk"), created_at__lte=signup + TICKETS_WINDOW)
    escalations = Escalation.objects.filter(
        account=OuterRef("pk"),
        kind=EscalationKind.ENGINEERING,
        created_at__lte=signup + ESCALATIONS_WINDOW,
    )
    returned = AccountEvent.objects.filter(
        account=OuterRef("pk"),
        type__in=RETENTION_EVENT_TYPES,
        occurred_at__gte=signup + RETENTION_FROM,
        occurred_at__lte=signup + RETENTION_TO,
    )
    runs = ActionRun.objects.filter(
        person_q("actor"),
        account=OuterRef("pk"),
        status__in=COUNTED_RUN_STATUSES,
        created_at__lte=signup + MANUAL_MINUTES_WINDOW,
    ).annotate(minutes=_run_minutes())
    resolutions = OpsException.objects.filter(
        person_q("resolved_by"),
        account=OuterRef("pk"),
        resolved_by__isnull=False,
        resolved_at__lte=signup + MANUAL_MINUTES_WINDOW,
    )
    failed = AccountEvent.objects.filter(
        account=OuterRef("pk"), type__in=FAILURE_EVENT_TYPES, occurred_at__lte=signup + FAILURE_WINDOW
    )
    return (
        _accounts(account_ids)
        .order_by()
        .values(
            "id",
            "channel_id",
            "signed_up_at",
            **{f"copy_{name}": expr for name, expr in copies_sql().items()},
            first_failure_at=Subquery(first_failure),
            failed_72h=Exists(failed),
            tickets_7d=_per_account(tickets, Count("pk")),
            escalations_30d=_per_account(escalations, Count("pk")),
            retained_30d=Exists(returned),
            manual_minutes_30d=_per_account(runs, Sum("minutes"))
            + _per_account(resolutions, Sum("reason_code__estimated_handling_minutes")),
            # A few accounts: a probe each (account_namesake_idx); every account: unset here,
            # then set by one window over the accounts (``namesakes_rebuild``).
            namesake_candidate=ExpressionWrapper(candidate_q(), output_field=BooleanField())
            if account_ids is not None
            else Value(False),
        )
    )


_COLUMNS = (
    "channel_id",
    "signed_up_at",
    "shape",
    "plan",
    "mrr_cents",
    "activated_at",
    "is_duplicate",
    "time_to_value",
    "activation_due_at",
    "activated_24h",
    "first_failure_at",
    "failed_72h",
    "tickets_7d",
    "escalations_30d",
    "retained_30d",
    "manual_minutes_30d",
    "namesake_candidate",
)
# The journey's first times (and first staff touch) the rebuild takes from ``firsts_sql``,
# by column of its rows; created and activation are the copies above.
_FIRSTS = {
    **{field: column(step) for step, field in STEP_FIELDS.items() if field not in _COLUMNS},
    TOUCH_FIELD: "touch",
}


def facts_rebuild(*, account_ids=None) -> int:
    """Recompute the facts of every account (or of ``account_ids``) from the raw tables, in one
    set-based statement; returns how many rows were written. The journey's first times come
    from one grouped pass over each raw table when every account is rebuilt, from each
    account's own rows otherwise (``reports.funnel.journey.firsts_sql``).

    New rows go in in signup order, the order the services write them in (an account's row is
    created at its signup), so a cohort's rows share pages whoever loaded them: the dashboard
    reads a window's rows, not every page of the table.

    Writers are held off while it runs (the facts table, or the rows rebuilt, are locked first)
    so an increment that lands during the rebuild is neither lost nor counted twice. Accounts
    created behind the services' back (bulk loads) get their row here.
    """
    table = connection.ops.quote_name(AccountFacts._meta.db_table)
    select = facts_select(account_ids)
    sql, params = select.query.get_compiler(using="default").as_sql()
    firsts, firsts_params, _ = firsts_sql(_accounts(account_ids), grouped=account_ids is None)
    quote = connection.ops.quote_name
    columns = [*_COLUMNS, *_FIRSTS]
    copied = copies_sql()
    picked = [f"s.{quote(f'copy_{c}' if c in copied else c)}" for c in _COLUMNS]
    picked += [f"j.{name}" for name in _FIRSTS.values()]
    updates = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in columns)
    statement = (
        f'INSERT INTO {table} ("account_id", {", ".join(quote(c) for c in columns)}) '
        f'SELECT s."id", {", ".join(picked)} FROM ({sql}) AS s LEFT JOIN ({firsts}) AS j ON j.id = s."id" '
        f'WHERE 1 = 1 ORDER BY s."signed_up_at" ON CONFLICT ("account_id") DO UPDATE SET {updates}'
    )
    with transaction.atomic(using="default"):
        if connection.vendor == "postgresql":
            if account_ids is None:
                with connection.cursor() as cursor:
                    cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
            else:
                list(
                    AccountFacts.objects.using("default")
                    .select_for_update()
                    .filter(pk__in=list(account_ids))
                    .values_list("pk")
                )
        with connection.cursor() as cursor:
            cursor.execute(statement, [*params, *firsts_params])
            written = cursor.rowcount
        if account_ids is None:
            namesakes_rebuild()
        return written
