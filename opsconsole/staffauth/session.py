"""The second factor in the session: whether it is satisfied, how it is recorded, and the API's
session authentication that honours it."""

from django.conf import settings
from django.db import transaction
from django.middleware.csrf import rotate_token
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from drf_spectacular.authentication import SessionScheme
from rest_framework.authentication import SessionAuthentication

from opsconsole.staffauth.models import LoginEventKind
from opsconsole.staffauth.requests import client_ip, user_agent
from opsconsole.staffauth.services import Client, login_event_record


def two_factor_required() -> bool:
    return settings.TWO_FACTOR_REQUIRED


def second_factor_satisfied(user) -> bool:
    """Whether this request's user may use the console as far as the second factor goes: always
    when 2FA is off (the demo), else only a session verified by one of their devices. A user
    object that did not come through OTPMiddleware counts as unverified."""
    if not two_factor_required():
        return True
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def client_of(request) -> Client:
    return Client(ip_address=client_ip(request), user_agent=user_agent(request))


def has_second_factor(user) -> bool:
    return user_has_device(user, confirmed=True)


def mark_verified(request, device, *, method: str) -> None:
    """The session passed its second factor with ``device``: record it in the session under a new
    session key and CSRF token (what an attacker fixed before no longer names this session)."""
    otp_login(request, device)
    request.session.cycle_key()
    rotate_token(request)
    login_event_record(
        kind=LoginEventKind.VERIFIED,
        actor=request.user,
        user=request.user,
        client=client_of(request),
        detail={"method": method, "device": device.name},
    )


def device_for_token(user, token: str):
    """The user's device that accepts ``token`` (an authenticator code, else a recovery code),
    or None. Each try counts against the device's throttle, as django-otp does."""
    token = "".join(token.split()).lower()
    if not token:
        return None
    candidates = (TOTPDevice,) if token.isdigit() else (StaticDevice,)
    with transaction.atomic():
        for model in candidates:
            for device in model.objects.devices_for_user(user, confirmed=True).select_for_update():
                if device.verify_token(token):
                    return device
    return None


class VerifiedSessionAuthentication(SessionAuthentication):
    """DRF's session authentication for a console session that passed its second factor; a
    password-only session is anonymous to the API. Service tokens are not affected."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None or not second_factor_satisfied(request._request.user):
            return None
        return result


class VerifiedSessionScheme(SessionScheme):
    """The OpenAPI description of the above: a session cookie, as DRF's own."""

    target_class = "opsconsole.staffauth.session.VerifiedSessionAuthentication"
