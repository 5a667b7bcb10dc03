"""What the stop rules and restart conditions measured, each time; the pauses they caused."""

from django.conf import settings
from django.db import models

from gates.choices import ConditionOutcome, RuleOutcome
from gates.models.plans import StopRule
from gates.models.reviews import FROZEN, PlanChildQuerySet

EVALUATION_OUTCOMES = RuleOutcome.choices + [
    (ConditionOutcome.MET, "Met"),
    (ConditionOutcome.NOT_MET, "Not met"),
]


class RuleEvaluation(models.Model):
    """One evaluation of a stop rule (or a restart condition): the measured values per period,
    the snapshot rows read, and the outcome. Frozen: anyone can see why it did or did not fire."""

    plan = models.ForeignKey("gates.RampPlan", on_delete=models.PROTECT, related_name="rule_evaluations")
    rule = models.ForeignKey(
        StopRule, on_delete=models.PROTECT, null=True, blank=True, related_name="evaluations"
    )
    condition = models.ForeignKey(
        "gates.RestartCondition", on_delete=models.PROTECT, null=True, blank=True, related_name="evaluations"
    )
    evaluated_at = models.DateTimeField()
    outcome = models.CharField(max_length=20, choices=EVALUATION_OUTCOMES)
    # {"periods": [{"period", "value", "n", "baseline"?, ...}], "threshold", "reason", ...}
    measured = models.JSONField(default=dict)
    snapshot_ids = models.JSONField(default=list)

    objects = PlanChildQuerySet.as_manager()

    class Meta:
        ordering = ["-evaluated_at", "-id"]
        triggers = [FROZEN]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rule__isnull=False, condition__isnull=True)
                | models.Q(rule__isnull=True, condition__isnull=False),
                name="rule_evaluation_of_one_thing",
            )
        ]
        indexes = [models.Index(fields=["rule", "-evaluated_at"], name="rule_evaluation_latest_idx")]

    def __str__(self):
        return f"{self.rule or self.condition}: {self.outcome} at {self.evaluated_at:%Y-%m-%d %H:%M}"


class RampPause(models.Model):
    """A ramp stopped by a tripped rule. At most one open pause per plan (a unique constraint),
    so two evaluations that trip at once pause it exactly once; a signed proceed closes it."""

    plan = models.ForeignKey("gates.RampPlan", on_delete=models.PROTECT, related_name="pauses")
    rule = models.ForeignKey(StopRule, on_delete=models.PROTECT, related_name="pauses")
    evaluation = models.ForeignKey(RuleEvaluation, on_delete=models.PROTECT, related_name="+")
    review = models.ForeignKey("gates.GateReview", on_delete=models.PROTECT, null=True, related_name="+")
    paused_at = models.DateTimeField()
    restart_notified_at = models.DateTimeField(null=True, blank=True)
    resumed_at = models.DateTimeField(null=True, blank=True)
    resumed_by_decision = models.ForeignKey(
        "gates.Decision", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = PlanChildQuerySet.as_manager()

    class Meta:
        ordering = ["-paused_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan"], condition=models.Q(resumed_at__isnull=True), name="ramp_paused_once"
            )
        ]

    def __str__(self):
        return f"pause of {self.plan} by {self.rule}"


class RestartNotice(models.Model):
    """The owner was told the restart conditions of a pause decision are met (once)."""

    decision = models.OneToOneField("gates.Decision", on_delete=models.PROTECT, related_name="restart_notice")
    notified_at = models.DateTimeField()
    notified = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    def __str__(self):
        return f"restart notice for decision {self.decision_id}"
