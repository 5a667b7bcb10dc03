"""Reads for routing: compiled rules, ticket context, what a user may see, queue and rule figures."""

import statistics
from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone
from guardian.shortcuts import get_objects_for_user

from accounts.selectors import (
    account_counts_by_channel,
    account_recent_events,
    open_exceptions,
    provisioning_status,
)
from accounts.shapes import EVENT_STEP_TRANSITIONS, PLANS, is_failure_event
from opsconsole.errors import ValidationFailed
from routing import engine
from routing.choices import OPEN_TICKET_STATUSES, DecisionKind, EscalationKind, RuleSetStatus, SlaTarget
from routing.models import (
    BusinessCalendar,
    Escalation,
    Holiday,
    Queue,
    QueueGroupObjectPermission,
    QueueUserObjectPermission,
    RoutingDecision,
    RoutingRule,
    RuleSet,
    SlaPolicy,
    Ticket,
)
from routing.sla import ALWAYS_OPEN, CalendarSpec

WORK_QUEUE = "routing.work_queue"
# How far back enrichment looks for failures and successes; "failed attempts" counts within it.
EVENTS_SCANNED = 20
SUCCESS_EVENT_TYPES = frozenset(
    [t for t, tr in EVENT_STEP_TRANSITIONS.items() if tr.outcome == "succeeded"] + ["first_value.reached"]
)


# --- Rules -----------------------------------------------------------------------------------

# Keyed by (rule set id, revision): a key names one exact content, so an entry can never go
# stale, and every process fills its own copy at most once per revision.
_COMPILED: OrderedDict[tuple[int, int], engine.CompiledRuleSet] = OrderedDict()
_COMPILED_KEEP = 16


def rule_specs(rule_set: RuleSet) -> list[engine.RuleSpec]:
    rules = rule_set.rules.filter(enabled=True).select_related("queue", "owner", "sla_policy")
    return [
        engine.RuleSpec(
            id=r.pk,
            key=r.key,
            name=r.name,
            priority=r.priority,
            match=r.match,
            conditions=r.conditions,
            is_default=r.is_default,
            revision=r.revision,
            outputs={
                "category": r.category,
                "severity": r.severity,
                "queue_id": r.queue_id,
                "queue": r.queue.code,
                "owner_id": r.owner_id,
                "owner": r.owner.get_username() if r.owner else None,
                "sla_policy_id": r.sla_policy_id,
                "page_oncall": r.page_oncall,
            },
        )
        for r in rules
    ]


def compiled_rules(rule_set: RuleSet) -> engine.CompiledRuleSet:
    key = (rule_set.pk, rule_set.revision)
    compiled = _COMPILED.get(key)
    if compiled is None:
        compiled = engine.compile_rules(
            rule_specs(rule_set), version=rule_set.version, revision=rule_set.revision
        )
        _COMPILED[key] = compiled
        while len(_COMPILED) > _COMPILED_KEEP:
            _COMPILED.popitem(last=False)
    return compiled


def active_rule_set() -> RuleSet:
    rule_set = RuleSet.objects.filter(status=RuleSetStatus.ACTIVE).first()
    if rule_set is None:
        raise ValidationFailed("no_active_rule_set", "No routing rule set is active.")
    return rule_set


@dataclass(frozen=True)
class RoutingSetup:
    """What intake routes with: the compiled active rules and the queues, SLA policies and
    calendars they point at, read once per version of any of them."""

    rule_set: RuleSet
    rules: engine.CompiledRuleSet
    queues: dict[int, Queue]
    policies: tuple[SlaPolicy, ...]
    calendars: dict[int, CalendarSpec]

    def policy_for(
        self, *, policy_id: int | None, severity: str, shape: str | None, channel_code: str | None
    ):
        if policy_id is not None:
            return next(p for p in self.policies if p.pk == policy_id)
        return choose_policy(self.policies, severity=severity, shape=shape, channel_code=channel_code)

    def spec_for(self, policy: SlaPolicy) -> CalendarSpec:
        return self.calendars[policy.calendar_id] if policy.business_hours else ALWAYS_OPEN


# Each change to a queue, policy, calendar or holiday writes a history row, so the newest
# history id of each table is a version the database keeps for free.
# (``Model.history`` builds a manager class on every access, so the history models are named once.)
_SETUP_VERSIONED = {
    "queues": Queue.history.model,
    "policies": SlaPolicy.history.model,
    "calendars": BusinessCalendar.history.model,
    "holidays": Holiday.history.model,
}
_SETUPS: OrderedDict[tuple, RoutingSetup] = OrderedDict()


def routing_setup() -> RoutingSetup:
    """The active routing setup in one query, built at most once per version in each process."""
    versions = {
        name: Subquery(history.objects.order_by("-history_id").values("history_id")[:1])
        for name, history in _SETUP_VERSIONED.items()
    }
    rule_set = RuleSet.objects.filter(status=RuleSetStatus.ACTIVE).annotate(**versions).first()
    if rule_set is None:
        raise ValidationFailed("no_active_rule_set", "No routing rule set is active.")
    key = (rule_set.pk, rule_set.revision, *(getattr(rule_set, name) for name in _SETUP_VERSIONED))
    setup = _SETUPS.get(key)
    if setup is None:
        holidays = defaultdict(set)
        for calendar_id, day in Holiday.objects.values_list("calendar_id", "date"):
            holidays[calendar_id].add(day)
        setup = RoutingSetup(
            rule_set=rule_set,
            rules=compiled_rules(rule_set),
            queues={q.pk: q for q in Queue.objects.all()},
            policies=tuple(SlaPolicy.objects.select_related("channel", "calendar")),
            calendars={
                c.pk: CalendarSpec(
                    timezone=c.timezone,
                    weekdays=frozenset(c.weekdays),
                    day_start=c.day_start,
                    day_end=c.day_end,
                    holidays=frozenset(holidays[c.pk]),
                )
                for c in BusinessCalendar.objects.all()
            },
        )
        _SETUPS[key] = setup
        while len(_SETUPS) > _COMPILED_KEEP:
            _SETUPS.popitem(last=False)
    return setup


# --- Enrichment ------------------------------------------------------------------------------


def _event_brief(event) -> dict:
    return {
        "type": event.type,
        "occurred_at": event.occurred_at.isoformat(),
        "error_code": event.error_code,
        "request_id": event.request_id,
        "feature_area": event.feature_area,
    }


def ticket_context(
    *,
    account,
    account_match: str,
    source: str,
    external_id: str,
    subject: str,
    body: str,
    requester_email: str,
    error_code: str = "",
    request_id: str = "",
    feature_area: str = "",
    now: datetime,
) -> dict:
    """The snapshot stored on a ticket: the rule fields (engine.CONTEXT_FIELDS) plus what an
    agent reads on the ticket page (recent events, open exceptions)."""
    context = {
        "source": source,
        "external_id": external_id,
        "subject": subject,
        "body": body,
        "text": f"{subject}\n{body}",
        "requester_email": requester_email,
        "requester_domain": requester_email.rsplit("@", 1)[-1].lower() if "@" in requester_email else "",
        "error_code": error_code,
        "request_id": request_id,
        "feature_area": feature_area,
        "account_matched": account is not None,
        "account_match": account_match,
        "enriched_at": now.isoformat(),
    }
    if account is None:
        return context
    events = account_recent_events(account=account, limit=EVENTS_SCANNED)
    failed = [e for e in events if is_failure_event(e.type)]
    succeeded = [e for e in events if e.type in SUCCESS_EVENT_TYPES]
    exceptions = list(open_exceptions(account))
    plan = PLANS.get(account.plan)
    mrr_cents = account.mrr_cents or (plan.mrr_cents if plan else 0)
    context.update(
        {
            "account_external_id": account.external_id,
            "account_name": account.name,
            "plan": account.plan,
            "paid": bool(plan and plan.mrr_cents > 0),
            "shape": account.shape,
            "channel": account.channel.code,
            "channel_kind": account.channel.kind,
            "channel_sla_minutes": account.channel.support_sla_minutes,
            "lifecycle_stage": account.lifecycle_stage,
            "account_owner": account.owner.get_username() if account.owner else "",
            "billing_status": account.billing_status,
            "arr_cents": mrr_cents * 12,
            "account_age_days": max(0, (now - account.signed_up_at).days),
            "provisioning_status": provisioning_status(account).status,
            "last_failed_event": failed[0].type if failed else "",
            "last_failed_error_code": failed[0].error_code if failed else "",
            "last_success_event": succeeded[0].type if succeeded else "",
            "recent_event_types": [e.type for e in events[:5]],
            "open_exception_codes": [x.reason_code.code for x in exceptions],
            "open_exception_count": len(exceptions),
            "failed_attempts": len(failed),
            "last_failed": _event_brief(failed[0]) if failed else None,
            "last_success": _event_brief(succeeded[0]) if succeeded else None,
            "recent_events": [_event_brief(e) for e in events[:5]],
            "open_exceptions": [
                {
                    "reason_code": x.reason_code.code,
                    "status": x.status,
                    "opened_at": x.opened_at.isoformat(),
                    "summary": x.summary,
                    "has_runbook": x.reason_code.has_runbook,
                }
                for x in exceptions
            ],
        }
    )
    return context


# --- SLA policies ------------------------------------------------------------------------------


def sla_policy_for(*, severity: str, shape: str | None, channel_code: str | None) -> SlaPolicy | None:
    """The most specific policy for a severity: one for the channel, else the shape, else general."""
    policies = SlaPolicy.objects.filter(severity=severity).select_related("channel", "calendar")
    return choose_policy(policies, severity=severity, shape=shape, channel_code=channel_code)


def choose_policy(
    policies, *, severity: str, shape: str | None, channel_code: str | None
) -> SlaPolicy | None:
    best, best_score = None, -1
    for policy in policies:
        if policy.severity != severity:
            continue
        if policy.channel_id and (policy.channel.code != channel_code):
            continue
        if policy.shape and policy.shape != shape:
            continue
        score = (2 if policy.channel_id else 0) + (1 if policy.shape else 0)
        if score > best_score:
            best, best_score = policy, score
    return best


def calendar_spec(policy: SlaPolicy) -> CalendarSpec:
    """The clock a policy runs on, read now (intake uses the cached RoutingSetup instead)."""
    if not policy.business_hours:
        return ALWAYS_OPEN
    calendar: BusinessCalendar = policy.calendar
    return CalendarSpec(
        timezone=calendar.timezone,
        weekdays=frozenset(calendar.weekdays),
        day_start=calendar.day_start,
        day_end=calendar.day_end,
        holidays=frozenset(calendar.holidays.values_list("date", flat=True)),
    )


# --- Who sees what -----------------------------------------------------------------------------


def can_work_queue(user, queue: Queue) -> bool:
    return user.has_perm(WORK_QUEUE) or user.has_perm(WORK_QUEUE, queue)


def queues_visible_to(user) -> QuerySet[Queue]:
    if user.has_perm(WORK_QUEUE):
        return Queue.objects.all()
    return get_objects_for_user(user, WORK_QUEUE, klass=Queue, accept_global_perms=False)


def tickets_visible_to(user) -> QuerySet[Ticket]:
    """Tickets in the queues a user works; ops leads (the global permission) see them all."""
    base = Ticket.objects.select_related("queue", "owner", "account")
    if user.has_perm(WORK_QUEUE):
        return base
    return base.filter(queue__in=queues_visible_to(user))


def least_loaded_member(queue: Queue):
    """The member with the fewest open tickets (ties: the longest-standing user).

    Intake asks this for most tickets, so it is one hand-written read over the direct-FK
    permission tables rather than an ORM join that costs more to compile than to run.
    """
    user_table = get_user_model()._meta.db_table
    groups_table = get_user_model().groups.through._meta.db_table
    sql = f"""
        SELECT u.* FROM {user_table} u
        WHERE u.is_active AND u.is_staff AND u.id IN (
            SELECT up.user_id FROM {QueueUserObjectPermission._meta.db_table} up
            JOIN {Permission._meta.db_table} p ON p.id = up.permission_id
            WHERE up.content_object_id = %s AND p.codename = 'work_queue'
            UNION
            SELECT ug.user_id FROM {groups_table} ug
            JOIN {QueueGroupObjectPermission._meta.db_table} gp ON gp.group_id = ug.group_id
            JOIN {Permission._meta.db_table} p ON p.id = gp.permission_id
            WHERE gp.content_object_id = %s AND p.codename = 'work_queue')
        ORDER BY (SELECT COUNT(*) FROM {Ticket._meta.db_table} t
                  WHERE t.owner_id = u.id AND t.status IN ({", ".join(["%s"] * len(OPEN_TICKET_STATUSES))})),
                 u.id
        LIMIT 1"""
    found = list(get_user_model().objects.raw(sql, [queue.pk, queue.pk, *OPEN_TICKET_STATUSES]))
    return found[0] if found else None


# --- Queue figures -----------------------------------------------------------------------------

AGE_BUCKETS_HOURS = (1, 4, 8, 24, 72, 168)


def _percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks, as PostgreSQL's percentile_cont."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def past_target(ticket: Ticket, now: datetime) -> bool:
    """Whether any unmet SLA target of an open ticket is already due."""
    pending = [
        (ticket.owner_due_at, ticket.owner_assigned_at),
        (ticket.first_response_due_at, ticket.first_response_at),
        (ticket.resolution_due_at, ticket.solved_at),
    ]
    return any(due is not None and met is None and due <= now for due, met in pending)


_STATS_FIELDS = (
    "queue_id",
    "created_at",
    "owner_due_at",
    "owner_assigned_at",
    "first_response_due_at",
    "first_response_at",
    "resolution_due_at",
    "solved_at",
    "status",
)


def queue_stats(queue: Queue, *, now: datetime | None = None) -> dict:
    """Open tickets in a queue: count, age p50/p90/p99 in hours, past-target count, histogram."""
    return queues_stats([queue], now=now)[queue.pk]


def queues_stats(queues, *, now: datetime | None = None) -> dict[int, dict]:
    """``queue_stats`` for several queues, from one query over their open tickets."""
    now = now or timezone.now()
    queues = list(queues)
    open_by_queue: dict[int, list[Ticket]] = {queue.pk: [] for queue in queues}
    open_tickets = Ticket.objects.filter(queue__in=queues, status__in=OPEN_TICKET_STATUSES)
    for ticket in open_tickets.only(*_STATS_FIELDS):
        open_by_queue[ticket.queue_id].append(ticket)
    return {queue.pk: _figures(queue, open_by_queue[queue.pk], now) for queue in queues}


def _figures(queue: Queue, tickets: list[Ticket], now: datetime) -> dict:
    ages = sorted((now - t.created_at).total_seconds() / 3600 for t in tickets)
    edges = (0,) + AGE_BUCKETS_HOURS
    histogram = []
    for i, low in enumerate(edges):
        high = edges[i + 1] if i + 1 < len(edges) else None
        count = sum(1 for a in ages if a >= low and (high is None or a < high))
        label = f"{low}-{high} h" if high is not None else f"{low} h+"
        histogram.append({"label": label, "count": count})
    return {
        "queue": queue,
        "open": len(tickets),
        "p50_hours": _percentile(ages, 0.50),
        "p90_hours": _percentile(ages, 0.90),
        "p99_hours": _percentile(ages, 0.99),
        "past_target": sum(1 for t in tickets if past_target(t, now)),
        "histogram": histogram,
        "histogram_max": max((b["count"] for b in histogram), default=0),
    }


# --- Reports -----------------------------------------------------------------------------------

HIGH_REASSIGNMENT_SHARE = 0.20
# Below this many tickets a week, a reassignment share is noise, not a signal.
HIGH_REASSIGNMENT_MIN_TICKETS = 5


def rule_review(*, weeks: int = 8, now: datetime | None = None) -> list[dict]:
    """Per rule and ISO week: tickets routed, share reassigned, share whose final category
    differed from the routed one, median minutes to owner; flags high reassignment."""
    now = now or timezone.now()
    since = now - timedelta(weeks=weeks)
    rows = (
        RoutingDecision.objects.filter(kind=DecisionKind.RULE, decided_at__gte=since)
        .values_list(
            "rule_key",
            "rule__name",
            "decided_at",
            "category",
            "ticket__reassignment_count",
            "ticket__final_category",
            "ticket__created_at",
            "ticket__owner_assigned_at",
        )
        .order_by()
    )
    groups: dict[tuple[str, str], dict] = defaultdict(
        lambda: {"routed": 0, "reassigned": 0, "solved": 0, "differed": 0, "to_owner": [], "name": ""}
    )
    for key, name, decided_at, category, reassigned, final_category, created_at, owner_at in rows.iterator():
        year, week, _ = decided_at.isocalendar()
        group = groups[(key, f"{year}-W{week:02d}")]
        group["name"] = name or key
        group["routed"] += 1
        group["reassigned"] += 1 if reassigned else 0
        if final_category:
            group["solved"] += 1
            group["differed"] += 1 if final_category != category else 0
        if owner_at is not None:
            group["to_owner"].append((owner_at - created_at).total_seconds() / 60)
    report = []
    for (key, week), g in sorted(groups.items(), key=lambda item: (item[0][1], item[0][0]), reverse=True):
        share_reassigned = g["reassigned"] / g["routed"]
        report.append(
            {
                "rule_key": key,
                "rule_name": g["name"],
                "week": week,
                "routed": g["routed"],
                "share_reassigned": share_reassigned,
                "share_category_differed": (g["differed"] / g["solved"]) if g["solved"] else None,
                "median_minutes_to_owner": statistics.median(g["to_owner"]) if g["to_owner"] else None,
                "high_reassignment": g["routed"] >= HIGH_REASSIGNMENT_MIN_TICKETS
                and share_reassigned > HIGH_REASSIGNMENT_SHARE,
            }
        )
    return report


def engineering_escalations_per_100_accounts(*, since: datetime, until: datetime) -> dict[str, dict]:
    """Engineering escalations in [since, until) per 100 accounts, per channel code."""
    escalations = dict(
        Escalation.objects.filter(
            kind=EscalationKind.ENGINEERING, created_at__gte=since, created_at__lt=until
        )
        .values_list("channel__code")
        .annotate(n=Count("id"))
        .values_list("channel__code", "n")
    )
    report = {}
    for code, account_count in sorted(account_counts_by_channel().items()):
        count = escalations.get(code, 0)
        report[code] = {
            "accounts": account_count,
            "escalations": count,
            "per_100_accounts": round(100 * count / account_count, 2) if account_count else None,
        }
    return report


def ticket_decisions(ticket: Ticket) -> QuerySet[RoutingDecision]:
    """A ticket's decisions in order, each marked ``overridden`` when a person reassigned after it."""
    later_manual = RoutingDecision.objects.filter(
        ticket=OuterRef("ticket"), kind=DecisionKind.MANUAL, id__gt=OuterRef("id")
    )
    return (
        ticket.decisions.select_related("rule", "queue", "owner", "decided_by")
        .annotate(overridden=Exists(later_manual))
        .order_by("decided_at", "id")
    )


def rules_of(rule_set: RuleSet) -> QuerySet[RoutingRule]:
    return rule_set.rules.select_related("queue", "owner", "sla_policy").order_by("is_default", "priority")


SLA_FIELDS = {
    SlaTarget.OWNER: ("owner_due_at", "owner_assigned_at"),
    SlaTarget.FIRST_RESPONSE: ("first_response_due_at", "first_response_at"),
    SlaTarget.RESOLUTION: ("resolution_due_at", "solved_at"),
}


# Per target and run: a backlog (a worker down for an hour) drains over a few minutes instead
# of one run outliving its time limit.
SLA_CHECK_BATCH = 500


def tickets_past_due(*, now: datetime, limit: int = SLA_CHECK_BATCH) -> list[tuple[int, str]]:
    """(ticket id, target) pairs whose target is due and unmet and not yet recorded as breached,
    the longest overdue first."""
    found = []
    for target, (due_field, met_field) in SLA_FIELDS.items():
        ids = (
            Ticket.objects.filter(
                status__in=OPEN_TICKET_STATUSES,
                **{f"{due_field}__lte": now, f"{met_field}__isnull": True},
            )
            .exclude(breaches__target=target)
            # pk breaks ties: business-hours clocks give every ticket opened out of hours the same due time
            .order_by(due_field, "pk")
            .values_list("pk", flat=True)[:limit]
        )
        found.extend((pk, target) for pk in ids)
    return found


def escalation_telemetry(
    *, account, error_code: str = "", request_id: str = "", feature_area: str = "", source_exception=None
) -> dict:
    """What engineering needs to start without asking: who, on what, and what just happened."""
    events = account_recent_events(account=account, limit=5)
    telemetry = {
        "account": account.external_id,
        "plan": account.plan,
        "shape": account.shape,
        "channel": account.channel.code,
        "lifecycle_stage": account.lifecycle_stage,
        "billing_status": account.billing_status,
        "error_code": error_code,
        "request_id": request_id,
        "feature_area": feature_area,
        "last_events": [_event_brief(e) for e in events],
        "open_exception_codes": [x.reason_code.code for x in open_exceptions(account)],
    }
    if source_exception is not None:
        telemetry["exception"] = {
            "id": source_exception.pk,
            "reason_code": source_exception.reason_code.code,
            "has_runbook": source_exception.reason_code.has_runbook,
            "summary": source_exception.summary,
            "evidence": source_exception.evidence,
        }
    return telemetry


def account_tickets(*, account, user) -> QuerySet[Ticket]:
    """An account's tickets that ``user`` may see, newest first."""
    return tickets_visible_to(user).filter(account=account).order_by("-created_at")


def account_escalations(*, account) -> QuerySet[Escalation]:
    return Escalation.objects.filter(account=account).select_related("queue").order_by("-created_at")
