"""Passkeys (django-otp-webauthn) as a second factor: the relying party the console is, and the
library's ceremony views with the session rotation and the audit rows the console adds."""

import json

from django.conf import settings
from django.http import JsonResponse
from django.utils import timezone
from django_otp_webauthn import views as webauthn_views
from django_otp_webauthn.helpers import WebAuthnHelper

from opsconsole.staffauth.models import LoginEventKind
from opsconsole.staffauth.services import login_event_record
from opsconsole.staffauth.session import client_of, mark_verified

LOCAL_HOSTS = {"localhost"}


class ConsoleWebAuthnHelper(WebAuthnHelper):
    """The configured relying party and origins; the local demo (``DJANGO_DEBUG``) also accepts
    its own http://localhost:<port>, which no setting can know in advance."""

    def get_allowed_origins(self) -> list[str]:
        origins = list(settings.OTP_WEBAUTHN_ALLOWED_ORIGINS)
        if settings.DEBUG and self.request.get_host().split(":")[0] in LOCAL_HOSTS:
            origins.append(f"{self.request.scheme}://{self.request.get_host()}")
        return origins

    def create_credential(self, user, response, parsed_credential, original_data):
        device = super().create_credential(user, response, parsed_credential, original_data)
        device.name = f"Passkey added {timezone.now():%Y-%m-%d %H:%M}"
        return device


def _failed(request, response, kind: str, step: str) -> None:
    """Audit a refused ceremony (the library answers refusals as JSON errors)."""
    try:
        reason = json.loads(response.content).get("code", "")
    except ValueError:
        reason = ""
    user = request.user if request.user.is_authenticated else None
    login_event_record(
        kind=kind,
        actor=user,
        user=user,
        client=client_of(request),
        detail={"method": "passkey", "step": step, "reason": reason},
    )


class RegistrationComplete(webauthn_views.CompleteCredentialRegistrationView):
    """Saves the new passkey; the first second factor of a session also verifies it (with a new
    session key), as the library does; both are audited."""

    def post(self, *args, **kwargs):
        request = self.request
        state = self.get_state()
        helper = self.get_helper()
        with webauthn_views.rewrite_exceptions(logger=webauthn_views._get_pywebauthn_logger()):
            device = helper.register_complete(user=request.user, state=state, data=request.data)
        login_event_record(
            kind=LoginEventKind.ENROLLED,
            actor=request.user,
            user=request.user,
            client=client_of(request),
            detail={"device": "passkey", "name": device.name},
        )
        if not request.user.is_verified():
            mark_verified(request, device, method="passkey")
        return JsonResponse({"id": device.pk})

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        _failed(self.request, response, LoginEventKind.ENROL_FAILED, "register")
        return response


class AuthenticationComplete(webauthn_views.CompleteCredentialAuthenticationView):
    """Verifies the session's second factor with a passkey of the logged-in user (never a
    passwordless login: the setting refuses a ceremony without a user)."""

    def complete_auth(self, device):
        mark_verified(self.request, device, method="passkey")

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        _failed(self.request, response, LoginEventKind.VERIFY_FAILED, "authenticate")
        return response
