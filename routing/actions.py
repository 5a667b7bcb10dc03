"""The guarded actions routing owns (see opsconsole.actions): working a ticket, and escalating an
exception to engineering.

Working a ticket is granted per queue (``routing.work_queue``, global for ops leads), and any
staff role may hold such a grant, so every staff role holds the ticket actions' permissions and
the queue decides: a ticket is found only among those its actor may see (``restrict``), and
``check`` asks again for a run that did not come through a page or the API. The services check
it a third time. Each effect calls a service; the framework has locked the target, checked the
permission, and records what changed.
"""

from collections.abc import Callable
from typing import ClassVar

from django.contrib.auth import get_user_model
from rest_framework import serializers

from accounts.actions import ESCALATE, ExceptionAction, exception_require_open
from accounts.choices import ExceptionStatus
from accounts.services import exception_set_status
from opsconsole.actions.registry import Action, ActionContext, register
from opsconsole.errors import Conflict
from opsconsole.roles import BILLING, OPERATOR_ROLES, OPS_LEAD, SUPPORT
from routing.choices import OPEN_TICKET_STATUSES, Category, Severity, TicketStatus, TicketType
from routing.models import Queue
from routing.services.escalations import escalation_create, ticket_escalate
from routing.services.queues import queue_access_require
from routing.services.tickets import (
    ticket_reassign,
    ticket_respond,
    ticket_resume,
    ticket_solve,
    ticket_wait,
)

TAKEN_REASON = "Taken by the agent."


def ticket_outcome(ticket) -> dict:
    """Where a ticket stands after an action: the run's result."""
    return {
        "ticket": str(ticket),
        "status": ticket.status,
        "queue": ticket.queue.code,
        "owner": ticket.owner.get_username() if ticket.owner else None,
    }


class TicketAction(Action):
    """An action on a ticket, offered while the ticket is in one of ``applies_in``."""

    target_model = "routing.Ticket"
    # Working a ticket is granted per queue (routing.work_queue), and any staff role may be
    # granted a queue, so every staff role may run these and the queue grant decides.
    roles = OPERATOR_ROLES
    applies_in: ClassVar[frozenset[str]] = frozenset(OPEN_TICKET_STATUSES)

    def applies_to(self, target) -> bool:
        return target.status in self.applies_in

    def check(self, ctx: ActionContext) -> None:
        ticket = ctx.target
        queue_access_require(ctx.actor, ticket.queue)
        if not self.applies_to(ticket):
            raise Conflict(
                "ticket_status",
                f"{self.label} does not apply to a ticket that is {ticket.get_status_display().lower()}.",
                {"status": ticket.status},
            )


# --- take, respond, wait, resume ------------------------------------------------------------


@register
class TakeTicket(TicketAction):
    name = "take_ticket"
    handling_minutes = 1
    label = "Take it"
    description = "Become the ticket's owner, in its queue."

    def perform(self, ctx: ActionContext) -> dict:
        ticket = ctx.target
        return ticket_outcome(
            ticket_reassign(
                ticket=ticket, queue=ticket.queue, owner=ctx.actor, reason=TAKEN_REASON, actor=ctx.actor
            )
        )


class PlainTicketAction(TicketAction):
    """An action that takes no parameters and calls one ticket service."""

    service: ClassVar[Callable]

    def perform(self, ctx: ActionContext) -> dict:
        return ticket_outcome(self.service(ticket=ctx.target, actor=ctx.actor))


@register
class MarkFirstResponse(PlainTicketAction):
    name = "mark_first_response"
    # The answer itself is written in the help desk; this records it.
    handling_minutes = 2
    label = "Mark first response"
    description = "Record that the customer got a first answer (later responses change nothing)."
    service = staticmethod(ticket_respond)


@register
class WaitOnCustomer(PlainTicketAction):
    name = "wait_on_customer"
    handling_minutes = 1
    label = "Waiting on customer (pause clocks)"
    description = "The ticket waits on the customer: its SLA clocks stop until they answer."
    applies_in = frozenset(OPEN_TICKET_STATUSES) - {TicketStatus.WAITING}
    service = staticmethod(ticket_wait)


@register
class ResumeTicket(PlainTicketAction):
    name = "resume_ticket"
    handling_minutes = 1
    label = "Customer answered (resume clocks)"
    description = "The customer answered: the SLA clocks run again."
    applies_in = frozenset({TicketStatus.WAITING})
    service = staticmethod(ticket_resume)


# --- reassign, solve, escalate ------------------------------------------------------------------


class ReassignInput(serializers.Serializer):
    queue = serializers.ChoiceField(choices=[], help_text="The queue to send the ticket to.")
    owner = serializers.ChoiceField(
        choices=[], required=False, help_text="Who owns it there; none leaves it to the queue."
    )
    category = serializers.ChoiceField(choices=Category.choices, required=False, help_text="Blank keeps it.")
    severity = serializers.ChoiceField(choices=Severity.choices, required=False, help_text="Blank keeps it.")
    reason = serializers.CharField(max_length=500, help_text="Why it goes there.")

    def get_fields(self):
        # Read when a form or a request is validated, so a new queue or person is offered at once.
        fields = super().get_fields()
        fields["queue"].choices = [(q.code, q.name) for q in Queue.objects.order_by("code")]
        staff = get_user_model().objects.filter(is_staff=True, is_active=True).order_by("username")
        fields["owner"].choices = [(u.get_username(), u.get_username()) for u in staff]
        return fields


@register
class ReassignTicket(TicketAction):
    name = "reassign_ticket"
    handling_minutes = 3
    label = "Reassign"
    description = "Send the ticket to another queue or owner, and say why."
    Input = ReassignInput

    def perform(self, ctx: ActionContext) -> dict:
        params = ctx.params
        owner = None
        if params.get("owner"):
            owner = get_user_model().objects.get_by_natural_key(params["owner"])
        ticket = ticket_reassign(
            ticket=ctx.target,
            queue=Queue.objects.get(code=params["queue"]),
            owner=owner,
            reason=params["reason"],
            category=params.get("category") or None,
            severity=params.get("severity") or None,
            actor=ctx.actor,
        )
        return ticket_outcome(ticket)


class SolveInput(serializers.Serializer):
    final_category = serializers.ChoiceField(
        choices=Category.choices, help_text="What it turned out to be, for the weekly rule review."
    )
    final_type = serializers.ChoiceField(
        choices=TicketType.choices,
        required=False,
        help_text="Confirm or change the ticket's type (bug, friction, request, ...); blank keeps it.",
    )


@register
class SolveTicket(TicketAction):
    name = "solve_ticket"
    handling_minutes = 5
    label = "Solve"
    description = "Close the ticket with the category it turned out to be."
    Input = SolveInput

    def perform(self, ctx: ActionContext) -> dict:
        ticket = ticket_solve(
            ticket=ctx.target,
            final_category=ctx.params["final_category"],
            final_type=ctx.params.get("final_type") or None,
            actor=ctx.actor,
        )
        return ticket_outcome(ticket)


class EscalateInput(serializers.Serializer):
    summary = serializers.CharField(max_length=300, help_text="What the next team should look at.")


@register
class EscalateTicket(TicketAction):
    name = "escalate_ticket"
    # Write up what the next team should look at.
    handling_minutes = 10
    label = "Escalate"
    description = (
        "Hand the ticket on: to ops when it is about an open exception with a runbook, "
        "otherwise to engineering triage with the account's telemetry."
    )
    Input = EscalateInput

    def perform(self, ctx: ActionContext) -> dict:
        escalation = ticket_escalate(ticket=ctx.target, summary=ctx.params["summary"], actor=ctx.actor)
        return {"escalation": escalation.pk, "kind": escalation.kind, "queue": escalation.queue.code}


# --- escalate_to_engineering (on an exception) -------------------------------------------------


class EscalateExceptionInput(serializers.Serializer):
    summary = serializers.CharField(max_length=300, help_text="What engineering should look at.")


@register
class EscalateToEngineering(ExceptionAction):
    name = ESCALATE
    # Gather the telemetry and write up the defect for engineering.
    handling_minutes = 15
    # Engineering is where it goes: engineering works the exception instead of escalating it.
    roles = (SUPPORT, BILLING, OPS_LEAD)
    label = "Escalate to engineering"
    description = "Open an escalation carrying the account's telemetry and last five events."
    Input = EscalateExceptionInput

    def check(self, ctx: ActionContext) -> None:
        exception_require_open(ctx.target)

    def perform(self, ctx: ActionContext) -> dict:
        exception = ctx.target
        facts = exception.evidence or {}
        escalation = escalation_create(
            account=exception.account,
            summary=ctx.params["summary"],
            error_code=facts.get("error_code", ""),
            request_id=facts.get("request_id", ""),
            feature_area=facts.get("feature_area", ""),
            source_exception=exception,
            to_engineering=True,
            actor=ctx.actor,
        )
        if exception.status != ExceptionStatus.ESCALATED:
            exception_set_status(exception=exception, status=ExceptionStatus.ESCALATED, actor=ctx.actor)
        return {
            "escalation": escalation.pk,
            "queue": escalation.queue.code,
            "telemetry": escalation.telemetry,
        }
