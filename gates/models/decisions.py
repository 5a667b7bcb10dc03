"""The decision record a gate meeting ends with: signed once, then immutable in the database.

The triggers (django-pgtrigger) refuse an UPDATE or DELETE of a signed record, and any
INSERT, UPDATE or DELETE of its fixes and restart conditions once it is signed. An amendment
is a new record that names the one it amends.
"""

import pgtrigger
from django.conf import settings
from django.db import models

from gates.choices import Comparator, Outcome
from gates.models.reviews import ReviewChildQuerySet
from opsconsole.history import audited_history

SIGNED_IS_FINAL = pgtrigger.Protect(
    name="signed_is_final",
    operation=pgtrigger.Update | pgtrigger.Delete,
    condition=pgtrigger.Q(old__signed_at__isnull=False),
)


def _parent_unsigned(table: str) -> pgtrigger.Trigger:
    """A row of ``table`` (a decision's child) may change only while its decision is unsigned."""
    return pgtrigger.Trigger(
        name="decision_unsigned",
        when=pgtrigger.Before,
        operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
        func=pgtrigger.Func(
            f"""
            IF EXISTS (SELECT 1 FROM gates_decision d
                       WHERE d.id IN (COALESCE(NEW.decision_id, OLD.decision_id), OLD.decision_id)
                         AND d.signed_at IS NOT NULL) THEN
                RAISE EXCEPTION '{table}: the decision is signed and cannot change';
            END IF;
            IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
            RETURN NEW;
            """
        ),
    )


class Decision(models.Model):
    """Proceed, harden or pause, with why, who was there and what happens next."""

    review = models.ForeignKey("gates.GateReview", on_delete=models.PROTECT, related_name="decisions")
    amends = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="amendments"
    )
    attendees = models.JSONField(default=list, help_text="Names of the people in the meeting.")
    expected_volume = models.PositiveIntegerField(help_text="Expected weekly signups at the next step.")
    # [{"reason_code", "label", "accounts", "share"}] from the reports, at drafting time.
    failure_reasons = models.JSONField(default=list)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    rationale = models.TextField()
    next_step = models.CharField(max_length=120, blank=True)
    review_date = models.DateField(null=True, blank=True)
    # {"failed": account id or None, "with_ticket": ..., "activated": ...} from the reports.
    example_timelines = models.JSONField(default=dict)
    evaluation = models.ForeignKey(
        "gates.GateEvaluation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    drafted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    drafted_at = models.DateTimeField(auto_now_add=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    history = audited_history()

    objects = ReviewChildQuerySet.as_manager()

    class Meta:
        ordering = ["-drafted_at", "-id"]
        triggers = [SIGNED_IS_FINAL]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rationale__regex=r"\S"), name="decision_needs_rationale"
            ),
            models.CheckConstraint(
                condition=~models.Q(outcome=Outcome.PROCEED)
                | (models.Q(review_date__isnull=False) & ~models.Q(next_step="")),
                name="proceed_needs_next_step_and_review_date",
            ),
            models.CheckConstraint(
                condition=models.Q(signed_at__isnull=True, signed_by__isnull=True)
                | models.Q(signed_at__isnull=False, signed_by__isnull=False),
                name="decision_signature_whole",
            ),
        ]

    def __str__(self):
        return f"decision #{self.pk}: {self.outcome}{' (signed)' if self.signed_at else ' (draft)'}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None


class DecisionFix(models.Model):
    """A fix the decision commits to, on one reason code."""

    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="fixes")
    reason_code = models.CharField(max_length=50)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    due_date = models.DateField()
    success_metric = models.CharField(max_length=200, help_text='e.g. "import_failed share below 5%".')

    class Meta:
        ordering = ["due_date", "id"]
        triggers = [_parent_unsigned("gates_decisionfix")]

    def __str__(self):
        return f"fix {self.reason_code} by {self.due_date}"


class RestartCondition(models.Model):
    """A measurable condition a pause decision sets for the restart, evaluated like a stop
    rule: ``metric`` ``comparator`` ``value`` for ``consecutive_days`` mature days in a row."""

    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="restart_conditions")
    metric = models.CharField(max_length=64)
    comparator = models.CharField(
        max_length=8, choices=[(Comparator.ABOVE, "above"), (Comparator.BELOW, "below")]
    )
    value = models.FloatField()
    consecutive_days = models.PositiveSmallIntegerField(default=5)
    min_sample = models.PositiveIntegerField(default=20)

    class Meta:
        ordering = ["id"]
        triggers = [_parent_unsigned("gates_restartcondition")]

    def __str__(self):
        return f"{self.metric} {self.comparator} {self.value:g} for {self.consecutive_days} days"
