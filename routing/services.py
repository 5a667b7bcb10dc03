"""Writes for routing: intake, reassignment, the ticket's working states, SLA breaches, rule sets,
backtests, queue access and escalations. Every function runs in one transaction (``@service``).
"""

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from accounts.selectors import account_find_by_contact, open_exceptions
from opsconsole.alerts import Alert, alert_send
from opsconsole.errors import Conflict, NotFound, PermissionRefused, ValidationFailed
from opsconsole.history import service
from routing import engine, selectors
from routing.choices import (
    OPEN_TICKET_STATUSES,
    BacktestStatus,
    Category,
    DecisionKind,
    EscalationKind,
    EscalationStatus,
    RuleSetStatus,
    Severity,
    SlaTarget,
    TicketStatus,
)
from routing.models import (
    ENGINEERING_TRIAGE_QUEUE,
    OPS_QUEUE,
    Backtest,
    Escalation,
    Queue,
    RoutingDecision,
    RoutingRule,
    RuleSet,
    SlaBreach,
    SlaPolicy,
    Ticket,
)
from routing.sla import add_business_time, dump_pauses, parse_pauses

BACKTEST_DAYS = 30
BACKTEST_SAMPLES_PER_RULE = 5
INTAKE_LIMITS = {
    "source": 40,
    "external_id": 100,
    "subject": 300,
    "error_code": 64,
    "request_id": 100,
    "feature_area": 64,
}
MAX_BODY_CHARS = 100_000


def _ticket_link(ticket: Ticket) -> str:
    return reverse("admin:routing_ticket_change", args=[ticket.pk])


def _locked_ticket(ticket: Ticket) -> Ticket:
    return (
        Ticket.objects.select_for_update(of=("self",)).select_related("queue", "sla_policy").get(pk=ticket.pk)
    )


def _require_queue_access(actor, queue: Queue) -> None:
    if not selectors.can_work_queue(actor, queue):
        raise PermissionRefused("queue_access_denied", f"You do not work the {queue.code!r} queue.")


# --- SLA clocks --------------------------------------------------------------------------------


def _set_due_times(ticket: Ticket, policy: SlaPolicy | None, spec=None) -> None:
    """Recompute the due time of every unmet target from the ticket's creation, skipping the
    time it waited; an open pause leaves the unmet targets without a due time (clock stopped).
    ``spec`` is the policy's calendar when the caller has it already."""
    ticket.sla_policy = policy
    pauses = parse_pauses(ticket.pauses)
    if policy is not None and spec is None:
        spec = selectors.calendar_spec(policy)
    for target, (due_field, met_field) in selectors.SLA_FIELDS.items():
        if getattr(ticket, met_field) is not None:
            continue
        due = None
        if spec is not None:
            due = add_business_time(
                spec, ticket.created_at, timedelta(minutes=policy.minutes_for(target)), pauses
            )
        setattr(ticket, due_field, due)


def _sla_answer(ticket: Ticket) -> dict:
    return {
        "policy": ticket.sla_policy.name if ticket.sla_policy else None,
        "owner_due_at": ticket.owner_due_at.isoformat() if ticket.owner_due_at else None,
        "first_response_due_at": (
            ticket.first_response_due_at.isoformat() if ticket.first_response_due_at else None
        ),
        "resolution_due_at": ticket.resolution_due_at.isoformat() if ticket.resolution_due_at else None,
    }


# --- Intake ------------------------------------------------------------------------------------


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


def _page(ticket: Ticket, reason: str) -> None:
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
            link=_ticket_link(ticket),
        ),
        url=queue.pager_webhook_url or None,
    )


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
    actor,
) -> tuple[Ticket, bool]:
    """Take in a ticket, enrich it, route it and start its clocks. Returns (ticket, created now).

    Idempotent on (source, external_id): the unique constraint decides between concurrent
    twins, and a repeat gets the first ticket back untouched. ``received_at`` (default now) is
    when the help desk received it, for imports of tickets that arrived earlier.
    """
    try:
        return _ticket_intake(
            source=source,
            external_id=external_id,
            requester_email=requester_email,
            subject=subject,
            body=body,
            account_external_id=account_external_id,
            error_code=error_code,
            request_id=request_id,
            feature_area=feature_area,
            received_at=received_at,
            actor=actor,
        )
    except IntegrityError:
        # A concurrent twin committed first: the unique key refused our insert and our whole
        # transaction rolled back (no savepoint needed on the hot path), so answer with theirs.
        existing = Ticket.objects.filter(source=source, external_id=external_id).first()
        if existing is None:
            raise
        return existing, False


@service
def _ticket_intake(
    *,
    source: str,
    external_id: str,
    requester_email: str,
    subject: str,
    body: str,
    account_external_id: str | None,
    error_code: str,
    request_id: str,
    feature_area: str,
    received_at: datetime | None,
    actor,
) -> tuple[Ticket, bool]:
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
    existing = Ticket.objects.filter(source=source, external_id=external_id).first()
    if existing is not None:
        return existing, False

    now = received_at or timezone.now()
    account, how = account_find_by_contact(external_id=account_external_id, email=requester_email)
    context = selectors.ticket_context(account=account, account_match=how, now=now, **fields)
    if account_external_id and how != "external_id":
        context["unknown_account_reference"] = account_external_id
    setup = selectors.routing_setup()
    rule_set = setup.rule_set
    match = engine.route(setup.rules, context)
    out = match.rule.outputs
    queue = setup.queues[out["queue_id"]]
    reason = match.reason
    owner = get_user_model().objects.get(pk=out["owner_id"]) if out["owner_id"] else None
    if owner is None and queue.auto_assign:
        owner = selectors.least_loaded_member(queue)
        if owner is not None:
            reason += (
                f" Owner {owner.get_username()}: the member of {queue.code} with the fewest open tickets."
            )
    policy = setup.policy_for(
        policy_id=out["sla_policy_id"],
        severity=out["severity"],
        shape=context.get("shape"),
        channel_code=context.get("channel"),
    )
    ticket = Ticket(
        account=account,
        account_match=how,
        context=context,
        category=out["category"],
        severity=out["severity"],
        queue=queue,
        owner=owner,
        status=TicketStatus.ASSIGNED if owner else TicketStatus.NEW,
        created_at=now,
        owner_assigned_at=now if owner else None,
        **fields,
    )
    _set_due_times(ticket, policy, setup.spec_for(policy) if policy else None)
    paged = out["severity"] == Severity.SEV1 or out["page_oncall"]
    ticket.intake_result = {
        "category": ticket.category,
        "severity": ticket.severity,
        "queue": queue.code,
        "owner": owner.get_username() if owner else None,
        "status": ticket.status,
        "rule": {
            "id": match.rule.id,
            "key": match.rule.key,
            "name": match.rule.name,
            "rule_set_version": rule_set.version,
            "revision": match.rule.revision,
        },
        "reason": reason,
        "triggers": match.triggers,
        "sla": _sla_answer(ticket),
        "paged": paged,
    }
    ticket.save()
    RoutingDecision.objects.create(
        ticket=ticket,
        kind=DecisionKind.RULE,
        rule_id=match.rule.id,
        rule_key=match.rule.key,
        rule_set_version=rule_set.version,
        rule_revision=match.rule.revision,
        triggers=match.triggers,
        category=ticket.category,
        severity=ticket.severity,
        queue=queue,
        owner=owner,
        reason=reason,
        decided_at=now,
        decided_by=actor,
    )
    if paged:
        _page(ticket, reason)
    return ticket, True


# --- Working a ticket ----------------------------------------------------------------------------


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
    ticket = _locked_ticket(ticket)
    _require_queue_access(actor, ticket.queue)
    if ticket.status == TicketStatus.SOLVED:
        raise Conflict("ticket_solved", "A solved ticket is not reassigned.")
    if owner is not None and not selectors.can_work_queue(owner, queue):
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
        _set_due_times(
            ticket,
            selectors.sla_policy_for(
                severity=ticket.severity,
                shape=ticket.context.get("shape"),
                channel_code=ticket.context.get("channel"),
            ),
        )
    ticket.save()
    RoutingDecision.objects.create(
        ticket=ticket,
        kind=DecisionKind.MANUAL,
        category=ticket.category,
        severity=ticket.severity,
        queue=queue,
        owner=owner,
        reason=reason.strip(),
        decided_at=now,
        decided_by=actor,
    )
    if severity_changed and ticket.severity == Severity.SEV1:
        _page(ticket, f"Raised to sev1 by {actor.get_username()}: {reason.strip()}")
    return ticket


@service
def ticket_respond(*, ticket: Ticket, actor) -> Ticket:
    """Record the first response to the customer (later responses change nothing here)."""
    ticket = _locked_ticket(ticket)
    _require_queue_access(actor, ticket.queue)
    if ticket.first_response_at is None:
        ticket.first_response_at = timezone.now()
        ticket.save()
    return ticket


@service
def ticket_wait(*, ticket: Ticket, actor, now: datetime | None = None) -> Ticket:
    """The ticket waits on the customer: its clocks stop until ``ticket_resume``."""
    ticket = _locked_ticket(ticket)
    _require_queue_access(actor, ticket.queue)
    if ticket.status in (TicketStatus.WAITING, TicketStatus.SOLVED):
        raise Conflict("ticket_not_running", f"The ticket is {ticket.status}; it cannot start waiting.")
    now = now or timezone.now()
    pauses = parse_pauses(ticket.pauses) + [(now, None)]
    ticket.pauses = dump_pauses(pauses)
    ticket.status = TicketStatus.WAITING
    _set_due_times(ticket, ticket.sla_policy)
    ticket.save()
    return ticket


def _close_pause(ticket: Ticket, now: datetime) -> None:
    pauses = parse_pauses(ticket.pauses)
    if pauses and pauses[-1][1] is None:
        pauses[-1] = (pauses[-1][0], max(now, pauses[-1][0]))
        ticket.pauses = dump_pauses(pauses)


@service
def ticket_resume(*, ticket: Ticket, actor, now: datetime | None = None) -> Ticket:
    """The customer answered: the clocks run again, later by exactly the time waited."""
    ticket = _locked_ticket(ticket)
    _require_queue_access(actor, ticket.queue)
    if ticket.status != TicketStatus.WAITING:
        raise Conflict("ticket_not_waiting", "The ticket is not waiting on the customer.")
    _close_pause(ticket, now or timezone.now())
    ticket.status = TicketStatus.ASSIGNED if ticket.owner_id else TicketStatus.NEW
    _set_due_times(ticket, ticket.sla_policy)
    ticket.save()
    return ticket


@service
def ticket_policy_set(*, ticket: Ticket, policy: SlaPolicy, actor) -> Ticket:
    """Put a ticket under another SLA policy; the time it already waited still counts as paused."""
    ticket = _locked_ticket(ticket)
    _require_queue_access(actor, ticket.queue)
    if ticket.status == TicketStatus.SOLVED:
        raise Conflict("ticket_solved", "A solved ticket keeps its policy.")
    _set_due_times(ticket, policy)
    ticket.save()
    return ticket


@service
def ticket_solve(*, ticket: Ticket, final_category: str, actor) -> Ticket:
    """Close a ticket with the category it turned out to be, for the weekly rule review."""
    if final_category not in Category.values:
        raise ValidationFailed("unknown_category", f"Unknown category {final_category!r}.")
    ticket = _locked_ticket(ticket)
    _require_queue_access(actor, ticket.queue)
    if ticket.status == TicketStatus.SOLVED:
        raise Conflict("ticket_solved", "The ticket is already solved.")
    now = timezone.now()
    _close_pause(ticket, now)
    ticket.status = TicketStatus.SOLVED
    ticket.solved_at = now
    ticket.final_category = final_category
    ticket.first_response_at = ticket.first_response_at or now
    ticket.save()
    return ticket


# --- SLA breaches --------------------------------------------------------------------------------


@service
def sla_breach_record(*, ticket_id: int, target: str, now: datetime, actor) -> bool:
    """Record one missed target, escalate the ticket and alert its queue. True if new.

    The unique (ticket, target) constraint makes a breach fire once however often the check
    runs or however many workers run it.
    """
    due_field, met_field = selectors.SLA_FIELDS[target]
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
            link=_ticket_link(ticket),
        ),
        url=ticket.queue.pager_webhook_url or None,
    )
    return True


# --- Rule sets -----------------------------------------------------------------------------------


def _locked_draft(rule_set: RuleSet) -> RuleSet:
    rule_set = RuleSet.objects.select_for_update().get(pk=rule_set.pk)
    if rule_set.status != RuleSetStatus.DRAFT:
        raise Conflict(
            "rule_set_not_draft",
            f"Rule set v{rule_set.version} is {rule_set.status}; copy it to a draft to change it.",
        )
    return rule_set


def _bump(rule_set: RuleSet) -> None:
    rule_set.revision += 1
    rule_set.save(update_fields=["revision"])


@service
def rule_set_draft_create(*, based_on: RuleSet | None = None, note: str = "", actor) -> RuleSet:
    """A new draft holding a copy of ``based_on``'s rules (the active set by default)."""
    source = based_on or selectors.active_rule_set()
    version = (RuleSet.objects.aggregate(v=Max("version"))["v"] or 0) + 1
    try:
        with transaction.atomic():
            draft = RuleSet.objects.create(version=version, note=note, based_on=source)
    except IntegrityError as exc:
        raise Conflict(
            "rule_set_version_taken", "Another draft was created at the same moment; retry."
        ) from exc
    for rule in source.rules.order_by("priority"):
        rule.pk = None
        rule.id = None
        rule.rule_set = draft
        rule.revision = 1
        rule._state.adding = True
        rule.save()
    return draft


RULE_FIELDS = (
    "key",
    "name",
    "priority",
    "enabled",
    "match",
    "conditions",
    "category",
    "severity",
    "queue",
    "owner",
    "sla_policy",
    "page_oncall",
)


@service
def rule_save(*, rule_set: RuleSet, rule: RoutingRule | None = None, actor, **values) -> RoutingRule:
    """Create or change a rule of a draft. The rule is validated as the engine will compile it."""
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise ValidationFailed("unknown_rule_fields", f"Unknown rule fields: {', '.join(sorted(unknown))}.")
    rule_set = _locked_draft(rule_set)
    if rule is None:
        rule = RoutingRule(rule_set=rule_set)
    else:
        rule = RoutingRule.objects.select_for_update().get(pk=rule.pk, rule_set=rule_set)
        rule.revision += 1
    for name, value in values.items():
        setattr(rule, name, value)
    errors = {}
    if rule.category not in Category.values:
        errors["category"] = f"Unknown category {rule.category!r}."
    if rule.severity not in Severity.values:
        errors["severity"] = f"Unknown severity {rule.severity!r}."
    if not rule.key or not rule.name:
        errors["key"] = "A rule needs a key and a name."
    if rule.queue_id is None:
        errors["queue"] = "A rule sends tickets to a queue."
    if rule.is_default and not rule.enabled:
        errors["enabled"] = "The catch-all rule cannot be disabled."
    if (
        rule.owner_id is not None
        and rule.queue_id is not None
        and not selectors.can_work_queue(rule.owner, rule.queue)
    ):
        errors["owner"] = f"{rule.owner.get_username()} does not work the queue {rule.queue.code!r}."
    try:
        engine.validate_rule(match=rule.match, conditions=rule.conditions, is_default=rule.is_default)
    except engine.RuleInvalid as exc:
        errors.update({f"conditions.{k}" if k.isdigit() else k: v for k, v in exc.errors.items()})
    if errors:
        raise ValidationFailed("invalid_rule", "The rule is not valid; see details.", errors)
    try:
        with transaction.atomic():
            rule.save()
    except IntegrityError as exc:
        raise ValidationFailed(
            "rule_clash",
            "Another rule of this set has the same priority or key.",
            {"priority": rule.priority, "key": rule.key},
        ) from exc
    _bump(rule_set)
    return rule


@service
def rule_delete(*, rule: RoutingRule, actor) -> None:
    rule_set = _locked_draft(rule.rule_set)
    rule = RoutingRule.objects.select_for_update().get(pk=rule.pk)
    if rule.is_default:
        raise Conflict("default_rule_required", "The catch-all rule cannot be removed; change it instead.")
    rule.delete()
    _bump(rule_set)


@service
def rule_set_activate(*, rule_set: RuleSet, actor) -> RuleSet:
    """Make a draft the rule set intake uses; the previously active set is retired."""
    rule_set = _locked_draft(rule_set)
    try:
        engine.compile_rules(
            selectors.rule_specs(rule_set), version=rule_set.version, revision=rule_set.revision
        )
    except engine.RuleInvalid as exc:
        raise ValidationFailed("invalid_rule_set", str(exc), exc.errors) from exc
    for current in RuleSet.objects.select_for_update().filter(status=RuleSetStatus.ACTIVE):
        current.status = RuleSetStatus.RETIRED
        current.save(update_fields=["status"])
    rule_set.status = RuleSetStatus.ACTIVE
    rule_set.activated_at = timezone.now()
    rule_set.save(update_fields=["status", "activated_at"])
    return rule_set


# --- Backtests -----------------------------------------------------------------------------------


@service
def backtest_request(*, rule_set: RuleSet, actor, days: int = BACKTEST_DAYS) -> Backtest:
    """Queue a replay of the last ``days`` of tickets through ``rule_set``."""
    from routing.tasks import backtest_run

    if rule_set.status == RuleSetStatus.ACTIVE:
        raise Conflict(
            "backtest_active_set", "Backtest a draft against the active set, not the active set itself."
        )
    now = timezone.now()
    backtest = Backtest.objects.create(
        rule_set=rule_set,
        rule_set_revision=rule_set.revision,
        window_start=now - timedelta(days=days),
        window_end=now,
        requested_by=actor,
    )
    transaction.on_commit(lambda: backtest_run.delay(backtest.pk))
    return backtest


def _assignment(match: engine.Match) -> dict:
    out = match.rule.outputs
    return {
        "rule": match.rule.key,
        "category": out["category"],
        "severity": out["severity"],
        "queue": out["queue"],
        "owner": out["owner"],
    }


@service
def backtest_execute(*, backtest_id: int, actor) -> Backtest:
    """Replay each ticket's stored context through the draft and through the active set, and
    count, per draft rule, the tickets whose assignment would change. Runs once per backtest."""
    backtest = Backtest.objects.select_for_update().select_related("rule_set").get(pk=backtest_id)
    if backtest.status != BacktestStatus.PENDING:
        return backtest
    active = selectors.active_rule_set()
    try:
        draft_rules = selectors.compiled_rules(backtest.rule_set)
    except engine.RuleInvalid as exc:
        backtest.status = BacktestStatus.FAILED
        backtest.error = str(exc)
        backtest.finished_at = timezone.now()
        backtest.save()
        return backtest
    active_rules = selectors.compiled_rules(active)
    per_rule: dict[str, dict] = {
        r.spec.key: {"name": r.spec.name, "matched": 0, "changed": 0, "samples": []}
        for r in draft_rules.rules
    }
    replayed = changed = 0
    tickets = (
        Ticket.objects.filter(created_at__gte=backtest.window_start, created_at__lt=backtest.window_end)
        .order_by("created_at")
        .values_list("pk", "source", "external_id", "subject", "context")
    )
    for pk, source, external_id, subject, context in tickets.iterator(chunk_size=2000):
        replayed += 1
        before = _assignment(engine.route(active_rules, context))
        after_match = engine.route(draft_rules, context)
        after = _assignment(after_match)
        entry = per_rule[after_match.rule.key]
        entry["matched"] += 1
        if {k: v for k, v in before.items() if k != "rule"} != {
            k: v for k, v in after.items() if k != "rule"
        }:
            changed += 1
            entry["changed"] += 1
            if len(entry["samples"]) < BACKTEST_SAMPLES_PER_RULE:
                entry["samples"].append(
                    {
                        "ticket_id": pk,
                        "ticket": f"{source}:{external_id}",
                        "subject": subject[:120],
                        "before": before,
                        "after": after,
                    }
                )
    backtest.baseline_version = active.version
    backtest.tickets_replayed = replayed
    backtest.tickets_changed = changed
    backtest.per_rule = per_rule
    backtest.status = BacktestStatus.DONE
    backtest.finished_at = timezone.now()
    backtest.save()
    return backtest


# --- Queue access --------------------------------------------------------------------------------


@service
def queue_access_grant(*, queue: Queue, user=None, group=None, actor) -> None:
    """Let a user or a group (a role) see and work a queue's tickets."""
    if (user is None) == (group is None):
        raise ValidationFailed("grantee_required", "Grant to exactly one user or one group.")
    assign_perm("work_queue", user or group, queue)


@service
def queue_access_revoke(*, queue: Queue, user=None, group=None, actor) -> None:
    if (user is None) == (group is None):
        raise ValidationFailed("grantee_required", "Revoke from exactly one user or one group.")
    remove_perm("work_queue", user or group, queue)


# --- Escalations ---------------------------------------------------------------------------------


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
    known = not to_engineering and source_exception is not None and source_exception.reason_code.has_runbook
    kind = EscalationKind.OPS if known else EscalationKind.ENGINEERING
    queue = Queue.objects.filter(code=OPS_QUEUE if known else ENGINEERING_TRIAGE_QUEUE).first()
    if queue is None:
        raise NotFound("queue_missing", "The escalation queues are missing; run the routing migrations.")
    telemetry = selectors.escalation_telemetry(
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
    if ticket is not None:
        locked = _locked_ticket(ticket)
        if locked.status != TicketStatus.SOLVED:
            locked.status = TicketStatus.ESCALATED
            locked.save()
    alert_send(
        Alert(
            kind="escalation",
            title=f"{EscalationKind(kind).label}: {summary[:120]}",
            text=f"Account {account.external_id} ({account.plan}, {account.channel.code})",
            severity="warning",
            fields={"queue": queue.code, "error_code": error_code or "-", "request_id": request_id or "-"},
        ),
        url=queue.pager_webhook_url or None,
    )
    return escalation


@service
def ticket_escalate(*, ticket: Ticket, summary: str, actor) -> Escalation:
    """Escalate a ticket: to ops when it is about an open exception with a runbook (named by its
    error code), otherwise to engineering triage."""
    ticket = Ticket.objects.select_related("account__channel", "queue").get(pk=ticket.pk)
    _require_queue_access(actor, ticket.queue)
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
