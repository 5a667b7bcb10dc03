"""The sign-in steps after the password: verify a second factor, or enrol the first one; the
recovery codes shown once; leaving a half-finished sign-in.

These pages serve a session that has passed its password but not yet its second factor, so they
sit outside the admin's permission check; each says which sessions it serves.
"""

from base64 import b32encode
from functools import wraps

import segno
from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import REDIRECT_FIELD_NAME, logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from opsconsole.errors import ApplicationError
from opsconsole.staffauth.models import LoginEventKind
from opsconsole.staffauth.services import (
    login_event_record,
    recovery_codes_issue,
    totp_device_confirm,
    totp_device_start,
)
from opsconsole.staffauth.session import (
    client_of,
    device_for_token,
    has_second_factor,
    mark_verified,
    second_factor_satisfied,
)

PENDING_TOTP_KEY = "opsconsole_pending_totp_device"
RECOVERY_CODES_KEY = "opsconsole_recovery_codes_to_show"


def next_url(request) -> str:
    """Where to go once signed in: a safe ``next`` or the console's home."""
    candidate = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
    if url_has_allowed_host_and_scheme(candidate, {request.get_host()}, require_https=request.is_secure()):
        return candidate
    return reverse("admin:index")


def with_next(name: str, request_or_next) -> str:
    target = request_or_next if isinstance(request_or_next, str) else next_url(request_or_next)
    return f"{reverse(name)}?{urlencode({REDIRECT_FIELD_NAME: target})}"


def password_done(view):
    """For a staff session past its password: anyone else goes to the login page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not (user.is_authenticated and user.is_active and user.is_staff):
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return view(request, *args, **kwargs)

    return never_cache(wrapper)


def _context(request, site, **extra):
    return {**site.each_context(request), "next": next_url(request), **extra}


def _after_first_factor(request) -> HttpResponseRedirect:
    """A session just verified by its first device: recovery codes once, then on."""
    codes = recovery_codes_issue(user=request.user, actor=request.user, client=client_of(request))
    request.session[RECOVERY_CODES_KEY] = codes
    return redirect(with_next("admin:login_recovery_codes", request))


@sensitive_post_parameters("token")
@password_done
def verify_view(request, site):
    """Second step of a login: a code from the authenticator app, a recovery code, or a passkey."""
    if second_factor_satisfied(request.user):
        return redirect(next_url(request))
    if not has_second_factor(request.user):
        return redirect(with_next("admin:login_enrol", request))
    error = None
    if request.method == "POST":
        device = device_for_token(request.user, request.POST.get("token", ""))
        if device is not None:
            method = "totp" if isinstance(device, TOTPDevice) else "recovery_code"
            mark_verified(request, device, method=method)
            if method == "recovery_code":
                messages.warning(
                    request,
                    "You used a recovery code. Each works once: see how many remain on Sign-in & security.",
                )
            return redirect(next_url(request))
        login_event_record(
            kind=LoginEventKind.VERIFY_FAILED,
            actor=request.user,
            user=request.user,
            client=client_of(request),
            detail={"method": "code"},
        )
        error = "That code was not accepted. Codes work once; wait for the next one and try again."
    has_passkey = WebAuthnCredential.objects.filter(user=request.user, confirmed=True).exists()
    return render(
        request,
        "opsconsole/staffauth/verify.html",
        _context(request, site, title="Second factor", error=error, has_passkey=has_passkey),
    )


def _qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// address as an inline SVG (no image request, nothing from elsewhere)."""
    return segno.make(device.config_url, error="m").svg_inline(
        scale=5, border=2, dark="#111", title="QR code"
    )


def _grouped(secret: str) -> str:
    """The key for typing in by hand, in groups of four."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _pending_totp(request) -> TOTPDevice:
    device = TOTPDevice.objects.filter(
        pk=request.session.get(PENDING_TOTP_KEY), user=request.user, confirmed=False
    ).first()
    if device is None:
        device = totp_device_start(user=request.user, actor=request.user)
        request.session[PENDING_TOTP_KEY] = device.pk
    return device


@sensitive_post_parameters("token")
@password_done
def enrol_view(request, site):
    """Add a second factor: the first one right after the password (nothing to verify with yet),
    further ones only from a verified session."""
    enrolled = has_second_factor(request.user)
    if enrolled and not request.user.is_verified():
        return redirect(with_next("admin:login_verify", request))
    device = _pending_totp(request)
    error = None
    if request.method == "POST":
        try:
            device = totp_device_confirm(
                device=device,
                token=request.POST.get("token", ""),
                actor=request.user,
                client=client_of(request),
            )
        except ApplicationError as exc:
            error = exc.message
        else:
            del request.session[PENDING_TOTP_KEY]
            if not request.user.is_verified():
                mark_verified(request, device, method="totp")
                return _after_first_factor(request)
            messages.success(
                request, "Your new authenticator app is set up; the earlier one no longer works."
            )
            return redirect(next_url(request))
    return render(
        request,
        "opsconsole/staffauth/enrol.html",
        _context(
            request,
            site,
            title="Set up a second factor",
            enrolled=enrolled,
            qr_svg=_qr_svg(device),
            secret=_grouped(b32encode(device.bin_key).decode()),
            error=error,
        ),
    )


@password_done
def passkey_added_view(request, site):
    """Where the passkey enrolment page goes once the browser registered one."""
    if not second_factor_satisfied(request.user):
        return redirect(with_next("admin:login_verify", request))
    if not StaticDevice.objects.filter(user=request.user).exists():
        return _after_first_factor(request)
    messages.success(request, "Your passkey is registered.")
    return redirect(next_url(request))


@password_done
def recovery_codes_view(request, site):
    """The recovery codes just issued, shown this once."""
    codes = request.session.pop(RECOVERY_CODES_KEY, None)
    return render(
        request,
        "opsconsole/staffauth/recovery_codes.html",
        _context(request, site, title="Your recovery codes", codes=codes),
    )


@require_POST
def leave_view(request):
    """Log out from any step of the sign-in (the admin's logout needs a finished one)."""
    logout(request)
    return redirect("admin:login")


def locked_out_response(request, original_response=None, credentials=None):
    """django-axes' answer to a refused login (``AXES_LOCKOUT_CALLABLE``): the console's page, 429."""
    context = {
        **admin.site.each_context(request),
        "title": "Too many failed logins",
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cooloff_minutes": int(get_cool_off().total_seconds() // 60),
    }
    return render(request, "opsconsole/staffauth/locked_out.html", context, status=429)


def site_view(view, site):
    """Bind a view to the admin site whose context it renders in."""

    @wraps(view)
    def bound(request, *args, **kwargs):
        return view(request, site, *args, **kwargs)

    return bound
