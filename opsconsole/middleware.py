"""Console session limits beyond Django's idle timeout, and requests kept away from the session."""

from datetime import datetime

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpResponse
from django.utils import timezone

from opsconsole.staffauth.signals import LOGOUT_REASON_ATTR

SESSION_STARTED_KEY = "opsconsole_session_started_at"


class FaviconMiddleware:
    """Answer the browser's own ``/favicon.ico`` request with an empty 204, before the session.

    Browsers ask for it beside every page, in parallel with what the person does next. Past the
    session middleware (which saves on every request) its response carried the session it had
    loaded: racing a sign-in's second factor, it put back the unverified session (or, after a
    sign-out, the old one) and the person was signed out or still signed in. Here it never
    touches the session, and never reaches the login page.
    """

    PATH = "/favicon.ico"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == self.PATH and request.method in ("GET", "HEAD"):
            return HttpResponse(status=204)
        return self.get_response(request)


class AdminSessionTimeoutMiddleware:
    """End a staff session 12 hours after login, however active it has been.

    The 30-minute idle limit is SESSION_COOKIE_AGE with SESSION_SAVE_EVERY_REQUEST; this adds
    the absolute cap that a sliding cookie cannot express.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            started = request.session.get(SESSION_STARTED_KEY)
            now = timezone.now()
            if started is None:
                request.session[SESSION_STARTED_KEY] = now.isoformat()
            elif now - datetime.fromisoformat(started) > settings.ADMIN_SESSION_MAX_AGE:
                setattr(request, LOGOUT_REASON_ATTR, "session_max_age")
                logout(request)
        return self.get_response(request)
