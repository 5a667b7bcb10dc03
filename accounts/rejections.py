"""Product events the intake refused, kept so the data-quality panel can count them.

A separate module of ``accounts.models`` (which re-exports it) to keep that module in bounds.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from opsconsole.restrict import RestrictedQuerySet


class RejectionReason(models.TextChoices):
    UNKNOWN_ACCOUNT = "unknown_account", "Names no account"
    INVALID = "invalid", "Invalid fields"


class RejectedEvent(models.Model):
    """One product event the intake refused, with the id and account it named and why.

    Append-only and its own audit record (``received_by``), like ``AccountEvent``: no history.
    A redelivered refusal is kept once: (event_id, reason) is unique where the event had an id.
    """

    event_id = models.CharField(max_length=200, blank=True)
    account_ref = models.CharField(max_length=200, blank=True, help_text="The account it named.")
    type = models.CharField(max_length=64, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=20, choices=RejectionReason.choices)
    errors = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField()
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event_id", "reason"], condition=~Q(event_id=""), name="rejected_event_once"
            )
        ]
        indexes = [models.Index(fields=["reason", "received_at"], name="rejected_event_day_idx")]

    def __str__(self):
        return f"{self.event_id or '(no id)'}: {self.reason}"
