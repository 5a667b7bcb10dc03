"""Reads of tickets and what follows them (decisions, breaches, escalations), each starting
from ``restrict()`` where a person asks, plus the reads intake and the SLA check need."""

from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Case, DateTimeField, Exists, F, OuterRef, QuerySet, Value, When
from django.db.models.functions import Least

from routing.choices import OPEN_TICKET_STATUSES, DecisionKind
from routing.models import (
    Escalation,
    Queue,
    QueueGroupObjectPermission,
    QueueUserObjectPermission,
    RoutingDecision,
    SlaBreach,
    Ticket,
)
from routing.rules import SLA_FIELDS


def ticket_page(ticket: Ticket, *, user) -> dict:
    """What the ticket page shows beside the ticket's fields: why it went where it went, its
    missed targets and its escalations."""
    breaches = SlaBreach.objects.restrict(user, "view").filter(ticket=ticket)
    escalations = Escalation.objects.restrict(user, "view").filter(ticket=ticket)
    return {
        "decisions": ticket_decisions(ticket),
        "breaches": breaches.order_by("detected_at"),
        "escalations": escalations.select_related("queue"),
    }


# Where nothing is due: after every real due time, so such tickets sort last.
NOTHING_DUE = datetime(9999, 12, 31, tzinfo=UTC)


def next_due_expression():
    """A ticket's first unmet due time in SQL (``rules.unmet_due_times``' rule), for ordering a
    list by what is due next; ``NOTHING_DUE`` when nothing is. NULL-safe on SQLite too."""
    unmet = [
        Case(
            When(**{f"{met}__isnull": True, f"{due}__isnull": False}, then=F(due)),
            default=Value(NOTHING_DUE),
            output_field=DateTimeField(),
        )
        for due, met in SLA_FIELDS.values()
    ]
    return Least(*unmet)


def ticket_decisions(ticket: Ticket) -> QuerySet[RoutingDecision]:
    """A ticket's decisions in order, each marked ``overridden`` when a person reassigned after it."""
    later_manual = RoutingDecision.objects.filter(
        ticket=OuterRef("ticket"), kind=DecisionKind.MANUAL, id__gt=OuterRef("id")
    )
    return (
        ticket.decisions.select_related("rule", "queue", "owner", "decided_by")
        .annotate(overridden=Exists(later_manual))
        .order_by("decided_at", "id")
    )


def least_loaded_member(queue: Queue):
    """The member with the fewest open tickets (ties: the longest-standing user).

    Intake asks this for most tickets, so it is one hand-written read over the direct-FK
    permission tables rather than an ORM join that costs more to compile than to run.
    """
    user_table = get_user_model()._meta.db_table
    groups_table = get_user_model().groups.through._meta.db_table
    sql = f"""
        SELECT u.* FROM {user_table} u
        WHERE u.is_active AND u.is_staff AND u.id IN (
            SELECT up.user_id FROM {QueueUserObjectPermission._meta.db_table} up
            JOIN {Permission._meta.db_table} p ON p.id = up.permission_id
            WHERE up.content_object_id = %s AND p.codename = 'work_queue'
            UNION
            SELECT ug.user_id FROM {groups_table} ug
            JOIN {QueueGroupObjectPermission._meta.db_table} gp ON gp.group_id = ug.group_id
            JOIN {Permission._meta.db_table} p ON p.id = gp.permission_id
            WHERE gp.content_object_id = %s AND p.codename = 'work_queue')
        ORDER BY (SELECT COUNT(*) FROM {Ticket._meta.db_table} t
                  WHERE t.owner_id = u.id AND t.status IN ({", ".join(["%s"] * len(OPEN_TICKET_STATUSES))})),
                 u.id
        LIMIT 1"""
    found = list(get_user_model().objects.raw(sql, [queue.pk, queue.pk, *OPEN_TICKET_STATUSES]))
    return found[0] if found else None


# Per target and run: a backlog (a worker down for an hour) drains over a few minutes instead
# of one run outliving its time limit.
SLA_CHECK_BATCH = 500


def tickets_past_due(*, now: datetime, limit: int = SLA_CHECK_BATCH) -> list[tuple[int, str]]:
    """(ticket id, target) pairs whose target is due and unmet and not yet recorded as breached,
    the longest overdue first."""
    found = []
    for target, (due_field, met_field) in SLA_FIELDS.items():
        ids = (
            Ticket.objects.filter(
                status__in=OPEN_TICKET_STATUSES,
                **{f"{due_field}__lte": now, f"{met_field}__isnull": True},
            )
            .exclude(breaches__target=target)
            # pk breaks ties: business-hours clocks give every ticket opened out of hours the same due time
            .order_by(due_field, "pk")
            .values_list("pk", flat=True)[:limit]
        )
        found.extend((pk, target) for pk in ids)
    return found


def account_tickets(*, account, user) -> QuerySet[Ticket]:
    """An account's tickets that ``user`` may see, newest first."""
    return (
        Ticket.objects.restrict(user, "view")
        .filter(account=account)
        .select_related("queue", "owner")
        .order_by("-created_at")
    )


def account_escalations(*, account, user) -> QuerySet[Escalation]:
    """An account's escalations that ``user`` may see, newest first."""
    return (
        Escalation.objects.restrict(user, "view")
        .filter(account=account)
        .select_related("queue")
        .order_by("-created_at")
    )
