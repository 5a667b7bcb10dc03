"""API throttling on the shared cache (Redis when configured): 429 with ``Retry-After``.

Two counters, each read per request so a deployment or a test can change its rate:

- per service token, at ``API_TOKEN_RATE`` (``OPSCONSOLE_API_TOKEN_RATE``);
- per staff user calling the API with their console session, at ``API_SESSION_RATE``
  (``OPSCONSOLE_API_SESSION_RATE``): a stolen or scripted session cannot read the API as fast
  as it likes either.

Each counts only its own kind of request; anonymous requests are refused before (the API
fails closed), so they are not counted.
"""

from django.conf import settings
from rest_framework.authentication import SessionAuthentication
from rest_framework.throttling import SimpleRateThrottle

from opsconsole.models import ServiceToken


class _SettingsRateThrottle(SimpleRateThrottle):
    setting: str

    def get_rate(self):
        return getattr(settings, self.setting)

    def allow_request(self, request, view):
        # SimpleRateThrottle parses the rate in __init__; read it again for this request.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


class ServiceTokenRateThrottle(_SettingsRateThrottle):
    scope = "service_token"
    setting = "API_TOKEN_RATE"

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ServiceToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class StaffSessionRateThrottle(_SettingsRateThrottle):
    scope = "staff_session"
    setting = "API_SESSION_RATE"

    def get_cache_key(self, request, view):
        if not isinstance(request.successful_authenticator, SessionAuthentication):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
