"""The help desk's updates about a ticket: replies, solved, reopened and satisfaction ratings.

Each update is stored once under (source, update_id), so a redelivery, or ten copies at once,
has one effect. Updates may arrive in any order, and none moves the ticket backwards:

- the first response is the earliest public agent reply, whenever it arrives;
- solved and reopened move the status only when newer than the last status change
  (``status_changed_at``); every reopen counts, and the first solve is kept for the metrics;
- the latest rating wins (``csat_rated_at``).
"""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from opsconsole.errors import Conflict, NotFound, ValidationFailed
from opsconsole.history import service
from routing.choices import Rating, TicketStatus, UpdateKind
from routing.models import Ticket
from routing.services.intake import MAX_CLOCK_SKEW
from routing.services.sla import due_times_apply, pause_close
from routing.support.models import TicketUpdate

MAX_COMMENT_CHARS = 5000


def _validate(*, update_id: str, kind: str, occurred_at: datetime, rating: str, comment: str) -> None:
    errors = {}
    if not (update_id or "").strip():
        errors["update_id"] = "This field is required."
    elif len(update_id) > 100:
        errors["update_id"] = "At most 100 characters."
    if kind not in UpdateKind.values:
        errors["type"] = f"One of {', '.join(UpdateKind.values)}."
    if kind == UpdateKind.SATISFACTION and rating not in Rating.values:
        errors["rating"] = "A satisfaction update is rated good or bad."
    if kind != UpdateKind.SATISFACTION and rating:
        errors["rating"] = "Only a satisfaction update carries a rating."
    if len(comment or "") > MAX_COMMENT_CHARS:
        errors["comment"] = f"At most {MAX_COMMENT_CHARS} characters."
    if occurred_at > timezone.now() + MAX_CLOCK_SKEW:
        errors["occurred_at"] = f"In the future (more than {MAX_CLOCK_SKEW} ahead of our clock)."
    if errors:
        raise ValidationFailed("invalid_update", "The update has invalid fields; see details.", errors)


@service
def ticket_update_apply(
    *,
    source: str,
    external_id: str,
    update_id: str,
    kind: str,
    occurred_at: datetime,
    public: bool | None = None,
    rating: str = "",
    comment: str = "",
    actor,
) -> tuple[TicketUpdate, bool]:
    """Store one help-desk update and move the ticket by it. Returns (update, applied now);
    a repeat returns the first one's row untouched."""
    _validate(update_id=update_id, kind=kind, occurred_at=occurred_at, rating=rating, comment=comment)
    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("sla_policy")
        .filter(source=source, external_id=external_id)
        .first()
    )
    if ticket is None:
        raise NotFound("unknown_ticket", f"No ticket {source}:{external_id}.")
    update = TicketUpdate(
        ticket=ticket,
        source=source,
        update_id=update_id,
        kind=kind,
        occurred_at=occurred_at,
        public=(True if public is None else public) if kind == UpdateKind.AGENT_REPLIED else None,
        rating=rating,
        comment=comment or "",
    )
    try:
        with transaction.atomic():
            update.save(force_insert=True)
    except IntegrityError:
        existing = TicketUpdate.objects.get(source=source, update_id=update_id)
        if existing.ticket_id != ticket.pk:
            raise Conflict(
                "update_id_reused", f"Update {update_id} belongs to another ticket.", {"update_id": update_id}
            ) from None
        return existing, False
    before = {name: getattr(ticket, name) for name in _WATCHED}
    APPLY[kind](ticket, update)
    effect = {
        name: [_plain(before[name]), _plain(getattr(ticket, name))]
        for name in _WATCHED
        if before[name] != getattr(ticket, name)
    }
    if effect:
        ticket.save()
        update.effect = effect
        update.save(update_fields=["effect"])
    return update, True


_WATCHED = (
    "status",
    "first_response_at",
    "solved_at",
    "first_solved_at",
    "reopen_count",
    "csat_rating",
    "csat_comment",
    "pauses",
)


def _plain(value):
    return value.isoformat() if isinstance(value, datetime) else value


def _agent_replied(ticket: Ticket, update: TicketUpdate) -> None:
    if update.public and (ticket.first_response_at is None or update.occurred_at < ticket.first_response_at):
        ticket.first_response_at = update.occurred_at


def _customer_replied(ticket: Ticket, update: TicketUpdate) -> None:
    """The customer answered: a ticket waiting on them runs its clocks again."""
    if ticket.status == TicketStatus.WAITING and _newest(ticket, update):
        pause_close(ticket, update.occurred_at)
        ticket.status = TicketStatus.ASSIGNED if ticket.owner_id else TicketStatus.NEW
        ticket.status_changed_at = update.occurred_at
        due_times_apply(ticket, ticket.sla_policy)


def _solved(ticket: Ticket, update: TicketUpdate) -> None:
    if ticket.first_solved_at is None or update.occurred_at < ticket.first_solved_at:
        ticket.first_solved_at = update.occurred_at
    if _newest(ticket, update):
        pause_close(ticket, update.occurred_at)
        ticket.status = TicketStatus.SOLVED
        ticket.solved_at = update.occurred_at
        ticket.status_changed_at = update.occurred_at


def _reopened(ticket: Ticket, update: TicketUpdate) -> None:
    ticket.reopen_count += 1
    if _newest(ticket, update):
        # Even when the solve it undoes has not arrived yet: that solve is older, so it will
        # not close the ticket again.
        if ticket.status == TicketStatus.SOLVED:
            ticket.status = TicketStatus.ASSIGNED if ticket.owner_id else TicketStatus.NEW
        ticket.status_changed_at = update.occurred_at


def _satisfaction(ticket: Ticket, update: TicketUpdate) -> None:
    if ticket.csat_rated_at is None or update.occurred_at >= ticket.csat_rated_at:
        ticket.csat_rating = update.rating
        ticket.csat_comment = update.comment
        ticket.csat_rated_at = update.occurred_at


def _newest(ticket: Ticket, update: TicketUpdate) -> bool:
    return ticket.status_changed_at is None or update.occurred_at >= ticket.status_changed_at


APPLY = {
    UpdateKind.AGENT_REPLIED: _agent_replied,
    UpdateKind.CUSTOMER_REPLIED: _customer_replied,
    UpdateKind.SOLVED: _solved,
    UpdateKind.REOPENED: _reopened,
    UpdateKind.SATISFACTION: _satisfaction,
}
