"""Routing's part of the console's home (``opsconsole.home``): a person's open tickets, the
figures of the queues they work, a lead's breaches today, and finding a ticket. Each read
starts from ``restrict()``, so nobody finds a ticket of a queue they do not work."""

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from opsconsole.home import MY_WORK_LIMIT, SEARCH_LIMIT, SearchHit, WorkItem
from opsconsole.links import admin_change_url
from opsconsole.roles import OPS_LEAD
from routing.choices import OPEN_TICKET_STATUSES
from routing.models import Queue, SlaBreach, Ticket
from routing.rules import unmet_due_times
from routing.selectors.figures import queues_stats


def my_tickets(user, *, now: datetime) -> list[WorkItem]:
    """The open tickets ``user`` owns, each due at its first unmet SLA target."""
    tickets = (
        Ticket.objects.restrict(user, "view")
        .filter(owner=user, status__in=OPEN_TICKET_STATUSES)
        .select_related("account")
        .order_by("created_at", "pk")[: MY_WORK_LIMIT * 2]
    )
    return [
        WorkItem(
            kind="Ticket",
            label=str(ticket),
            title=ticket.subject,
            url=admin_change_url(ticket),
            due_at=min(unmet_due_times(ticket), default=None),
            status=ticket.get_status_display(),
            account=ticket.account.external_id if ticket.account_id else "",
        )
        for ticket in tickets
    ]


def my_queues(user):
    """The queues ``user`` works (every queue for an ops lead)."""
    return Queue.objects.restrict(user, "view").order_by("code")


def my_queue_figures(user, *, now: datetime | None = None) -> list[dict]:
    """Per queue ``user`` works: open tickets, how many are past a target, p90 age in hours."""
    return list(queues_stats(my_queues(user), now=now).values())


def is_lead(user) -> bool:
    return user.is_superuser or user.groups.filter(name=OPS_LEAD).exists()


def breaches_today(user, *, now: datetime | None = None):
    """The SLA breaches detected since midnight (the console's time zone) in the queues a lead
    works; nothing for anyone else."""
    if not is_lead(user):
        return SlaBreach.objects.none()
    now = now or timezone.now()
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return (
        SlaBreach.objects.restrict(user, "view")
        .filter(detected_at__gte=midnight, detected_at__lt=midnight + timedelta(days=1))
        .select_related("ticket", "queue")
        .order_by("-detected_at")
    )


def search_tickets(user, query: str) -> list[SearchHit]:
    """Tickets ``user`` may see whose external id, request id or requester email is ``query``
    (or whose requester writes from the domain ``query``)."""
    text = query.strip()
    condition = (
        Q(external_id__iexact=text)
        | Q(request_id=text)
        | Q(requester_email__iexact=text)
        | Q(account__external_id__iexact=text)
    )
    domain = text.lower().lstrip("@")
    if "@" not in domain and "." in domain:
        condition |= Q(requester_email__iendswith=f"@{domain}")
    tickets = (
        Ticket.objects.restrict(user, "view")
        .filter(condition)
        .select_related("queue")
        .order_by("-created_at")[:SEARCH_LIMIT]
    )
    return [
        SearchHit(
            kind="Ticket",
            label=str(ticket),
            detail=f"{ticket.subject} · {ticket.queue} · {ticket.get_status_display()}",
            url=admin_change_url(ticket),
            matched=_ticket_match(ticket, text),
        )
        for ticket in tickets
    ]


def _ticket_match(ticket: Ticket, text: str) -> str:
    if ticket.external_id.lower() == text.lower():
        return "ticket id"
    if ticket.request_id == text:
        return "request id"
    if ticket.requester_email.lower() == text.lower():
        return "requester email"
    return "account" if "." not in text else "requester domain"
