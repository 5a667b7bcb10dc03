"""Ticket intake: validate, enrich with the account's context, route through the active rules,
start the SLA clocks, record the decision, and page on-call when the ticket calls for it."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.selectors import account_find_by_contact
from opsconsole.errors import ValidationFailed
from opsconsole.history import service
from routing import engine
from routing.choices import DecisionKind, Severity, TicketStatus, Via
from routing.models import Queue, RoutingDecision, SlaPolicy, Ticket
from routing.selectors.context import ticket_context
from routing.selectors.setup import RoutingSetup, routing_setup
from routing.selectors.tickets import least_loaded_member
from routing.services.alerts import oncall_page
from routing.services.sla import due_times_apply, sla_answer
from routing.signals import ticket_created
from routing.support.services.helpdesk import helpdesk_routing_push
from routing.support.services.known_issues import known_issues_auto_link

INTAKE_LIMITS = {
    "source": 40,
    "external_id": 100,
    "subject": 300,
    "error_code": 64,
    "request_id": 100,
    "feature_area": 64,
}
MAX_BODY_CHARS = 100_000
# The help desk's clock may run a little ahead of ours; a ticket dated further ahead would start
# its SLA clocks in the future, so it is refused.
MAX_CLOCK_SKEW = timedelta(minutes=15)


def _validate_intake(fields: dict) -> None:
    errors = {}
    for name in ("source", "external_id", "subject"):
        if not (fields[name] or "").strip():
            errors[name] = "This field is required."
    for name, limit in INTAKE_LIMITS.items():
        if len(fields[name] or "") > limit:
            errors[name] = f"At most {limit} characters."
    if len(fields["body"] or "") > MAX_BODY_CHARS:
        errors["body"] = f"At most {MAX_BODY_CHARS} characters."
    try:
        validate_email(fields["requester_email"] or "")
    except DjangoValidationError:
        errors["requester_email"] = "Enter a valid email address."
    if errors:
        raise ValidationFailed("invalid_ticket", "The ticket has invalid fields; see details.", errors)


def _validate_via(via: str) -> None:
    if via and via not in Via.values:
        raise ValidationFailed(
            "invalid_ticket",
            "The ticket has invalid fields; see details.",
            {"via": f"One of {', '.join(Via.values)}."},
        )


def _validate_received_at(received_at: datetime | None) -> None:
    if received_at is not None and received_at > timezone.now() + MAX_CLOCK_SKEW:
        raise ValidationFailed(
            "invalid_ticket",
            "The ticket has invalid fields; see details.",
            {"created_at": f"In the future (more than {MAX_CLOCK_SKEW} ahead of our clock)."},
        )


@dataclass(frozen=True)
class _Route:
    """Where the rules send a ticket: the matched rule and what it decides."""

    match: engine.Match
    queue: Queue
    owner: object  # a user, or None
    policy: SlaPolicy | None
    reason: str

    @property
    def paged(self) -> bool:
        out = self.match.rule.outputs
        return out["severity"] == Severity.SEV1 or out["page_oncall"]


def _route(setup: RoutingSetup, context: dict) -> _Route:
    match = engine.route(setup.rules, context)
    out = match.rule.outputs
    queue = setup.queues[out["queue_id"]]
    reason = match.reason
    owner = get_user_model().objects.get(pk=out["owner_id"]) if out["owner_id"] else None
    if owner is None and queue.auto_assign:
        owner = least_loaded_member(queue)
        if owner is not None:
            reason += (
                f" Owner {owner.get_username()}: the member of {queue.code} with the fewest open tickets."
            )
    policy = setup.policy_for(
        policy_id=out["sla_policy_id"],
        severity=out["severity"],
        shape=context.get("shape"),
        channel_code=context.get("channel"),
        via=context.get("via") or None,
    )
    return _Route(match=match, queue=queue, owner=owner, policy=policy, reason=reason)


def _intake_result(ticket: Ticket, route: _Route, setup: RoutingSetup) -> dict:
    """The answer intake gives, stored on the ticket so a repeat gets exactly the same one."""
    rule = route.match.rule
    return {
        "category": ticket.category,
        "severity": ticket.severity,
        "ticket_type": ticket.ticket_type or None,
        "queue": route.queue.code,
        "tier": route.queue.tier,
        "owner": route.owner.get_username() if route.owner else None,
        "status": ticket.status,
        "rule": {
            "id": rule.id,
            "key": rule.key,
            "name": rule.name,
            "rule_set_version": setup.rule_set.version,
            "revision": rule.revision,
        },
        "reason": route.reason,
        "triggers": route.match.triggers,
        "sla": sla_answer(ticket),
        "paged": route.paged,
    }


@service
def ticket_intake(
    *,
    source: str,
    external_id: str,
    requester_email: str,
    subject: str,
    body: str,
    account_external_id: str | None = None,
    error_code: str = "",
    request_id: str = "",
    feature_area: str = "",
    received_at: datetime | None = None,
    via: str = "",
    actor,
) -> tuple[Ticket, bool]:
    """Take in a ticket, enrich it, route it and start its clocks. Returns (ticket, created now).

    Idempotent on (source, external_id): the unique constraint decides between concurrent
    twins, and a repeat gets the first ticket back untouched. ``received_at`` (default now) is
    when the help desk received it (the API's ``created_at``), for backfills and replays of
    tickets that arrived earlier: it becomes the ticket's ``created_at``, and the SLA clocks
    start from it. More than ``MAX_CLOCK_SKEW`` in the future is refused. ``via`` (chat, email,
    web, phone, api) picks the SLA policy for that way in, when one exists.

    A new ticket from the help desk hears back where routing sent it (``helpdesk``), and the
    known issues whose matching rule fits it link it (``known_issues``).
    """
    fields = {
        "source": source,
        "external_id": external_id,
        "requester_email": requester_email,
        "subject": subject,
        "body": body,
        "error_code": error_code,
        "request_id": request_id,
        "feature_area": feature_area,
    }
    _validate_intake(fields)
    _validate_via(via)
    _validate_received_at(received_at)
    existing = Ticket.objects.filter(source=source, external_id=external_id).first()
    if existing is not None:
        return existing, False

    now = received_at or timezone.now()
    account, how = account_find_by_contact(external_id=account_external_id, email=requester_email)
    context = ticket_context(account=account, account_match=how, now=now, **fields)
    context["via"] = via
    if account_external_id and how != "external_id":
        context["unknown_account_reference"] = account_external_id
    setup = routing_setup()
    route = _route(setup, context)
    out = route.match.rule.outputs
    ticket = Ticket(
        account=account,
        account_match=how,
        context=context,
        category=out["category"],
        severity=out["severity"],
        queue=route.queue,
        owner=route.owner,
        status=TicketStatus.ASSIGNED if route.owner else TicketStatus.NEW,
        created_at=now,
        owner_assigned_at=now if route.owner else None,
        via=via,
        ticket_type=out.get("ticket_type") or "",
        **fields,
    )
    due_times_apply(ticket, route.policy, setup.clock_for(route.policy) if route.policy else None)
    ticket.intake_result = _intake_result(ticket, route, setup)
    try:
        # Nothing is written before this insert, so only it needs a savepoint: when a concurrent
        # twin committed first, the unique key refuses ours, and we answer with theirs.
        with transaction.atomic():
            ticket.save()
    except IntegrityError:
        existing = Ticket.objects.filter(source=source, external_id=external_id).first()
        if existing is None:
            raise
        return existing, False
    RoutingDecision.objects.create(
        ticket=ticket,
        kind=DecisionKind.RULE,
        rule_id=route.match.rule.id,
        rule_key=route.match.rule.key,
        rule_set_version=setup.rule_set.version,
        rule_revision=route.match.rule.revision,
        triggers=route.match.triggers,
        category=ticket.category,
        severity=ticket.severity,
        ticket_type=ticket.ticket_type,
        queue=route.queue,
        owner=route.owner,
        reason=route.reason,
        decided_at=now,
        decided_by=actor,
    )
    ticket_created.send(sender=Ticket, ticket=ticket)
    known_issues_auto_link(ticket=ticket, actor=actor)
    helpdesk_routing_push(ticket=ticket, reason=route.reason)
    if route.paged:
        oncall_page(ticket=ticket, reason=route.reason)
    return ticket, True
