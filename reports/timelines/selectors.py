"""Three example timelines for a channel: a failed account, one with a ticket, an activated one.

Each is the newest cohort account (signed up in [since, until), not a duplicate) of its kind:
*failed* has a provisioning failure event (METRICS.md's failure types) and is not activated,
*with ticket* has a ticket matched to it, *activated* has ``activated_at`` set. Each kind picks
an account not already picked for an earlier kind when it can.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef

from accounts.models import AccountEvent, StripeEvent
from accounts.timeline import TimelineEntry, account_timeline
from opsconsole.links import admin_change_url
from reports.metrics.definitions import FAILURE_EVENT_TYPES
from reports.scope import cohort
from routing.models import Escalation, Ticket

KINDS = ("failed", "with_ticket", "activated")


def example_timelines(*, channel: str, since: date, until: date) -> dict:
    """{"failed": id or None, "with_ticket": id or None, "activated": id or None} (account pks)."""
    accounts = cohort(since=since, until=until, channel=channel).order_by("-signed_up_at", "-pk")
    failed = AccountEvent.objects.filter(account=OuterRef("pk"), type__in=FAILURE_EVENT_TYPES)
    ticket = Ticket.objects.filter(account=OuterRef("pk"))
    candidates = {
        "failed": accounts.filter(Exists(failed), activated_at__isnull=True),
        "with_ticket": accounts.filter(Exists(ticket)),
        "activated": accounts.filter(activated_at__isnull=False),
    }
    picked: dict[str, int | None] = {}
    for kind in KINDS:
        ids = list(
            candidates[kind]
            .exclude(pk__in=[p for p in picked.values() if p])
            .values_list("pk", flat=True)[:1]
        )
        if not ids:
            ids = list(candidates[kind].values_list("pk", flat=True)[:1])
        picked[kind] = ids[0] if ids else None
    return picked


# --- The gate-meeting timeline of one account ------------------------------------------------


@dataclass(frozen=True)
class TimelineRow:
    at: datetime
    kind: str  # "event", "action", "exception", "change", "ticket", "escalation", "billing"
    title: str
    detail: str
    url: str
    gap: timedelta | None  # since the row before (None for the first)
    long_gap: bool  # the gap is over REPORTS_TIMELINE_GAP_HOURS
    first_wait_on_staff: bool  # where the account first waited on staff

    @property
    def gap_text(self) -> str:
        if self.gap is None:
            return ""
        minutes = self.gap.total_seconds() / 60
        return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"


STAFF_KINDS = ("exception", "ticket", "action")


def _routing_entries(account) -> list[TimelineEntry]:
    entries = []
    for ticket in Ticket.objects.filter(account=account).order_by("created_at"):
        url = admin_change_url(ticket)
        entries.append(
            TimelineEntry(
                ticket.created_at, "ticket", f"Ticket opened: {ticket.subject}", ticket.category, url
            )
        )
        if ticket.first_response_at:
            entries.append(
                TimelineEntry(ticket.first_response_at, "ticket", "Ticket: first response", "", url)
            )
        if ticket.solved_at:
            entries.append(TimelineEntry(ticket.solved_at, "ticket", "Ticket solved", "", url))
    for escalation in Escalation.objects.filter(account=account).order_by("created_at"):
        url = admin_change_url(escalation)
        entries.append(
            TimelineEntry(
                escalation.created_at, "escalation", f"Escalated ({escalation.kind})", escalation.summary, url
            )
        )
    for event in StripeEvent.objects.filter(account=account).order_by("created"):
        entries.append(
            TimelineEntry(
                event.created, "billing", f"Stripe {event.type}", event.outcome, admin_change_url(event)
            )
        )
    return entries


def gate_timeline(account, *, first_staff_touch: datetime | None) -> list[TimelineRow]:
    """Everything that happened to ``account``, oldest first: its events, action runs,
    exceptions and field changes (``accounts.timeline``), tickets, escalations and Stripe
    events, each with the gap since the row before. ``first_staff_touch`` (the funnel's
    definition) marks the first staff row at or after it."""
    entries = sorted(account_timeline(account) + _routing_entries(account), key=lambda e: e.at)
    limit = timedelta(hours=settings.REPORTS_TIMELINE_GAP_HOURS)
    rows, previous, marked = [], None, False
    for entry in entries:
        gap = entry.at - previous if previous is not None else None
        mark = (
            not marked
            and first_staff_touch is not None
            and entry.kind in STAFF_KINDS
            and entry.at >= first_staff_touch
        )
        marked = marked or mark
        rows.append(
            TimelineRow(
                entry.at,
                entry.kind,
                entry.title,
                entry.detail,
                entry.url,
                gap,
                gap is not None and gap > limit,
                mark,
            )
        )
        previous = entry.at
    return rows
