from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.choices import (
    UNRESOLVED_EXCEPTION_STATUSES,
    BillingStatus,
    ChannelKind,
    DriftKind,
    DriftStatus,
    EntitlementKind,
    EventSource,
    ExceptionStatus,
    Layer,
    LifecycleStage,
    OnboardingPath,
    ProvisioningStepName,
    ReconciliationMode,
    ReconciliationStatus,
    ReconciliationTarget,
    StepStatus,
    StripeEventStatus,
    StripeEventVia,
    SystemOfRecord,
    Team,
)
from accounts.querysets import AccountPartQuerySet
from accounts.shapes import PLANS, SHAPES
from opsconsole.history import audited_history
from opsconsole.request_id import request_id_field
from opsconsole.restrict import RestrictedQuerySet

SHAPE_CHOICES = [(s.code, s.name) for s in SHAPES.values()]

# The built-in channel of a signup whose attribution was lost (a data migration creates it):
# a signup is never refused for want of a channel, and the data-quality panel counts these.
UNATTRIBUTED_CHANNEL = "unattributed"
PLAN_CHOICES = [(p.code, p.name) for p in PLANS.values()]


class Channel(models.Model):
    """An acquisition channel. Every report and gate groups by it."""

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=ChannelKind.choices)
    partner_name = models.CharField(max_length=120, blank=True)
    support_sla_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Contractual first-response time, if the deal has one."
    )
    managed_onboarding = models.BooleanField(
        default=False, help_text="Accounts from this channel get managed onboarding."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = audited_history()

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return self.name


class ReasonCode(models.Model):
    """Why an account needs a person: the catalogue exceptions, tickets and runbooks share."""

    code = models.SlugField(max_length=50, unique=True)
    title = models.CharField(max_length=200)
    layer = models.CharField(max_length=20, choices=Layer.choices)
    owner_team = models.CharField(max_length=20, choices=Team.choices)
    estimated_handling_minutes = models.PositiveIntegerField()
    target_response_minutes = models.PositiveIntegerField(
        help_text="Default time to a first response; the shape and channel SLA may shorten it."
    )
    customer_message = models.CharField(max_length=300)
    customer_next_action = models.CharField(max_length=200)
    provisioning_step = models.CharField(max_length=32, choices=ProvisioningStepName.choices, blank=True)
    history = audited_history()

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return self.code


class Account(models.Model):
    """A customer account after acquisition, with where it came from and where it stands."""

    external_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    admin_email = models.EmailField(max_length=254)
    shape = models.CharField(max_length=40, choices=SHAPE_CHOICES)
    plan = models.CharField(max_length=40, choices=PLAN_CHOICES)

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="accounts")
    utm_source = models.CharField(max_length=100, blank=True)
    utm_medium = models.CharField(max_length=100, blank=True)
    utm_campaign = models.CharField(max_length=100, blank=True)
    partner = models.CharField(max_length=120, blank=True)

    lifecycle_stage = models.CharField(
        max_length=20, choices=LifecycleStage.choices, default=LifecycleStage.SIGNED_UP
    )
    onboarding_path = models.CharField(max_length=20, choices=OnboardingPath.choices)
    onboarding_path_reason = models.CharField(max_length=200)
    flags = models.JSONField(default=list, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_accounts",
    )
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="duplicates"
    )

    signed_up_at = models.DateTimeField()
    activated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Billing. Stripe is the usual system of record; the *_source fields say who owns each.
    stripe_customer_id = models.CharField(max_length=64, blank=True, db_index=True)
    stripe_subscription_id = models.CharField(max_length=64, blank=True, db_index=True)
    billing_status = models.CharField(
        max_length=20, choices=BillingStatus.choices, default=BillingStatus.NONE
    )
    trial_ends_at = models.DateTimeField(null=True, blank=True)
    renews_at = models.DateTimeField(null=True, blank=True)
    mrr_cents = models.PositiveIntegerField(default=0)
    plan_source = models.CharField(
        max_length=10, choices=SystemOfRecord.choices, default=SystemOfRecord.PRODUCT
    )
    billing_status_source = models.CharField(
        max_length=10, choices=SystemOfRecord.choices, default=SystemOfRecord.STRIPE
    )
    trial_end_source = models.CharField(
        max_length=10, choices=SystemOfRecord.choices, default=SystemOfRecord.STRIPE
    )
    renewal_source = models.CharField(
        max_length=10, choices=SystemOfRecord.choices, default=SystemOfRecord.STRIPE
    )
    # Out-of-order protection: the newest Stripe/CRM state applied so far (invariant 4).
    stripe_state_at = models.DateTimeField(null=True, blank=True)
    crm_state_at = models.DateTimeField(null=True, blank=True)
    billing_synced_at = models.DateTimeField(null=True, blank=True)

    history = audited_history()

    # Every account with accounts.view_account; else those granted one by one (a partner manager).
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-signed_up_at"]
        indexes = [
            models.Index(fields=["channel", "signed_up_at"], name="account_channel_signup_idx"),
            models.Index(fields=["admin_email"], name="account_admin_email_idx"),
        ]
        constraints = [
            # One Stripe customer belongs to one account; the webhook race is settled by a lock,
            # and this keeps a bug from linking it twice.
            models.UniqueConstraint(
                fields=["stripe_customer_id"],
                condition=~Q(stripe_customer_id=""),
                name="account_stripe_customer_unique",
            ),
        ]
        permissions = [
            ("approve_account", "Can approve an account under review"),
            ("view_billing", "Can view billing details"),
        ]

    def __str__(self):
        return f"{self.name} ({self.external_id})"


class AccountEvent(models.Model):
    """The append-only timeline of an account. Rows are written once and never changed.

    The row is its own audit record (``source`` and ``recorded_by`` say who wrote it), so it
    carries no simple-history of its own.
    """

    event_id = models.CharField(max_length=100, unique=True)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="events")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=10, choices=EventSource.choices)
    type = models.CharField(max_length=64)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    request_id = models.CharField(max_length=100, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    reason_code = models.ForeignKey(
        ReasonCode, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    feature_area = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    # Which intake wrote the row; lets a batch learn which of its events were new.
    intake_id = models.UUIDField(db_index=True)
    ingress_request_id = request_id_field()
    # Data-quality facts, decided at intake from the stored times (accounts/eventflags.py).
    before_signup = models.BooleanField(default=False)
    late = models.BooleanField(default=False)
    objects = AccountPartQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-occurred_at"], name="event_account_recent_idx"),
            models.Index(fields=["channel", "occurred_at"], name="event_channel_day_idx"),
            models.Index(fields=["type", "occurred_at"], name="event_type_day_idx"),
        ]

    def __str__(self):
        return f"{self.type} @ {self.occurred_at:%Y-%m-%d %H:%M}"


class ProvisioningStep(models.Model):
    """Where one provisioning step of one account stands; moved only by events."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="provisioning_steps")
    step = models.CharField(max_length=32, choices=ProvisioningStepName.choices)
    status = models.CharField(max_length=16, choices=StepStatus.choices, default=StepStatus.PENDING)
    # The occurred_at of the event that set the status: older events cannot move it back.
    status_at = models.DateTimeField(null=True, blank=True)
    last_event = models.ForeignKey(
        AccountEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    blocking_exception = models.ForeignKey(
        "OpsException", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = audited_history()
    objects = AccountPartQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "step"], name="provisioning_step_unique")]

    def __str__(self):
        return f"{self.account_id}:{self.step}={self.status}"


class OpsException(models.Model):
    """An account that needs a person, with an owner, a reason and a response target."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="exceptions")
    reason_code = models.ForeignKey(ReasonCode, on_delete=models.PROTECT, related_name="exceptions")
    status = models.CharField(max_length=24, choices=ExceptionStatus.choices, default=ExceptionStatus.OPEN)
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_exceptions",
    )
    owner_team = models.CharField(max_length=20, choices=Team.choices)
    target_response_minutes = models.PositiveIntegerField()
    respond_by = models.DateTimeField()
    opened_at = models.DateTimeField()
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Who resolved it: a person, or the service or system user whose work resolved it (a
    # success event, reconciliation). Staff time is counted for people only (METRICS.md).
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution_note = models.TextField(blank=True)
    summary = models.CharField(max_length=300, blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    opened_by_event = models.ForeignKey(
        AccountEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    history = audited_history()

    objects = AccountPartQuerySet.as_manager()

    class Meta:
        ordering = ["respond_by"]
        verbose_name = "exception"
        verbose_name_plural = "exceptions"
        constraints = [
            models.UniqueConstraint(
                fields=["account", "reason_code"],
                condition=Q(status__in=UNRESOLVED_EXCEPTION_STATUSES),
                name="one_unresolved_exception_per_account_reason",
            ),
            models.CheckConstraint(
                condition=Q(status=ExceptionStatus.RESOLVED, resolved_at__isnull=False)
                | ~Q(status=ExceptionStatus.RESOLVED),
                name="resolved_exception_has_resolved_at",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "respond_by"], name="exception_queue_idx"),
            models.Index(fields=["owner_team", "status"], name="exception_team_idx"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.reason_code.code} ({self.get_status_display().lower()})"

    @property
    def is_open(self) -> bool:
        return self.status != ExceptionStatus.RESOLVED

    @property
    def is_overdue(self) -> bool:
        """Still waiting for its first response past its respond-by time (the same rule as the
        selector ``exceptions_by_overdue``, for one row in memory)."""
        return self.is_open and self.first_response_at is None and self.respond_by < timezone.now()


class EntitlementOverride(models.Model):
    """A feature or limit granted to one account beyond its shape and plan."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="entitlement_overrides")
    key = models.CharField(max_length=64)
    limit_value = models.PositiveIntegerField(
        null=True, blank=True, help_text="For a limit (seats, workspaces); blank for a feature."
    )
    kind = models.CharField(max_length=16, choices=EntitlementKind.choices)
    reason = models.CharField(max_length=200)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = audited_history()
    objects = AccountPartQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "key"], name="entitlement_override_unique"),
            models.CheckConstraint(
                condition=~Q(kind=EntitlementKind.TEMPORARY) | Q(expires_at__isnull=False),
                name="temporary_entitlement_expires",
            ),
        ]

    def __str__(self):
        return f"{self.key} for {self.account_id} ({self.kind})"


# --- Billing and CRM sync -----------------------------------------------------------------


class StripeEvent(models.Model):
    """A Stripe event, stored once by its id however often and however it arrives."""

    stripe_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    # Stripe's `created`, in whole seconds: the watermark events are compared by.
    created = models.DateTimeField()
    object_id = models.CharField(max_length=255, blank=True, db_index=True)
    payload = models.JSONField()
    via = models.CharField(max_length=12, choices=StripeEventVia.choices)
    status = models.CharField(
        max_length=12, choices=StripeEventStatus.choices, default=StripeEventStatus.PENDING
    )
    account = models.ForeignKey(
        Account, on_delete=models.SET_NULL, null=True, blank=True, related_name="stripe_events"
    )
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=300, blank=True)
    history = audited_history()
    objects = AccountPartQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["status", "received_at"], name="stripe_event_pending_idx")]

    def __str__(self):
        return f"{self.type} {self.stripe_id} ({self.status})"


class ReconciliationRun(models.Model):
    """One pass comparing Stripe or the CRM with the accounts, resumable from its checkpoint."""

    target = models.CharField(max_length=10, choices=ReconciliationTarget.choices)
    mode = models.CharField(max_length=12, choices=ReconciliationMode.choices)
    status = models.CharField(
        max_length=10, choices=ReconciliationStatus.choices, default=ReconciliationStatus.RUNNING
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Where to pick up: {"phase": ..., "starting_after": ..., "events_cursor": ...}.
    checkpoint = models.JSONField(default=dict, blank=True)
    objects_scanned = models.PositiveIntegerField(default=0)
    mismatches_found = models.PositiveIntegerField(default=0)
    drift_opened = models.PositiveIntegerField(default=0)
    drift_resolved = models.PositiveIntegerField(default=0)
    fields_corrected = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # For the next incremental run: the `created` (epoch seconds) of the newest event seen.
    events_cursor = models.BigIntegerField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    history = audited_history()

    class Meta:
        ordering = ["-started_at", "-id"]
        get_latest_by = "started_at"
        constraints = [
            # One running run per target: a second trigger resumes it instead of racing it.
            models.UniqueConstraint(
                fields=["target"],
                condition=Q(status=ReconciliationStatus.RUNNING),
                name="one_running_reconciliation_per_target",
            )
        ]

    def __str__(self):
        return f"{self.target} {self.mode} run #{self.pk} ({self.status})"

    @property
    def phase(self) -> str:
        return self.checkpoint.get("phase", "")

    @property
    def duration(self):
        return (self.finished_at - self.started_at) if self.finished_at else None


class ReconciliationMark(models.Model):
    """Scratch ledger of a full run: for each page, which account each Stripe object matched.

    The closing phase reads it to find accounts no subscription matched and accounts two
    customers point to. One row per page (a JSON list of [account id, object id]) keeps the
    scan's own writes to one insert a page. Bookkeeping of a run, not account state, so it
    carries no history; the run deletes its marks when it completes.
    """

    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="+")
    object_type = models.CharField(max_length=20)
    # The page's cursor (the id it starts after), so a page is marked once.
    after = models.CharField(max_length=255, default="", blank=True)
    pairs = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "object_type", "after"], name="reconciliation_mark_page_unique"
            )
        ]

    def __str__(self):
        return f"run {self.run_id}: {len(self.pairs)} {self.object_type} after {self.after or 'start'}"


class BillingDrift(models.Model):
    """One disagreement between Stripe or the CRM and an account, with both sides' evidence.

    ``subject`` is the stable key of what disagrees (an account's external id, or a Stripe
    object id when no account matches). At most one open drift per (system, kind, subject).
    """

    system = models.CharField(max_length=10, choices=ReconciliationTarget.choices)
    kind = models.CharField(max_length=40, choices=DriftKind.choices)
    subject = models.CharField(max_length=255)
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, null=True, blank=True, related_name="billing_drift"
    )
    status = models.CharField(max_length=10, choices=DriftStatus.choices, default=DriftStatus.OPEN)
    field = models.CharField(max_length=40, blank=True)
    ours = models.JSONField(default=dict, blank=True)
    theirs = models.JSONField(default=dict, blank=True)
    fix_action = models.CharField(max_length=60, blank=True, help_text="The guarded action that fixes it.")
    exception = models.ForeignKey(
        OpsException, on_delete=models.SET_NULL, null=True, blank=True, related_name="billing_drift"
    )
    opened_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    opened_by_run = models.ForeignKey(
        ReconciliationRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)
    history = audited_history()
    objects = AccountPartQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "kind", "subject"],
                condition=Q(status=DriftStatus.OPEN),
                name="one_open_drift_per_subject_kind",
            )
        ]
        indexes = [models.Index(fields=["status", "kind"], name="drift_status_kind_idx")]

    def __str__(self):
        return f"{self.kind} on {self.subject} ({self.status})"
