"""What routing tells people outside the console: pages to on-call, missed targets and
escalations, each sent to the queue's pager webhook (else the default alert channel).

Alerts go out after the surrounding transaction commits (``alert_send``), so a rolled-back
intake or a dry run pages nobody.
"""

from datetime import datetime

from django.urls import reverse

from opsconsole.alerts import Alert, alert_send
from routing.choices import EscalationKind, Severity, SlaTarget
from routing.models import Escalation, Ticket


def ticket_link(ticket: Ticket) -> str:
    return reverse("admin:routing_ticket_change", args=[ticket.pk])


def oncall_page(*, ticket: Ticket, reason: str) -> None:
    """Page the ticket's queue (its pager webhook, else the default alert channel)."""
    queue = ticket.queue
    alert_send(
        Alert(
            kind="page",
            title=f"{ticket.severity} ticket in {queue.code}: {ticket.subject}",
            text=reason,
            severity="critical",
            fields={
                "ticket": str(ticket),
                "account": ticket.context.get("account_external_id") or "unmatched",
                "category": ticket.category,
                "owner": ticket.owner.get_username() if ticket.owner else "unassigned",
            },
            link=ticket_link(ticket),
        ),
        url=queue.pager_webhook_url or None,
    )


def breach_alert(*, ticket: Ticket, target: str, due: datetime) -> None:
    alert_send(
        Alert(
            kind="sla_breach",
            title=f"SLA breach: {SlaTarget(target).label} missed on {ticket}",
            text=ticket.subject,
            severity="critical" if ticket.severity == Severity.SEV1 else "warning",
            fields={
                "queue": ticket.queue.code,
                "severity": ticket.severity,
                "due": due.isoformat(),
                "owner": ticket.owner.get_username() if ticket.owner else "unassigned",
            },
            link=ticket_link(ticket),
        ),
        url=ticket.queue.pager_webhook_url or None,
    )


def escalation_alert(escalation: Escalation) -> None:
    account, queue = escalation.account, escalation.queue
    alert_send(
        Alert(
            kind="escalation",
            title=f"{EscalationKind(escalation.kind).label}: {escalation.summary[:120]}",
            text=f"Account {account.external_id} ({account.plan}, {account.channel.code})",
            severity="warning",
            fields={
                "queue": queue.code,
                "error_code": escalation.error_code or "-",
                "request_id": escalation.request_id or "-",
            },
        ),
        url=queue.pager_webhook_url or None,
    )
