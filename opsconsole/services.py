"""Writes for the console's shared machinery: service tokens and the idempotency ledger."""

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import timezone

from opsconsole import roles
from opsconsole.errors import Conflict, Unprocessable, ValidationFailed
from opsconsole.history import (
    SERVICE_USER_PREFIX,  # noqa: F401  (defined beside SYSTEM_USER_PREFIX)
    service,
)
from opsconsole.models import IdempotencyRecord, ServiceToken

TOKEN_BYTES = 32
# A claim older than this belongs to a request that died; a retry may take it over.
STALE_IN_FLIGHT_AFTER = timedelta(minutes=2)


def hash_token_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@service
def service_token_issue(*, name: str, role: str, actor) -> tuple[ServiceToken, str]:
    """Create a service user in ``role`` and a token for it. Returns the token and its key,
    which is shown once and never stored."""
    if role not in roles.ALL_ROLES:
        raise ValidationFailed(
            "unknown_role",
            f"Unknown role {role!r}; one of: {', '.join(roles.ALL_ROLES)}.",
            {"roles": roles.ALL_ROLES},
        )
    if ServiceToken.objects.filter(name=name).exists():
        raise Conflict("token_exists", f"A service token named {name!r} already exists.")
    User = get_user_model()
    user, _ = User.objects.get_or_create(
        username=f"{SERVICE_USER_PREFIX}{name}", defaults={"is_staff": False, "is_active": True}
    )
    user.set_unusable_password()
    user.save()
    user.groups.add(Group.objects.get(name=role))
    key = secrets.token_urlsafe(TOKEN_BYTES)
    token = ServiceToken.objects.create(
        name=name, user=user, key_prefix=key[:8], key_hash=hash_token_key(key)
    )
    return token, key


@service
def service_token_revoke(*, token: ServiceToken, actor) -> ServiceToken:
    token = ServiceToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


# --- Idempotency ledger ---------------------------------------------------------------------


class IdempotencyOutcome:
    """What ``idempotency_claim`` found: either the caller owns the key now, or a replay."""

    def __init__(self, record: IdempotencyRecord, replay: bool):
        self.record = record
        self.replay = replay


def idempotency_claim(*, principal, scope: str, key: str, fingerprint: str) -> IdempotencyOutcome:
    """Claim ``key`` for this request, committed at once so a concurrent twin sees it.

    Raises 422 ``idempotency_key_reused`` for another body under the same key and 409
    ``idempotency_request_in_flight`` while the first request is still running.
    """
    if not key or len(key) > 255:
        raise ValidationFailed("idempotency_key_invalid", "Idempotency-Key must be 1 to 255 characters.")
    # Two rounds: a claim we collided with may be released (its request failed) before we read it.
    for _ in range(2):
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    principal=principal, scope=scope, key=key, fingerprint=fingerprint
                )
            return IdempotencyOutcome(record, replay=False)
        except IntegrityError:
            pass
        with transaction.atomic():
            record = (
                IdempotencyRecord.objects.select_for_update()
                .filter(principal=principal, scope=scope, key=key)
                .first()
            )
            if record is None:
                continue
            if record.fingerprint != fingerprint:
                raise Unprocessable(
                    "idempotency_key_reused",
                    "This Idempotency-Key was used with a different request body.",
                    {"key": key},
                )
            if record.state == IdempotencyRecord.State.COMPLETED:
                return IdempotencyOutcome(record, replay=True)
            if timezone.now() - record.created_at < STALE_IN_FLIGHT_AFTER:
                break
            # The first request died mid-way (nothing it did committed): this one takes over.
            record.created_at = timezone.now()
            record.save(update_fields=["created_at"])
            return IdempotencyOutcome(record, replay=False)
    raise Conflict(
        "idempotency_request_in_flight",
        "A request with this Idempotency-Key is still being processed; retry shortly.",
        {"key": key},
    )


def idempotency_complete(*, record: IdempotencyRecord, status: int, body) -> None:
    """Store the response; call inside the transaction that made the effect, so both commit."""
    record.state = IdempotencyRecord.State.COMPLETED
    record.response_status = status
    record.response_body = body
    record.completed_at = timezone.now()
    record.save(update_fields=["state", "response_status", "response_body", "completed_at"])


def idempotency_release(*, record: IdempotencyRecord) -> None:
    """Forget a claim whose request failed, so the client may retry with the same key."""
    IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyRecord.State.IN_FLIGHT).delete()
