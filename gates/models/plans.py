"""Ramp plans and their stop rules."""

from django.conf import settings
from django.db import models

from gates.choices import Comparator, RampStatus
from opsconsole.history import audited_history
from opsconsole.restrict import RestrictedQuerySet


class RampPlan(models.Model):
    """How one channel is turned up: today's weekly signups, the steps (each with its expected
    signups), the targets, one executive owner, and where the ramp stands. Changed only by
    ``gates.services`` (history names who)."""

    channel = models.ForeignKey("accounts.Channel", on_delete=models.PROTECT, related_name="ramp_plans")
    weekly_signups = models.PositiveIntegerField(help_text="Weekly signups now, before the ramp.")
    # [{"label": "1.5x now", "multiplier": 1.5, "expected_signups": 300}, ...]
    steps = models.JSONField(default=list)
    current_step = models.PositiveSmallIntegerField(default=0, help_text="Index into steps.")
    target_activation = models.FloatField(help_text="24 h activation to hold (a fraction).")
    target_tickets_per_100 = models.FloatField()
    target_provisioning_failure = models.FloatField(help_text="A fraction.")
    target_escalations_per_100 = models.FloatField()
    executive_owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=12, choices=RampStatus.choices, default=RampStatus.DRAFT)
    ramp_started_on = models.DateField(
        null=True, blank=True, help_text="First day of the ramp; the baseline is the 4 weeks before."
    )
    next_review = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = audited_history()

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["channel__code", "-created_at"]
        constraints = [
            # One live plan per channel: a finished one makes room for the next.
            models.UniqueConstraint(
                fields=["channel"],
                condition=~models.Q(status=RampStatus.COMPLETED),
                name="ramp_plan_one_live_per_channel",
            ),
        ]
        permissions = [
            ("view_ramp", "Can read a channel's ramp status (API)"),
            ("sign_decision", "Can sign a gate decision (an executive owner signs their own)"),
            ("override_check", "Can override a failed gate check with a written justification"),
        ]

    def __str__(self):
        return f"ramp of {self.channel.code} ({self.status})"

    @property
    def step_label(self) -> str:
        if not self.steps:
            return ""
        step = self.steps[min(self.current_step, len(self.steps) - 1)]
        return step.get("label", "")


class StopRuleQuerySet(RestrictedQuerySet):
    def restrict_by_grants(self, user, action):
        return self.restrict_through("plan", user, action)


class StopRule(models.Model):
    """When a ramp stops by itself: ``metric`` compared with ``threshold`` (absolute, against
    the pre-ramp baseline, or the built-in growth comparison) for ``consecutive_periods`` mature
    signup days in a row, each with at least ``min_sample`` mature accounts."""

    plan = models.ForeignKey(RampPlan, on_delete=models.CASCADE, related_name="stop_rules")
    name = models.CharField(max_length=120)
    metric = models.CharField(max_length=64, help_text="A metric code from METRICS.md.")
    comparator = models.CharField(max_length=32, choices=Comparator.choices)
    threshold = models.FloatField(
        help_text="The value (absolute), or the margin against the baseline (points for a rate)."
    )
    consecutive_periods = models.PositiveSmallIntegerField(default=2)
    min_sample = models.PositiveIntegerField(default=20, help_text="Mature accounts a day needs.")
    active = models.BooleanField(default=True)
    builtin = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    history = audited_history()

    objects = StopRuleQuerySet.as_manager()

    class Meta:
        ordering = ["plan_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "name"], name="stop_rule_unique_name"),
            models.CheckConstraint(
                condition=models.Q(consecutive_periods__gte=1), name="stop_rule_consecutive_positive"
            ),
        ]

    def __str__(self):
        return self.name
