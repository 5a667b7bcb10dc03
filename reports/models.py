"""What reports keeps: one row of facts per account, and the metric snapshots gates cite."""

from django.db import models

from opsconsole.history import audited_history


class AccountFacts(models.Model):
    """Per-account facts: everything the cohort metrics read, in one narrow row, so a cohort is
    one GROUP BY over this table alone (no join, no per-row date arithmetic).

    Every column is derived from raw rows and kept current in the same transaction as the write
    that changes it, by the receivers in ``reports.facts``; ``manage.py rebuild_account_facts``
    recomputes them all from the raw tables. ``channel`` and ``signed_up_at`` never change; the
    copies of the account's ``shape``, ``plan``, activation and duplicate mark follow
    every save of the account (and every bulk update of accounts). The windows a metric bakes
    in (``failed_72h``, ``tickets_7d``, ...) are its definition's: changing one is a new version
    and a rebuild. Derived data, not a record of anyone's doing: it carries no history, and it
    is written with UPDATEs by primary key.
    """

    account = models.OneToOneField(
        "accounts.Account", on_delete=models.CASCADE, primary_key=True, related_name="facts"
    )
    channel = models.ForeignKey("accounts.Channel", on_delete=models.PROTECT, related_name="+")
    signed_up_at = models.DateTimeField()
    # Copies of the account's, kept by the account's saves (and bulk updates).
    shape = models.CharField(max_length=40)
    plan = models.CharField(max_length=40)
    mrr_cents = models.PositiveIntegerField(default=0)
    is_duplicate = models.BooleanField(default=False)
    # activated_at - signed_up_at (null while not activated): time to first value, exact.
    time_to_value = models.DurationField(null=True, blank=True)
    # signed_up_at + the shape's activation window: when ``activation`` counts the account.
    activation_due_at = models.DateTimeField()
    activated_24h = models.BooleanField(default=False)
    # min occurred_at of its failure events (any time), and whether it is within 72 h of signup.
    first_failure_at = models.DateTimeField(null=True, blank=True)
    failed_72h = models.BooleanField(default=False)
    # Tickets matched to the account created by signup + 7 days.
    tickets_7d = models.PositiveIntegerField(default=0)
    # Engineering escalations of the account created by signup + 30 days.
    escalations_30d = models.PositiveIntegerField(default=0)
    # A login, report view or first value in [signup + 23 days, signup + 30 days].
    retained_30d = models.BooleanField(default=False)
    # Person-run guarded actions and person-resolved exceptions by signup + 30 days.
    manual_minutes_30d = models.PositiveIntegerField(default=0)
    # The step-gap funnel's journey (``reports.funnel``): the first time the account reached
    # each step (``reports.funnel.journey.STEP_FIELDS``; created is ``signed_up_at``), each
    # only ever moved earlier, and its first staff touch (first exception, ticket or guarded
    # action run by a person). ``activated_at`` is a copy of the account's.
    activated_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    workspace_at = models.DateTimeField(null=True, blank=True)
    setup_at = models.DateTimeField(null=True, blank=True)
    plan_at = models.DateTimeField(null=True, blank=True)
    invited_at = models.DateTimeField(null=True, blank=True)
    first_ticket_at = models.DateTimeField(null=True, blank=True)
    first_escalation_at = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField(null=True, blank=True)
    first_touch_at = models.DateTimeField(null=True, blank=True)
    # A duplicate-workspace candidate (``accounts.namesakes``): not marked, and an unmarked
    # account of a lower id has its name and admin email domain. Kept by ``reports.namesakes``.
    namesake_candidate = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "account facts"
        # Only columns that never change (signed_up_at, channel) or rarely change (shape and
        # plan, on a plan change) are indexed: the counters' updates stay on their page (HOT,
        # the table is filled to 80%) without touching an index.
        indexes = [
            models.Index(fields=["signed_up_at"], name="facts_signup_idx"),
            # The ticket metrics join a window's tickets to their account's channel, shape and
            # plan: read from this index alone, not the table's pages.
            models.Index(
                fields=["account"], include=["channel", "shape", "plan"], name="facts_channel_cover_idx"
            ),
            # The data-quality panel's duplicate workspaces: the few marked or candidate rows of
            # a range, not every row of it. Both flags change rarely (a mark, a namesake).
            models.Index(
                fields=["signed_up_at"],
                condition=models.Q(is_duplicate=True) | models.Q(namesake_candidate=True),
                name="facts_duplicate_workspace_idx",
            ),
        ]

    def __str__(self):
        return f"facts of account {self.account_id}"


class MetricSnapshot(models.Model):
    """One metric of one channel's signup-day cohort, as computed at ``computed_at``.

    Written by ``reports.snapshots`` (the daily beat task and ``manage.py metrics_snapshot``);
    one row per (metric, channel, period, version): a rerun updates it, and history keeps what
    it said before, so a gate decision can cite the number it was made on. A distribution is
    stored as one row per percentile (``time_to_first_value_h.p50``), with ``n`` as denominator.
    """

    metric = models.CharField(max_length=64)
    channel = models.ForeignKey("accounts.Channel", on_delete=models.PROTECT, related_name="+")
    period = models.DateField(help_text="The signup day of the cohort (UTC).")
    value = models.FloatField(null=True, blank=True)
    numerator = models.BigIntegerField(null=True, blank=True)
    denominator = models.BigIntegerField(null=True, blank=True)
    complete = models.BooleanField()
    pending = models.PositiveIntegerField()
    version = models.PositiveIntegerField()
    computed_at = models.DateTimeField()
    history = audited_history()

    class Meta:
        ordering = ["-period", "channel_id", "metric"]
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "channel", "period", "version"], name="metric_snapshot_unique"
            )
        ]
        indexes = [models.Index(fields=["channel", "metric", "period"], name="snapshot_channel_metric_idx")]
        permissions = [("view_dashboard", "Can view the channel dashboard, cohorts and reports API")]

    def __str__(self):
        return f"{self.metric} {self.channel_id} {self.period} v{self.version}"


class CostSettings(models.Model):
    """The cost model's inputs (one row, ``pk`` 1): what an hour of staff time costs, what a
    ticket takes, what a dispute costs beyond its amount. Ops leads edit them through
    ``reports.costs.services``; history keeps every value they held."""

    support_hour_cents = models.PositiveIntegerField(default=5_500, help_text="Loaded cost per support hour.")
    engineering_hour_cents = models.PositiveIntegerField(
        default=11_500, help_text="Loaded cost per engineering hour."
    )
    minutes_per_ticket = models.PositiveIntegerField(default=12)
    minutes_per_escalation = models.PositiveIntegerField(
        default=60, help_text="Engineering minutes one escalation takes."
    )
    dispute_fee_cents = models.PositiveIntegerField(default=1_500, help_text="Stripe's fee per dispute.")
    updated_at = models.DateTimeField(auto_now=True)
    history = audited_history()

    class Meta:
        verbose_name = "constraints and cost model"
        verbose_name_plural = "constraints and cost model"
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="cost_settings_single_row")]

    def __str__(self):
        return "Cost model inputs"


class ChannelSpend(models.Model):
    """A channel's acquisition spend per month, for the cost model (edited by ops leads)."""

    channel = models.OneToOneField("accounts.Channel", on_delete=models.CASCADE, related_name="+")
    monthly_spend_cents = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)
    history = audited_history()

    class Meta:
        ordering = ["channel__code"]

    def __str__(self):
        return f"spend of {self.channel_id}"
