"""The login audit, and the console's views of staff members and lockouts.

``LoginEvent`` is append-only: services write it, nothing changes or deletes a row (a trigger
on PostgreSQL, ``save()``/``delete()`` everywhere). ``StaffMember`` and ``Lockout`` are proxies
of the user and of django-axes' attempt rows: their own permissions put them in the roles.
"""

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone

from opsconsole.request_id import request_id_field
from opsconsole.restrict import RestrictedQuerySet


class LoginEventKind(models.TextChoices):
    LOGIN = "login", "Password accepted"
    LOGIN_FAILED = "login_failed", "Login failed"
    LOCKED_OUT = "locked_out", "Locked out"
    VERIFIED = "second_factor_verified", "Second factor verified"
    VERIFY_FAILED = "second_factor_failed", "Second factor failed"
    LOGOUT = "logout", "Logout"
    ENROLLED = "device_enrolled", "Second factor enrolled"
    ENROL_FAILED = "device_enrol_failed", "Second factor enrolment failed"
    RECOVERY_CODES = "recovery_codes_issued", "Recovery codes issued"
    DEVICES_RESET = "devices_reset", "Second factors reset"
    LOCKOUT_LIFTED = "lockout_lifted", "Lockout lifted"


class LoginEventQuerySet(RestrictedQuerySet):
    def restrict_by_grants(self, user, action: str) -> RestrictedQuerySet:
        # Without the audit permission, people read their own sign-in activity, nothing more.
        if action != "view":
            return self.none()
        return self.filter(user=user)


class LoginEvent(models.Model):
    """One sign-in fact: who (``user``, or the ``username`` typed when no such user exists),
    from where (IP address, user agent), what, when; ``actor`` is who did it when that is
    someone else (an ops lead resetting devices or lifting a lock)."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=32, choices=LoginEventKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="login_events"
    )
    username = models.CharField(max_length=150, blank=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    ingress_request_id = request_id_field()

    objects = LoginEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["user", "-at"], name="login_event_user_idx"),
            models.Index(fields=["kind", "-at"], name="login_event_kind_idx"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.get_kind_display()}: {self.username or '—'}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("LoginEvent is append-only; events are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("LoginEvent is append-only; events are never deleted.")


class StaffMember(get_user_model()):
    """A console user as ops leads see them: roles, second factors, and the reset."""

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        proxy = True
        verbose_name = "staff member"
        permissions = [("reset_devices", "Can reset another staff member's second factors")]


class Lockout(AccessAttempt):
    """django-axes' count of failed logins by (username, address, user agent): the rows that
    lock a username or an address, and what an ops lead lifts."""

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        proxy = True
        verbose_name = "lockout"
        permissions = [("lift_lockout", "Can lift a login lockout")]
