"""The login audit's ears: Django's login, logout and failed-login signals, and django-axes'
lockout signal, each written as one ``LoginEvent``. Connected from ``OpsConsoleConfig.ready()``."""

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from opsconsole.staffauth.models import LoginEventKind
from opsconsole.staffauth.services import NO_CLIENT, login_event_record
from opsconsole.staffauth.session import client_of, two_factor_required

# Set on the request by whoever ends a session for a reason other than the user's click.
LOGOUT_REASON_ATTR = "opsconsole_logout_reason"


def _known_user(username: str | None):
    if not username:
        return None
    return get_user_model().objects.filter(username=username).first()


def on_logged_in(sender, request, user, **kwargs):
    login_event_record(
        kind=LoginEventKind.LOGIN,
        actor=user,
        user=user,
        client=client_of(request),
        detail={"second_factor": "pending" if two_factor_required() else "not_required"},
    )


def on_login_failed(sender, credentials, request=None, **kwargs):
    username = (credentials or {}).get("username") or ""
    locked = bool(getattr(request, "axes_locked_out", False))
    login_event_record(
        kind=LoginEventKind.LOGIN_FAILED,
        actor=None,
        user=_known_user(username),
        username=username[:150],
        client=client_of(request) if request is not None else NO_CLIENT,
        detail={"refused": "locked_out"} if locked else {"refused": "wrong_credentials"},
    )


def on_locked_out(sender, request, username, ip_address, **kwargs):
    login_event_record(
        kind=LoginEventKind.LOCKED_OUT,
        actor=None,
        user=_known_user(username),
        username=(username or "")[:150],
        client=client_of(request),
        detail={"username": username, "ip_address": ip_address},
    )


def on_logged_out(sender, request, user, **kwargs):
    if user is None:
        return
    login_event_record(
        kind=LoginEventKind.LOGOUT,
        actor=user,
        user=user,
        client=client_of(request),
        detail={"reason": getattr(request, LOGOUT_REASON_ATTR, "user")},
    )


def connect() -> None:
    user_logged_in.connect(on_logged_in, dispatch_uid="opsconsole-audit-login")
    user_login_failed.connect(on_login_failed, dispatch_uid="opsconsole-audit-login-failed")
    user_logged_out.connect(on_logged_out, dispatch_uid="opsconsole-audit-logout")
    user_locked_out.connect(on_locked_out, dispatch_uid="opsconsole-audit-locked-out")
