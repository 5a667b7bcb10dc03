"""Gate reviews, their evaluations (six checks each, frozen) and overrides."""

import pgtrigger
from django.conf import settings
from django.db import models

from gates.choices import CheckCode, ReviewKind
from opsconsole.history import audited_history
from opsconsole.restrict import RestrictedQuerySet

FROZEN = pgtrigger.Protect(name="frozen", operation=pgtrigger.Update | pgtrigger.Delete)


class PlanChildQuerySet(RestrictedQuerySet):
    def restrict_by_grants(self, user, action):
        return self.restrict_through("plan", user, action)


class GateReview(models.Model):
    """One Channel Readiness Gate meeting (or a pause review a tripped rule opened)."""

    plan = models.ForeignKey("gates.RampPlan", on_delete=models.PROTECT, related_name="reviews")
    kind = models.CharField(max_length=12, choices=ReviewKind.choices, default=ReviewKind.GATE)
    held_on = models.DateField(null=True, blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(auto_now_add=True)
    # The rule evaluation or cycle that opened it, as text for people (links in the console).
    opened_because = models.CharField(max_length=300, blank=True)
    history = audited_history()

    objects = PlanChildQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]

    def __str__(self):
        return f"review #{self.pk} of {self.plan.channel.code}"


class ReviewChildQuerySet(RestrictedQuerySet):
    def restrict_by_grants(self, user, action):
        return self.filter(review__in=GateReview.objects.restrict(user, action))


class GateEvaluation(models.Model):
    """One evaluation of the six checks. Frozen: a re-evaluation is a new row."""

    review = models.ForeignKey(GateReview, on_delete=models.PROTECT, related_name="evaluations")
    evaluated_at = models.DateTimeField()
    evaluated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    since = models.DateField()
    until = models.DateField()

    objects = ReviewChildQuerySet.as_manager()

    class Meta:
        ordering = ["-evaluated_at", "-id"]
        triggers = [FROZEN]

    def __str__(self):
        return f"evaluation #{self.pk} ({self.evaluated_at:%Y-%m-%d %H:%M})"


class CheckResult(models.Model):
    """One check of one evaluation, with everything it used: numbers and their as-of time, the
    metric definition versions, the snapshot rows it cites, the threshold, pass or fail, what
    is missing, and links to the evidence. Frozen."""

    evaluation = models.ForeignKey(GateEvaluation, on_delete=models.PROTECT, related_name="checks")
    code = models.CharField(max_length=16, choices=CheckCode.choices)
    passed = models.BooleanField()
    measured = models.JSONField(default=dict)
    as_of = models.DateTimeField()
    metric_versions = models.JSONField(default=dict)
    snapshot_ids = models.JSONField(default=list)
    threshold = models.JSONField(default=dict)
    summary = models.CharField(max_length=300)
    missing = models.JSONField(default=list, help_text="What keeps it from passing, by name.")
    evidence = models.JSONField(default=list, help_text='[{"label", "url"}]')

    class Meta:
        ordering = ["evaluation_id", "id"]
        triggers = [FROZEN]
        constraints = [models.UniqueConstraint(fields=["evaluation", "code"], name="check_result_once")]

    def __str__(self):
        return f"{self.code}: {'pass' if self.passed else 'fail'}"


class CheckOverride(models.Model):
    """The meeting overrides a failed check, in writing. Shown as overridden, never as passed."""

    check_result = models.OneToOneField(CheckResult, on_delete=models.PROTECT, related_name="override")
    justification = models.TextField()
    overridden_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    overridden_at = models.DateTimeField(auto_now_add=True)
    history = audited_history()

    class Meta:
        triggers = [FROZEN]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(justification__regex=r"\S"), name="override_needs_justification"
            )
        ]

    def __str__(self):
        return f"override of {self.check_result}"
