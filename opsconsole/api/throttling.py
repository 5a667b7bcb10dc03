"""Per-token throttling on the shared cache (Redis when configured): 429 with ``Retry-After``.

The rate is ``API_TOKEN_RATE`` (settings; ``OPSCONSOLE_API_TOKEN_RATE`` in the environment),
read per request so a deployment or a test can change it. Requests that are not made with a
service token (console sessions) are not throttled here.
"""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from opsconsole.models import ServiceToken


class ServiceTokenRateThrottle(SimpleRateThrottle):
    scope = "service_token"

    def get_rate(self):
        return settings.API_TOKEN_RATE

    def allow_request(self, request, view):
        # SimpleRateThrottle parses the rate in __init__; read it again for this request.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ServiceToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
