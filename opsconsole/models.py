import uuid

from django.conf import settings
from django.db import models

from opsconsole.history import audited_history
from opsconsole.outbox_destinations import PRODUCT, destination_choices
from opsconsole.request_id import request_id_field
from opsconsole.restrict import RestrictedQuerySet


class AccountRecordQuerySet(RestrictedQuerySet):
    """Records of what was done to an account (action runs, product commands): someone without
    the model permission sees those on the accounts they may see."""

    def restrict_by_grants(self, user, action: str) -> RestrictedQuerySet:
        return self.restrict_through("account", user, action)


class ActionApprovalQuerySet(RestrictedQuerySet):
    def restrict_by_grants(self, user, action: str) -> RestrictedQuerySet:
        # An approval request is as visible as the run it asks about.
        return self.restrict_through("run", user, action)


class ServiceToken(models.Model):
    """An API credential for a service account. Only a hash of the key is stored."""

    name = models.CharField(max_length=100, unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="service_token"
    )
    key_prefix = models.CharField(max_length=12, help_text="First characters, to recognise a key.")
    key_hash = models.CharField(max_length=64, unique=True)
    # After a rotation the old key keeps working until previous_key_expires_at (the overlap).
    previous_key_prefix = models.CharField(max_length=12, blank=True)
    previous_key_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    previous_key_expires_at = models.DateTimeField(null=True, blank=True)
    scopes = models.JSONField(
        default=list,
        blank=True,
        help_text='The endpoints\' scopes this token may call, e.g. ["accounts:read"].',
    )
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: the token does not expire.")
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Telemetry, not state: written at most once a minute without a history row.
    last_used_at = models.DateTimeField(null=True, blank=True)
    history = audited_history(excluded_fields=["last_used_at"])

    objects = RestrictedQuerySet.as_manager()

    def __str__(self):
        return f"{self.name} ({self.key_prefix}…)"


class IdempotencyRecord(models.Model):
    """The ledger behind ``Idempotency-Key``: one row per (principal, scope, key).

    The unique constraint is what makes two concurrent requests with one key produce one
    effect; the row also keeps the first response to replay.
    """

    class State(models.TextChoices):
        IN_FLIGHT = "in_flight", "In flight"
        COMPLETED = "completed", "Completed"

    principal = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    scope = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_FLIGHT)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["principal", "scope", "key"], name="idempotency_unique_principal_scope_key"
            )
        ]

    def __str__(self):
        return f"{self.scope}:{self.key}"


# --- Guarded actions ------------------------------------------------------------------------
# Each registered action brings its permission (opsconsole.run_<name>), made after migrate from
# the registry (opsconsole.actions.permissions), so an app adds an action without a migration here.


class ActionStatus(models.TextChoices):
    # Only ever seen inside the transaction that runs the action; never committed.
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    REFUSED = "refused", "Refused"
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    REVERSED = "reversed", "Reversed"


# A run in one of these states holds its effect; a second reversal of it must wait or fail.
EFFECTIVE_ACTION_STATUSES = [ActionStatus.RUNNING, ActionStatus.SUCCEEDED, ActionStatus.REVERSED]


class Runbook(models.Model):
    """What staff may do about one kind of exception, and when to stop and escalate."""

    code = models.SlugField(max_length=64, unique=True)
    title = models.CharField(max_length=200)
    reason_code = models.ForeignKey("accounts.ReasonCode", on_delete=models.PROTECT, related_name="runbooks")
    facts = models.JSONField(
        default=dict,
        blank=True,
        help_text='Conditions on the exception\'s evidence, e.g. {"error_code": "timeout"}.',
    )
    allowed_actions = models.JSONField(default=list, help_text="Names of the actions this runbook allows.")
    owner_role = models.CharField(max_length=20)
    evidence_required = models.JSONField(
        default=list, blank=True, help_text='Fields the operator must fill: [{"name", "label"}].'
    )
    steps = models.TextField(help_text="What to check, in order.")
    stop_rule = models.TextField(help_text="When to stop and escalate.")
    active = models.BooleanField(default=True)
    history = audited_history()

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["reason_code_id", "code"]

    def __str__(self):
        return self.title


class ActionRun(models.Model):
    """The append-only record of one operator action: who, what, on what, why, and the result.

    Only the result columns move (status, state, commands, links), and only through the
    action services; the intent columns are frozen by a database trigger on PostgreSQL and by
    ``save()`` everywhere. Nothing deletes a run.
    """

    action = models.CharField(max_length=64, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="action_runs")
    target_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.PROTECT, related_name="+")
    target_id = models.CharField(max_length=64)
    target_repr = models.CharField(max_length=300)
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, null=True, blank=True, related_name="action_runs"
    )
    params = models.JSONField(default=dict, blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    runbook = models.ForeignKey(Runbook, on_delete=models.PROTECT, null=True, blank=True, related_name="runs")
    entry_point = models.CharField(max_length=16)
    request_id = models.CharField(max_length=100, blank=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    reversal_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversals"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    # The result: written by the action services as the run moves on.
    status = models.CharField(max_length=20, choices=ActionStatus.choices, default=ActionStatus.RUNNING)
    preview = models.JSONField(null=True, blank=True, help_text="The dry-run preview the operator saw.")
    state_fingerprint = models.CharField(max_length=64, blank=True)
    changes = models.JSONField(default=list, blank=True)
    # Computed values the run moved (entitlements), as in its preview: [{"key", "before", "after"}].
    derived_changes = models.JSONField(default=list, blank=True)
    external_commands = models.JSONField(default=list, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    history = audited_history()

    objects = AccountRecordQuerySet.as_manager()

    FROZEN_FIELDS = (
        "action",
        "actor_id",
        "target_type_id",
        "target_id",
        "account_id",
        "params",
        "evidence",
        "runbook_id",
        "entry_point",
        "request_id",
        "idempotency_key",
        "reversal_of_id",
        "created_at",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # A run is reversed at most once: the reversal that holds the effect is unique.
            models.UniqueConstraint(
                fields=["reversal_of"],
                condition=models.Q(status__in=EFFECTIVE_ACTION_STATUSES),
                name="action_run_reversed_once",
            ),
            # Approvers decide one request per action and target at a time.
            models.UniqueConstraint(
                fields=["action", "target_type", "target_id"],
                condition=models.Q(status=ActionStatus.AWAITING_APPROVAL),
                name="action_run_one_awaiting_approval_per_target",
            ),
        ]
        indexes = [models.Index(fields=["account", "-created_at"], name="action_run_account_idx")]
        permissions = [("approve_actionrun", "Can approve or reject another person's action")]

    def __str__(self):
        return f"#{self.pk} {self.action} on {self.target_repr} ({self.status})"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            stored = type(self).objects.filter(pk=self.pk).values(*self.FROZEN_FIELDS).first()
            if stored is not None:
                changed = [f for f in self.FROZEN_FIELDS if stored[f] != getattr(self, f)]
                if changed:
                    raise ValueError(f"ActionRun is append-only; cannot change {', '.join(changed)}.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("ActionRun is append-only; runs are never deleted.")

    @property
    def before_state(self) -> dict:
        """``"<model>:<pk>"`` -> the fields the run changed, as they were before it (and
        ``"derived"``: the computed values it moved). A view of ``changes``, not stored."""
        return self._states()[0]

    @property
    def after_state(self) -> dict:
        """The same rows and fields as ``before_state``, as the run left them."""
        return self._states()[1]

    def _states(self) -> tuple[dict, dict]:
        before, after = {}, {}
        for change in self.changes:
            key = f"{change['model']}:{change['pk']}"
            before.setdefault(key, {})
            after.setdefault(key, {})
            for f in change["fields"]:
                before[key].setdefault(f["field"], f["before"])
                after[key][f["field"]] = f["after"]
        if self.derived_changes:
            before["derived"] = {d["key"]: d["before"] for d in self.derived_changes}
            after["derived"] = {d["key"]: d["after"] for d in self.derived_changes}
        return before, after


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Expired"


class ActionApproval(models.Model):
    """The second pair of eyes on one action run. One per run; decided once."""

    run = models.OneToOneField(ActionRun, on_delete=models.PROTECT, related_name="approval")
    reason = models.CharField(max_length=300, help_text="Why this action needs approval.")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    sla_due_at = models.DateTimeField()
    sla_alerted_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    history = audited_history()

    objects = ActionApprovalQuerySet.as_manager()

    class Meta:
        ordering = ["expires_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(decided_by__isnull=True) | ~models.Q(decided_by=models.F("requested_by")),
                name="approval_not_by_requester",
            ),
        ]
        indexes = [models.Index(fields=["status", "sla_due_at"], name="approval_inbox_idx")]

    def __str__(self):
        return f"Approval of run #{self.run_id} ({self.status})"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    NOT_CONFIGURED = "not_configured", "Logged (destination not configured)"


# A message in one of these states will still be delivered: a second one like it is redundant.
OUTBOX_IN_FLIGHT = [OutboxStatus.PENDING, OutboxStatus.SENDING]


class OutboxMessage(models.Model):
    """A command to another system (a destination: the product, the CRM), written in the same
    transaction as the action (or reconciliation) that made it, and delivered after commit.

    Its id is the command id the receiver deduplicates on. ``dedupe_key`` names the effect
    (``crm:<adapter>:<record>:<field>=<value>``), so asking for it again while it is still on
    its way is a no-op.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    destination = models.CharField(max_length=16, choices=destination_choices, default=PRODUCT)
    command = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    dedupe_key = models.CharField(max_length=255, blank=True)
    action_run = models.ForeignKey(
        ActionRun, on_delete=models.PROTECT, null=True, blank=True, related_name="outbox_messages"
    )
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    ingress_request_id = request_id_field()
    history = audited_history()

    objects = AccountRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=models.Q(status__in=OUTBOX_IN_FLIGHT) & ~models.Q(dedupe_key=""),
                name="outbox_one_in_flight_per_dedupe_key",
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx")]

    def __str__(self):
        return f"{self.command} {self.id} ({self.status})"


class TaskFailureKind(models.TextChoices):
    FAILED = "failed", "Failed"
    RETRIED = "retried", "Retried"


class TaskFailure(models.Model):
    """A Celery task that failed or asked to be retried, as the task itself reported it (every
    task, through ``opsconsole.task_failures``; eager runs too). Append-only, and idempotent per
    (task id, attempt): a report that arrives twice (a redelivered task failing again at the
    same attempt) is stored once. ``attempt`` is the task's retry count: 0 for its first run."""

    task_name = models.CharField(max_length=200)
    task_id = models.CharField(max_length=255)
    attempt = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=TaskFailureKind.choices)
    args_summary = models.CharField(max_length=500, blank=True)
    exception_class = models.CharField(max_length=200)
    message = models.TextField(blank=True)
    occurred_at = models.DateTimeField()
    request_id = request_id_field()

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["task_id", "attempt"], name="task_failure_once_per_attempt")
        ]
        indexes = [models.Index(fields=["occurred_at"], name="task_failure_day_idx")]

    def __str__(self):
        return f"{self.task_name} {self.task_id} attempt {self.attempt} ({self.kind})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("TaskFailure is append-only; reports are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("TaskFailure is append-only; reports are never deleted.")


# The sign-in audit and the console's views of staff and lockouts live with their package;
# imported here so they load with the app.
from opsconsole.staffauth.models import Lockout, LoginEvent, LoginEventKind, StaffMember  # noqa: E402, F401
