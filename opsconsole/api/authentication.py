from django.utils import timezone
from rest_framework import authentication, exceptions

from opsconsole.models import ServiceToken
from opsconsole.services import hash_token_key


class ServiceTokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token <key>`` for service accounts; keys are compared by hash."""

    keyword = "Token"

    def authenticate_credentials(self, key):
        token = ServiceToken.objects.select_related("user").filter(key_hash=hash_token_key(key)).first()
        if token is None or (token.revoked_at and token.revoked_at <= timezone.now()):
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("The token's service user is disabled.")
        return (token.user, token)
