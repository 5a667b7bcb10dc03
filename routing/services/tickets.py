"""Working a ticket: reassigning it (taking it is a reassignment to oneself), the first
response, waiting on the customer, another SLA policy, and solving it. Every write checks that
the actor works the ticket's queue."""

from datetime import datetime

from django.utils import timezone

from opsconsole.errors import Conflict, ValidationFailed
from opsconsole.history import service
from routing.choices import Category, DecisionKind, Severity, TicketStatus, TicketType
from routing.models import Queue, RoutingDecision, SlaPolicy, Ticket
from routing.selectors.setup import sla_policy_for
from routing.services.alerts import oncall_page
from routing.services.queues import queue_access_require
from routing.services.sla import due_times_apply, pause_close
from routing.sla import dump_pauses, parse_pauses
from routing.support.services.helpdesk import helpdesk_routing_push


def ticket_lock(ticket: Ticket) -> Ticket:
    """The ticket read again and locked for the rest of the transaction."""
    return (
        Ticket.objects.select_for_update(of=("self",)).select_related("queue", "sla_policy").get(pk=ticket.pk)
    )


def ticket_lock_to_work(ticket: Ticket, actor) -> Ticket:
    """The ticket locked for ``actor`` to change, refused unless they work its queue."""
    ticket = ticket_lock(ticket)
    queue_access_require(actor, ticket.queue)
    return ticket


@service
def ticket_reassign(
    *,
    ticket: Ticket,
    queue: Queue,
    owner=None,
    reason: str,
    category: str | None = None,
    severity: str | None = None,
    actor,
) -> Ticket:
    """A person sends a ticket elsewhere, and says why; the decisions before it read as overridden."""
    if not (reason or "").strip():
        raise ValidationFailed("reason_required", "Say why the ticket is reassigned.")
    if category is not None and category not in Category.values:
        raise ValidationFailed("unknown_category", f"Unknown category {category!r}.")
    if severity is not None and severity not in Severity.values:
        raise ValidationFailed("unknown_severity", f"Unknown severity {severity!r}.")
    ticket = ticket_lock_to_work(ticket, actor)
    if ticket.status == TicketStatus.SOLVED:
        raise Conflict("ticket_solved", "A solved ticket is not reassigned.")
    if owner is not None and not Queue.objects.allows(owner, queue, "change"):
        raise ValidationFailed("owner_not_in_queue", f"{owner.get_username()} does not work {queue.code}.")
    now = timezone.now()
    severity_changed = severity is not None and severity != ticket.severity
    ticket.queue = queue
    ticket.owner = owner
    ticket.category = category or ticket.category
    ticket.severity = severity or ticket.severity
    ticket.reassignment_count += 1
    if owner is not None and ticket.owner_assigned_at is None:
        ticket.owner_assigned_at = now
    if ticket.status in (TicketStatus.NEW, TicketStatus.ASSIGNED):
        ticket.status = TicketStatus.ASSIGNED if owner else TicketStatus.NEW
    if severity_changed:
        due_times_apply(
            ticket,
            sla_policy_for(
                severity=ticket.severity,
                shape=ticket.context.get("shape"),
                channel_code=ticket.context.get("channel"),
                via=ticket.via or None,
            ),
        )
    ticket.save()
    RoutingDecision.objects.create(
        ticket=ticket,
        kind=DecisionKind.MANUAL,
        category=ticket.category,
        severity=ticket.severity,
        ticket_type=ticket.ticket_type,
        queue=queue,
        owner=owner,
        reason=reason.strip(),
        decided_at=now,
        decided_by=actor,
    )
    helpdesk_routing_push(ticket=ticket, reason=reason.strip())
    if severity_changed and ticket.severity == Severity.SEV1:
        oncall_page(ticket=ticket, reason=f"Raised to sev1 by {actor.get_username()}: {reason.strip()}")
    return ticket


@service
def ticket_respond(*, ticket: Ticket, actor) -> Ticket:
    """Record the first response to the customer (later responses change nothing here)."""
    ticket = ticket_lock_to_work(ticket, actor)
    if ticket.first_response_at is None:
        ticket.first_response_at = timezone.now()
        ticket.save()
    return ticket


@service
def ticket_wait(*, ticket: Ticket, actor, now: datetime | None = None) -> Ticket:
    """The ticket waits on the customer: its clocks stop until ``ticket_resume``."""
    ticket = ticket_lock_to_work(ticket, actor)
    if ticket.status in (TicketStatus.WAITING, TicketStatus.SOLVED):
        raise Conflict("ticket_not_running", f"The ticket is {ticket.status}; it cannot start waiting.")
    now = now or timezone.now()
    pauses = parse_pauses(ticket.pauses) + [(now, None)]
    ticket.pauses = dump_pauses(pauses)
    ticket.status = TicketStatus.WAITING
    # A help-desk update older than this (a customer reply sent before the wait) must not resume it.
    ticket.status_changed_at = now
    due_times_apply(ticket, ticket.sla_policy)
    ticket.save()
    return ticket


@service
def ticket_resume(*, ticket: Ticket, actor, now: datetime | None = None) -> Ticket:
    """The customer answered: the clocks run again, later by exactly the time waited."""
    ticket = ticket_lock_to_work(ticket, actor)
    if ticket.status != TicketStatus.WAITING:
        raise Conflict("ticket_not_waiting", "The ticket is not waiting on the customer.")
    now = now or timezone.now()
    pause_close(ticket, now)
    ticket.status = TicketStatus.ASSIGNED if ticket.owner_id else TicketStatus.NEW
    ticket.status_changed_at = now
    due_times_apply(ticket, ticket.sla_policy)
    ticket.save()
    return ticket


@service
def ticket_policy_set(*, ticket: Ticket, policy: SlaPolicy, actor) -> Ticket:
    """Put a ticket under another SLA policy; the time it already waited still counts as paused."""
    ticket = ticket_lock_to_work(ticket, actor)
    if ticket.status == TicketStatus.SOLVED:
        raise Conflict("ticket_solved", "A solved ticket keeps its policy.")
    due_times_apply(ticket, policy)
    ticket.save()
    return ticket


@service
def ticket_solve(*, ticket: Ticket, final_category: str, final_type: str | None = None, actor) -> Ticket:
    """Close a ticket with the category and type it turned out to be, for the weekly rule
    review. The agent confirms the type (none given keeps the routed one); a changed type is
    recorded as a manual decision, like a reassignment, so the rule review shows type accuracy."""
    if final_category not in Category.values:
        raise ValidationFailed("unknown_category", f"Unknown category {final_category!r}.")
    if final_type and final_type not in TicketType.values:
        raise ValidationFailed("unknown_type", f"Unknown ticket type {final_type!r}.")
    ticket = ticket_lock_to_work(ticket, actor)
    if ticket.status == TicketStatus.SOLVED:
        raise Conflict("ticket_solved", "The ticket is already solved.")
    now = timezone.now()
    pause_close(ticket, now)
    ticket.status = TicketStatus.SOLVED
    ticket.solved_at = now
    ticket.first_solved_at = ticket.first_solved_at or now
    ticket.status_changed_at = now
    ticket.final_category = final_category
    ticket.final_type = final_type or ticket.ticket_type
    ticket.first_response_at = ticket.first_response_at or now
    ticket.save()
    if ticket.final_type != ticket.ticket_type:
        RoutingDecision.objects.create(
            ticket=ticket,
            kind=DecisionKind.MANUAL,
            category=ticket.category,
            severity=ticket.severity,
            ticket_type=ticket.final_type,
            queue=ticket.queue,
            owner=ticket.owner,
            reason=f"Type at solve: {ticket.final_type}, not {ticket.ticket_type or 'none'}.",
            decided_at=now,
            decided_by=actor,
        )
    return ticket
