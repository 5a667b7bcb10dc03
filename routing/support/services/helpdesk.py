"""Telling the help desk where routing sent a ticket, through the outbox."""

from opsconsole.outbox import outbox_enqueue
from routing.models import Ticket
from routing.support.helpdesk import OUTBOX_DESTINATION, current_routing, helpdesk_adapter


def helpdesk_routing_push(*, ticket: Ticket, reason: str = ""):
    """Queue the ticket's routing for the help desk it came from (none for tickets from
    elsewhere, such as Stripe). In the caller's transaction; delivered after commit. The sender
    reads the ticket again when it delivers, so a late retry never sends an older decision."""
    adapter = helpdesk_adapter()
    if ticket.source != adapter.name:
        return None
    return outbox_enqueue(
        command="helpdesk.route",
        payload={
            "helpdesk": adapter.name,
            "ticket_id": ticket.pk,
            "external_id": ticket.external_id,
            "reason": reason[:500],
            **current_routing(ticket.pk),
        },
        account=ticket.account,
        destination=OUTBOX_DESTINATION,
    )


def helpdesk_reply_push(*, ticket: Ticket, body: str, dedupe_key: str):
    """Queue a public reply to the ticket's requester through the help desk it came from (none
    for a ticket from elsewhere)."""
    adapter = helpdesk_adapter()
    if ticket.source != adapter.name:
        return None
    return outbox_enqueue(
        command="helpdesk.reply",
        payload={
            "helpdesk": adapter.name,
            "ticket_id": ticket.pk,
            "external_id": ticket.external_id,
            "body": body,
        },
        account=ticket.account,
        destination=OUTBOX_DESTINATION,
        dedupe_key=dedupe_key,
    )
