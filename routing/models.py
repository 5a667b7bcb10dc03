from django.conf import settings
from django.db import models
from django.db.models import Q
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from accounts.choices import Team
from accounts.models import SHAPE_CHOICES
from opsconsole.history import audited_history
from opsconsole.request_id import request_id_field
from opsconsole.restrict import RestrictedQuerySet
from routing.choices import (
    OPEN_TICKET_STATUSES,
    AccountMatch,
    BacktestStatus,
    Category,
    DecisionKind,
    EscalationKind,
    EscalationStatus,
    MatchMode,
    RuleSetStatus,
    Severity,
    SlaTarget,
    TicketStatus,
    TicketType,
    Tier,
    Via,
)

# Queues the code itself routes to; a data migration creates them so they always exist.
TRIAGE_QUEUE = "triage"
OPS_QUEUE = "ops"
ENGINEERING_TRIAGE_QUEUE = "engineering-triage"

WEEKDAYS_MON_TO_FRI = [0, 1, 2, 3, 4]

# Seeing a queue's tickets and working them are one grant: held for every queue (ops leads) or
# granted per queue to a user or a role (guardian, ``queue_access_grant``).
WORK_QUEUE = "routing.work_queue"


class QueueQuerySet(RestrictedQuerySet):
    """Queues a user works. Every action maps to ``routing.work_queue``: seeing a queue is
    working it, and the model permissions every role holds (``routing.view_queue``) do not
    widen that."""

    def permission_for(self, action: str) -> str:
        return WORK_QUEUE


class QueueWorkQuerySet(QueueQuerySet):
    """Rows seen by whoever works the queue they belong to (any of ``queue_paths``)."""

    queue_paths: tuple[str, ...] = ("queue",)

    def restrict_by_grants(self, user, action: str) -> "QueueWorkQuerySet":
        worked = Queue.objects.restrict_by_grants(user, action).values("pk")
        follows = Q()
        for path in self.queue_paths:
            follows |= Q(**{f"{path}__in": worked})
        return self.filter(follows)


class TicketQuerySet(QueueWorkQuerySet):
    """A ticket is seen by whoever works its queue."""


class TicketFollowerQuerySet(QueueWorkQuerySet):
    """A decision or a breach is seen with its ticket: by whoever works the ticket's queue now."""

    queue_paths = ("ticket__queue",)


class EscalationQuerySet(QueueWorkQuerySet):
    """An escalation is seen by whoever works the queue it was handed to, and, when it came
    from a ticket, by whoever works that ticket's queue (the agent who escalated it)."""

    queue_paths = ("queue", "ticket__queue")


def default_weekdays():
    return list(WEEKDAYS_MON_TO_FRI)


class BusinessCalendar(models.Model):
    """Working hours in a time zone, with holidays: the clock business-hour SLAs run on."""

    name = models.CharField(max_length=100, unique=True)
    timezone = models.CharField(max_length=64, default="UTC")
    weekdays = models.JSONField(default=default_weekdays, help_text="Working days, 0 = Monday.")
    day_start = models.TimeField()
    day_end = models.TimeField()
    history = audited_history()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(day_start__lt=models.F("day_end")), name="calendar_day_order")
        ]

    def __str__(self):
        return self.name


class Holiday(models.Model):
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100)
    history = audited_history()

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="holiday_unique_per_day")]

    def __str__(self):
        return f"{self.name} ({self.date})"


class SlaPolicy(models.Model):
    """Targets for one severity, optionally narrowed to a shape or a channel.

    With ``business_hours`` off the clock runs around the clock (sev1), otherwise on the
    calendar's working hours.
    """

    name = models.CharField(max_length=100, unique=True)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    shape = models.CharField(max_length=40, choices=SHAPE_CHOICES, blank=True)
    channel = models.ForeignKey(
        "accounts.Channel", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    via = models.CharField(
        max_length=8,
        choices=Via.choices,
        blank=True,
        help_text="Only tickets that came this way; blank: any.",
    )
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="policies")
    business_hours = models.BooleanField(default=True)
    owner_minutes = models.PositiveIntegerField()
    first_response_minutes = models.PositiveIntegerField()
    resolution_minutes = models.PositiveIntegerField()
    history = audited_history()

    class Meta:
        verbose_name_plural = "SLA policies"
        ordering = ["severity", "name"]

    def __str__(self):
        return self.name

    def minutes_for(self, target: str) -> int:
        return {
            SlaTarget.OWNER: self.owner_minutes,
            SlaTarget.FIRST_RESPONSE: self.first_response_minutes,
            SlaTarget.RESOLUTION: self.resolution_minutes,
        }[target]


class Queue(models.Model):
    """A work queue. Agents work the queues they hold ``work_queue`` on (guardian, per queue)."""

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    team = models.CharField(max_length=20, choices=Team.choices)
    tier = models.PositiveSmallIntegerField(choices=Tier.choices, default=Tier.FRONTLINE)
    helpdesk_group = models.CharField(
        max_length=64, blank=True, help_text="The help desk's group id for this queue; blank sends a tag."
    )
    pager_webhook_url = models.URLField(
        blank=True, help_text="Where sev1 pages and breach alerts go; blank uses ALERT_WEBHOOK_URL."
    )
    auto_assign = models.BooleanField(
        default=True, help_text="Give an unowned ticket to the queue member with the fewest open tickets."
    )
    objects = QueueQuerySet.as_manager()
    history = audited_history()

    class Meta:
        ordering = ["code"]
        permissions = [("work_queue", "Can see and work the tickets of a queue")]

    def __str__(self):
        return self.name


class QueueUserObjectPermission(UserObjectPermissionBase):
    """Direct-FK guardian permissions: queue checks join on an integer, not a generic key."""

    content_object = models.ForeignKey(Queue, on_delete=models.CASCADE)


class QueueGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Queue, on_delete=models.CASCADE)


class RuleSet(models.Model):
    """A versioned set of routing rules. One is active; drafts are edited and backtested.

    ``revision`` moves on every change to the set's rules, so (pk, revision) names one exact
    content and compiled rules can be cached under it in any process without going stale.
    """

    version = models.PositiveIntegerField(unique=True)
    status = models.CharField(max_length=10, choices=RuleSetStatus.choices, default=RuleSetStatus.DRAFT)
    revision = models.PositiveIntegerField(default=1)
    note = models.CharField(max_length=300, blank=True)
    based_on = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    history = audited_history()

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=Q(status=RuleSetStatus.ACTIVE), name="one_active_rule_set"
            )
        ]
        permissions = [("activate_ruleset", "Can activate a routing rule set")]

    def __str__(self):
        return f"v{self.version} ({self.status})"


class RoutingRule(models.Model):
    """Conditions on context fields, and where a ticket that meets them goes.

    ``conditions`` is a list of ``{"field", "op", "value"}``; services validate it on save.
    ``key`` names the rule across rule-set versions, for the weekly review.
    """

    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="rules")
    key = models.SlugField(max_length=80)
    name = models.CharField(max_length=120)
    priority = models.PositiveIntegerField(help_text="Lower runs first; the first match wins.")
    enabled = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False, help_text="The catch-all; runs last and always matches.")
    match = models.CharField(max_length=3, choices=MatchMode.choices, default=MatchMode.ALL)
    conditions = models.JSONField(default=list, blank=True)
    category = models.CharField(max_length=24, choices=Category.choices)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="rules")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sla_policy = models.ForeignKey(SlaPolicy, on_delete=models.PROTECT, null=True, blank=True)
    page_oncall = models.BooleanField(default=False)
    ticket_type = models.CharField(
        max_length=20,
        choices=TicketType.choices,
        blank=True,
        help_text="The type it gives a ticket; blank: none.",
    )
    revision = models.PositiveIntegerField(default=1)
    history = audited_history()

    class Meta:
        ordering = ["rule_set", "priority"]
        constraints = [
            models.UniqueConstraint(fields=["rule_set", "priority"], name="rule_priority_unique_in_set"),
            models.UniqueConstraint(fields=["rule_set", "key"], name="rule_key_unique_in_set"),
            models.UniqueConstraint(
                fields=["rule_set"], condition=Q(is_default=True), name="one_default_rule_per_set"
            ),
            models.CheckConstraint(
                condition=Q(is_default=False) | Q(enabled=True), name="default_rule_enabled"
            ),
        ]

    def __str__(self):
        return f"{self.name} (v{self.rule_set.version if self.rule_set_id else '?'})"


class Ticket(models.Model):
    """A support ticket, with the context it arrived in and where routing sent it."""

    source = models.CharField(max_length=40)
    external_id = models.CharField(max_length=100)
    requester_email = models.EmailField(max_length=254)
    subject = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets"
    )
    account_match = models.CharField(max_length=12, choices=AccountMatch.choices, default=AccountMatch.NONE)
    error_code = models.CharField(max_length=64, blank=True)
    request_id = models.CharField(max_length=100, blank=True)
    feature_area = models.CharField(max_length=64, blank=True)
    via = models.CharField(max_length=8, choices=Via.choices, blank=True)
    context = models.JSONField(default=dict, blank=True, help_text="Enrichment snapshot at intake.")

    category = models.CharField(max_length=24, choices=Category.choices)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="tickets")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets"
    )
    status = models.CharField(max_length=10, choices=TicketStatus.choices, default=TicketStatus.NEW)
    sla_policy = models.ForeignKey(SlaPolicy, on_delete=models.PROTECT, null=True, blank=True)
    final_category = models.CharField(max_length=24, choices=Category.choices, blank=True)
    ticket_type = models.CharField(max_length=20, choices=TicketType.choices, blank=True)
    final_type = models.CharField(
        max_length=20,
        choices=TicketType.choices,
        blank=True,
        help_text="The type the agent confirmed at solve.",
    )
    reassignment_count = models.PositiveIntegerField(default=0)
    # Help-desk sync (routing/support); status_changed_at keeps a late solve/reopen from undoing.
    reopen_count = models.PositiveIntegerField(default=0)
    first_solved_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    csat_rating = models.CharField(max_length=4, blank=True)
    csat_comment = models.TextField(blank=True)
    csat_rated_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField()
    owner_assigned_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    # [[start, end-or-null], ...] in ISO 8601: time waiting on the customer stops the clocks.
    pauses = models.JSONField(default=list, blank=True)
    owner_due_at = models.DateTimeField(null=True, blank=True)
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    # The answer intake gave the first time; a repeated intake returns it unchanged.
    intake_result = models.JSONField(default=dict, blank=True)
    objects = TicketQuerySet.as_manager()
    history = audited_history()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="ticket_unique_source_external_id"
            ),
            models.CheckConstraint(
                condition=~Q(status=TicketStatus.SOLVED) | Q(solved_at__isnull=False),
                name="solved_ticket_has_solved_at",
            ),
        ]
        indexes = [
            models.Index(fields=["queue", "status"], name="ticket_queue_status_idx"),
            models.Index(fields=["created_at"], include=["account", "id"], name="ticket_created_idx"),
            # The minute-by-minute SLA check reads only open tickets with an unmet target.
            models.Index(
                fields=["owner_due_at"],
                name="ticket_owner_due_open_idx",
                condition=Q(status__in=OPEN_TICKET_STATUSES, owner_assigned_at__isnull=True),
            ),
            models.Index(
                fields=["first_response_due_at"],
                name="ticket_response_due_open_idx",
                condition=Q(status__in=OPEN_TICKET_STATUSES, first_response_at__isnull=True),
            ),
            models.Index(
                fields=["resolution_due_at"],
                name="ticket_resolution_due_open_idx",
                condition=Q(status__in=OPEN_TICKET_STATUSES),
            ),
        ]

    def __str__(self):
        return f"{self.source}:{self.external_id}"


class RoutingDecision(models.Model):
    """Why a ticket went where it went: the rule and its version, or the person and their reason.

    Rows are written once and never changed, so the row is its own audit record (like
    AccountEvent) and carries no history. A decision is overridden when a later manual one
    exists (``selectors.ticket_decisions`` says so).
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="decisions")
    kind = models.CharField(max_length=8, choices=DecisionKind.choices)
    rule = models.ForeignKey(RoutingRule, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    rule_key = models.SlugField(max_length=80, blank=True)
    rule_set_version = models.PositiveIntegerField(null=True, blank=True)
    rule_revision = models.PositiveIntegerField(null=True, blank=True)
    triggers = models.JSONField(default=list, blank=True, help_text="[{field, op, value, actual}]")
    category = models.CharField(max_length=24, choices=Category.choices)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    ticket_type = models.CharField(max_length=20, choices=TicketType.choices, blank=True)
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.TextField()
    decided_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    objects = TicketFollowerQuerySet.as_manager()

    class Meta:
        ordering = ["-decided_at", "-id"]
        indexes = [
            models.Index(fields=["rule_key", "decided_at"], name="decision_rule_week_idx"),
        ]

    def __str__(self):
        return f"{self.ticket_id} -> {self.queue_id} ({self.kind})"


class SlaBreach(models.Model):
    """One missed target of one ticket. The unique constraint makes a breach fire once."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="breaches")
    target = models.CharField(max_length=16, choices=SlaTarget.choices)
    due_at = models.DateTimeField()
    detected_at = models.DateTimeField()
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="+")
    objects = TicketFollowerQuerySet.as_manager()
    history = audited_history()

    class Meta:
        verbose_name, verbose_name_plural = "SLA breach", "SLA breaches"  # not "Sla breachs"
        constraints = [models.UniqueConstraint(fields=["ticket", "target"], name="one_breach_per_target")]

    def __str__(self):
        return f"{self.ticket_id} missed {self.target}"


class Escalation(models.Model):
    """A ticket or exception handed on: to ops with a runbook, or to engineering with telemetry."""

    kind = models.CharField(max_length=12, choices=EscalationKind.choices)
    status = models.CharField(max_length=14, choices=EscalationStatus.choices, default=EscalationStatus.OPEN)
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="escalations")
    channel = models.ForeignKey("accounts.Channel", on_delete=models.PROTECT, related_name="+")
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="escalations")
    ticket = models.ForeignKey(
        Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="escalations"
    )
    source_exception = models.ForeignKey(
        "accounts.OpsException", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason_code = models.CharField(max_length=50, blank=True)
    summary = models.CharField(max_length=300)
    error_code = models.CharField(max_length=64, blank=True)
    request_id = models.CharField(max_length=100, blank=True)
    feature_area = models.CharField(max_length=64, blank=True)
    telemetry = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ingress_request_id = request_id_field()
    resolved_at = models.DateTimeField(null=True, blank=True)
    objects = EscalationQuerySet.as_manager()
    history = audited_history()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Escalating the same exception or ticket twice hands it on once.
            models.UniqueConstraint(
                fields=["source_exception"],
                condition=Q(source_exception__isnull=False) & ~Q(status=EscalationStatus.RESOLVED),
                name="one_open_escalation_per_exception",
            ),
            models.UniqueConstraint(
                fields=["ticket"],
                condition=Q(ticket__isnull=False) & ~Q(status=EscalationStatus.RESOLVED),
                name="one_open_escalation_per_ticket",
            ),
        ]
        indexes = [models.Index(fields=["kind", "channel", "created_at"], name="escalation_channel_idx")]

    def __str__(self):
        return f"{self.kind} escalation for {self.account_id}"


class Backtest(models.Model):
    """A replay of recent tickets through a draft rule set, against the active one."""

    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="backtests")
    baseline_version = models.PositiveIntegerField(null=True, blank=True)
    rule_set_revision = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=BacktestStatus.choices, default=BacktestStatus.PENDING)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    tickets_replayed = models.PositiveIntegerField(default=0)
    tickets_changed = models.PositiveIntegerField(default=0)
    # {rule_key: {"name", "matched", "changed", "samples": [...]}}
    per_rule = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    history = audited_history()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Backtest of v{self.rule_set.version} ({self.status})"


# The support sub-domain's models live in routing/support/models.py; this registers them.
from routing.support.models import *  # noqa: E402, F403
