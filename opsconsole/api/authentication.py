from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from rest_framework import authentication, exceptions

from opsconsole.models import ServiceToken
from opsconsole.services import hash_token_key

# last_used_at is written at most this often per token: a busy token does not write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ServiceTokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token <key>`` for service accounts; keys are compared by hash.

    A rotated token's previous key works until its overlap window closes; a revoked or expired
    token, or a disabled service user, is refused.
    """

    keyword = "Token"

    def authenticate_credentials(self, key):
        digest = hash_token_key(key)
        now = timezone.now()
        token = (
            ServiceToken.objects.select_related("user")
            .filter(Q(key_hash=digest) | Q(previous_key_hash=digest, previous_key_expires_at__gt=now))
            .first()
        )
        if token is None or (token.revoked_at and token.revoked_at <= now):
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        if token.expires_at and token.expires_at <= now:
            raise exceptions.AuthenticationFailed("The token has expired.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("The token's service user is disabled.")
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
            # Telemetry, not state (excluded from the token's history): a plain UPDATE.
            ServiceToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return (token.user, token)
