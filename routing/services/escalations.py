"""Escalations: a problem handed on, to the ops queue when a runbook covers it, otherwise to
engineering triage with the account's telemetry attached."""

from django.db import IntegrityError, transaction

from accounts.selectors import open_exceptions
from opsconsole.errors import NotFound, ValidationFailed
from opsconsole.history import service
from opsconsole.runbooks import has_runbook
from routing.choices import EscalationKind, EscalationStatus, TicketStatus
from routing.models import ENGINEERING_TRIAGE_QUEUE, OPS_QUEUE, Escalation, Queue, Ticket
from routing.selectors.context import escalation_telemetry
from routing.services.alerts import escalation_alert
from routing.services.queues import queue_access_require
from routing.services.tickets import ticket_lock
from routing.signals import escalation_created


@service
def escalation_create(
    *,
    account,
    summary: str,
    error_code: str = "",
    request_id: str = "",
    feature_area: str = "",
    source_exception=None,
    ticket: Ticket | None = None,
    to_engineering: bool = False,
    actor,
) -> Escalation:
    """Hand a problem on: an exception whose reason code has a runbook goes to the ops queue;
    anything else is an unknown defect for engineering triage, with telemetry attached.
    ``to_engineering`` sends a known exception to engineering anyway: a runbook's
    stop-and-escalate rule has run out (e.g. the import was already restarted once).

    Escalating the same open exception or ticket again returns the escalation already open.
    """
    summary = (summary or "").strip()
    if not summary:
        raise ValidationFailed("summary_required", "Say what is being escalated.")
    known = (
        not to_engineering and source_exception is not None and has_runbook(source_exception.reason_code_id)
    )
    kind = EscalationKind.OPS if known else EscalationKind.ENGINEERING
    queue = Queue.objects.filter(code=OPS_QUEUE if known else ENGINEERING_TRIAGE_QUEUE).first()
    if queue is None:
        raise NotFound("queue_missing", "The escalation queues are missing; run the routing migrations.")
    telemetry = escalation_telemetry(
        account=account,
        error_code=error_code,
        request_id=request_id,
        feature_area=feature_area,
        source_exception=source_exception,
    )
    try:
        with transaction.atomic():
            escalation = Escalation.objects.create(
                kind=kind,
                account=account,
                channel_id=account.channel_id,
                queue=queue,
                ticket=ticket,
                source_exception=source_exception,
                reason_code=source_exception.reason_code.code if source_exception is not None else "",
                summary=summary[:300],
                error_code=error_code,
                request_id=request_id,
                feature_area=feature_area,
                telemetry=telemetry,
                created_by=actor,
            )
    except IntegrityError:
        open_ones = Escalation.objects.exclude(status=EscalationStatus.RESOLVED)
        if source_exception is not None:
            existing = open_ones.filter(source_exception=source_exception).first()
        else:
            existing = open_ones.filter(ticket=ticket).first()
        if existing is None:
            raise
        return existing
    escalation_created.send(sender=Escalation, escalation=escalation)
    if ticket is not None:
        locked = ticket_lock(ticket)
        if locked.status != TicketStatus.SOLVED:
            locked.status = TicketStatus.ESCALATED
            locked.save()
    escalation_alert(escalation)
    return escalation


@service
def ticket_escalate(*, ticket: Ticket, summary: str, actor) -> Escalation:
    """Escalate a ticket: to ops when it is about an open exception with a runbook (named by its
    error code), otherwise to engineering triage."""
    ticket = Ticket.objects.select_related("account__channel", "queue").get(pk=ticket.pk)
    queue_access_require(actor, ticket.queue)
    if ticket.account is None:
        raise ValidationFailed("account_required", "Match the ticket to an account before escalating it.")
    source_exception = None
    if ticket.error_code:
        source_exception = open_exceptions(ticket.account).filter(reason_code__code=ticket.error_code).first()
    return escalation_create(
        account=ticket.account,
        summary=summary,
        error_code=ticket.error_code,
        request_id=ticket.request_id,
        feature_area=ticket.feature_area,
        source_exception=source_exception,
        ticket=ticket,
        actor=actor,
    )
