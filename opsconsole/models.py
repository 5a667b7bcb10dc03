from django.conf import settings
from django.db import models

from opsconsole.history import audited_history


class ServiceToken(models.Model):
    """An API credential for a service account. Only a hash of the key is stored."""

    name = models.CharField(max_length=100, unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="service_token"
    )
    key_prefix = models.CharField(max_length=12, help_text="First characters, to recognise a key.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    history = audited_history()

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

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["principal", "scope", "key"], name="idempotency_unique_principal_scope_key"
            )
        ]

    def __str__(self):
        return f"{self.scope}:{self.key}"
