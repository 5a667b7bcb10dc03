"""Writes of staff sign-in: the audit row, enrolling second factors, recovery codes, and what an
ops lead does for someone else (reset their second factors, lift a lockout). Each runs in one
transaction with its audit row (``@service``)."""

from dataclasses import dataclass

from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from opsconsole.errors import PermissionRefused, ValidationFailed
from opsconsole.history import service
from opsconsole.staffauth.models import LoginEvent, LoginEventKind

RECOVERY_CODE_COUNT = 10
RECOVERY_DEVICE_NAME = "Recovery codes"
TOTP_DEVICE_NAME = "Authenticator app"


@dataclass(frozen=True)
class Client:
    """Where a request came from, as the audit records it."""

    ip_address: str | None = None
    user_agent: str = ""


NO_CLIENT = Client()


@service
def login_event_record(
    *,
    kind: str,
    actor,
    user=None,
    username: str = "",
    client: Client = NO_CLIENT,
    detail: dict | None = None,
) -> LoginEvent:
    """Append one sign-in fact. ``actor`` is who caused it (None for an anonymous attempt)."""
    return LoginEvent.objects.create(
        kind=kind,
        user=user,
        username=username or (user.get_username() if user is not None else ""),
        actor=actor,
        ip_address=client.ip_address,
        user_agent=client.user_agent,
        detail=detail or {},
    )


@service
def totp_device_start(*, user, actor) -> TOTPDevice:
    """A new, unconfirmed authenticator-app device for ``user`` to scan; any earlier unconfirmed
    one goes (its secret was shown and never confirmed)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)


@service
def totp_device_confirm(*, device: TOTPDevice, token: str, actor, client: Client = NO_CLIENT) -> TOTPDevice:
    """Confirm an authenticator app with a code it shows; it replaces the user's earlier app."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, confirmed=False)
    if not device.verify_token(token.strip()):
        raise ValidationFailed(
            "wrong_code", "That code does not match. Check the app's clock and try the next code."
        )
    TOTPDevice.objects.filter(user=device.user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    login_event_record(
        kind=LoginEventKind.ENROLLED,
        actor=actor,
        user=device.user,
        client=client,
        detail={"device": "totp", "name": device.name},
    )
    return device


@service
def recovery_codes_issue(*, user, actor, client: Client = NO_CLIENT) -> list[str]:
    """Ten new one-time recovery codes for ``user``; earlier ones stop working. The codes are
    returned to show once."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    login_event_record(
        kind=LoginEventKind.RECOVERY_CODES,
        actor=actor,
        user=user,
        client=client,
        detail={"count": len(codes)},
    )
    return codes


def _end_sessions_of(user) -> int:
    """Delete the user's live sessions: a reset must not leave a session to enrol a new factor in."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            session.delete()
            ended += 1
    return ended


@service
def staff_devices_reset(*, user, actor, client: Client = NO_CLIENT) -> dict:
    """An ops lead removes another staff member's second factors (authenticator apps, passkeys,
    recovery codes) and ends their sessions; they enrol again at their next login."""
    if not actor.has_perm("opsconsole.reset_devices"):
        raise PermissionRefused("not_allowed", "Only an ops lead may reset someone's second factors.")
    if actor.pk == user.pk:
        raise PermissionRefused("own_devices", "Another ops lead resets your own second factors, not you.")
    removed = {
        "totp": TOTPDevice.objects.filter(user=user).delete()[1].get("otp_totp.TOTPDevice", 0),
        "passkey": WebAuthnCredential.objects.filter(user=user)
        .delete()[1]
        .get("django_otp_webauthn.WebAuthnCredential", 0),
        "recovery_codes": StaticDevice.objects.filter(user=user)
        .delete()[1]
        .get("otp_static.StaticDevice", 0),
    }
    sessions = _end_sessions_of(user)
    login_event_record(
        kind=LoginEventKind.DEVICES_RESET,
        actor=actor,
        user=user,
        client=client,
        detail={"removed": removed, "sessions_ended": sessions},
    )
    return removed


@service
def lockout_lift(
    *, actor, username: str | None = None, ip_address: str | None = None, client: Client = NO_CLIENT
) -> int:
    """An ops lead clears the failed logins that lock a username or a client address. Returns
    how many attempt rows went."""
    if not actor.has_perm("opsconsole.lift_lockout"):
        raise PermissionRefused("not_allowed", "Only an ops lead may lift a lockout.")
    if not username and not ip_address:
        raise ValidationFailed("nothing_to_lift", "Name a username or an address to lift.")
    attempts = AccessAttempt.objects.all()
    if username:
        attempts = attempts.filter(username=username)
    if ip_address:
        attempts = attempts.filter(ip_address=ip_address)
    failures = sum(attempts.values_list("failures_since_start", flat=True))
    count, _ = attempts.delete()
    login_event_record(
        kind=LoginEventKind.LOCKOUT_LIFTED,
        actor=actor,
        user=get_user_model().objects.filter(username=username).first() if username else None,
        username=username or "",
        client=client,
        detail={"username": username, "ip_address": ip_address, "failures_cleared": failures},
    )
    return count
