"""SLA clocks on a ticket: the due time of each target, the waiting time that stops them, and a
missed target recorded once as a breach."""

from datetime import datetime

from django.db import IntegrityError, transaction

from opsconsole.history import service
from routing.choices import OPEN_TICKET_STATUSES, TicketStatus
from routing.models import SlaBreach, SlaPolicy, Ticket
from routing.rules import SLA_FIELDS, due_times
from routing.selectors.setup import policy_clock
from routing.services.alerts import breach_alert
from routing.sla import CalendarSpec, dump_pauses, parse_pauses


def due_times_apply(ticket: Ticket, policy: SlaPolicy | None, clock: CalendarSpec | None = None) -> None:
    """Put the ticket under ``policy`` and recompute the due time of every unmet target (the
    caller saves). ``clock`` is the policy's clock when the caller has it already."""
    ticket.sla_policy = policy
    if policy is not None and clock is None:
        clock = policy_clock(policy)
    for due_field, due in due_times(ticket, policy, clock).items():
        setattr(ticket, due_field, due)


def pause_close(ticket: Ticket, now: datetime) -> None:
    """End the ticket's open pause, if it has one: the customer answered or it was solved."""
    pauses = parse_pauses(ticket.pauses)
    if pauses and pauses[-1][1] is None:
        pauses[-1] = (pauses[-1][0], max(now, pauses[-1][0]))
        ticket.pauses = dump_pauses(pauses)


def sla_answer(ticket: Ticket) -> dict:
    """The policy and due times, as intake's answer states them."""
    return {
        "policy": ticket.sla_policy.name if ticket.sla_policy else None,
        "owner_due_at": ticket.owner_due_at.isoformat() if ticket.owner_due_at else None,
        "first_response_due_at": (
            ticket.first_response_due_at.isoformat() if ticket.first_response_due_at else None
        ),
        "resolution_due_at": ticket.resolution_due_at.isoformat() if ticket.resolution_due_at else None,
    }


@service
def sla_breach_record(*, ticket_id: int, target: str, now: datetime, actor) -> bool:
    """Record one missed target, escalate the ticket and alert its queue. True if new.

    The unique (ticket, target) constraint makes a breach fire once however often the check
    runs or however many workers run it.
    """
    due_field, met_field = SLA_FIELDS[target]
    ticket = Ticket.objects.select_for_update().select_related("queue").filter(pk=ticket_id).first()
    if ticket is None or ticket.status not in OPEN_TICKET_STATUSES:
        return False
    due = getattr(ticket, due_field)
    if due is None or due > now or getattr(ticket, met_field) is not None:
        return False
    try:
        with transaction.atomic():
            SlaBreach.objects.create(
                ticket=ticket, target=target, due_at=due, detected_at=now, queue=ticket.queue
            )
    except IntegrityError:
        return False
    if ticket.status in (TicketStatus.NEW, TicketStatus.ASSIGNED):
        ticket.status = TicketStatus.ESCALATED
        ticket.save()
    breach_alert(ticket=ticket, target=target, due=due)
    return True
