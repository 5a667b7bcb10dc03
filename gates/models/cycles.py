"""30-day hardening cycles: two constraints from the ranked list, scored candidate moves."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from gates.choices import CycleStatus
from gates.models.reviews import PlanChildQuerySet
from opsconsole.history import audited_history

SCORE = [MinValueValidator(1), MaxValueValidator(5)]


class HardeningCycle(models.Model):
    """Started by a harden or pause decision; ends with a new review."""

    plan = models.ForeignKey("gates.RampPlan", on_delete=models.PROTECT, related_name="cycles")
    decision = models.OneToOneField("gates.Decision", on_delete=models.PROTECT, related_name="cycle")
    starts_on = models.DateField()
    ends_on = models.DateField()
    sponsor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    technical_owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    operations_owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=8, choices=CycleStatus.choices, default=CycleStatus.OPEN)
    closing_review = models.ForeignKey(
        "gates.GateReview", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    history = audited_history()

    objects = PlanChildQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "-id"]

    def __str__(self):
        return f"hardening {self.plan.channel.code} {self.starts_on}–{self.ends_on}"


class CycleConstraint(models.Model):
    """One of the cycle's two constraints, taken from the ranked list with its cost rank."""

    cycle = models.ForeignKey(HardeningCycle, on_delete=models.CASCADE, related_name="constraints")
    reason_code = models.CharField(max_length=50)
    label = models.CharField(max_length=200)
    cost_rank = models.PositiveSmallIntegerField()
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    success_metric = models.CharField(max_length=64, help_text="A metric code from METRICS.md.")
    shipped_on = models.DateField(null=True, blank=True)
    history = audited_history()

    class Meta:
        ordering = ["cost_rank", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "reason_code"], name="cycle_constraint_once"),
        ]

    def __str__(self):
        return f"{self.reason_code} (cost rank {self.cost_rank})"


class CandidateMove(models.Model):
    """A move the cycle could make, scored 1–5 on four axes beside its cost rank."""

    cycle = models.ForeignKey(HardeningCycle, on_delete=models.CASCADE, related_name="moves")
    title = models.CharField(max_length=200)
    reason_code = models.CharField(max_length=50, blank=True)
    business_impact = models.PositiveSmallIntegerField(validators=SCORE)
    evidence_strength = models.PositiveSmallIntegerField(validators=SCORE)
    execution_confidence = models.PositiveSmallIntegerField(validators=SCORE)
    strategic_timing = models.PositiveSmallIntegerField(validators=SCORE)
    cost_rank = models.PositiveSmallIntegerField()
    history = audited_history()

    class Meta:
        ordering = ["cost_rank", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(business_impact__range=(1, 5))
                & models.Q(evidence_strength__range=(1, 5))
                & models.Q(execution_confidence__range=(1, 5))
                & models.Q(strategic_timing__range=(1, 5)),
                name="candidate_scores_1_to_5",
            )
        ]

    def __str__(self):
        return self.title

    @property
    def score(self) -> int:
        return (
            self.business_impact + self.evidence_strength + self.execution_confidence + self.strategic_timing
        )
