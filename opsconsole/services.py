"""Writes for the console's shared machinery: service tokens, the idempotency ledger and the
record of failed Celery tasks."""

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import timezone

from opsconsole import roles
from opsconsole.api.scopes import all_scopes, scopes_for_permissions
from opsconsole.errors import Conflict, Unprocessable, ValidationFailed
from opsconsole.history import (
    SERVICE_USER_PREFIX,  # noqa: F401  (defined beside SYSTEM_USER_PREFIX)
    service,
)
from opsconsole.models import IdempotencyRecord, ServiceToken, TaskFailure

TOKEN_BYTES = 32
# A claim older than this belongs to a request that died; a retry may take it over.
STALE_IN_FLIGHT_AFTER = timedelta(minutes=2)


def hash_token_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _scopes_checked(scopes: list[str]) -> list[str]:
    known = all_scopes()
    unknown = sorted(set(scopes) - set(known))
    if unknown:
        raise ValidationFailed(
            "unknown_scope",
            f"Unknown scope(s) {', '.join(unknown)}; one of: {', '.join(known)}.",
            {"scopes": known},
        )
    return sorted(set(scopes))


def _role_scopes(role: str) -> list[str]:
    group = Group.objects.get(name=role)
    held = {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }
    return scopes_for_permissions(held)


def _new_key() -> tuple[str, str]:
    key = secrets.token_urlsafe(TOKEN_BYTES)
    return key, hash_token_key(key)


@service
def service_token_issue(
    *, name: str, role: str, scopes: list[str] | None = None, expires_at=None, actor
) -> tuple[ServiceToken, str]:
    """Create a service user in ``role`` and a token for it. Returns the token and its key,
    which is shown once and never stored. ``scopes`` defaults to every endpoint the role may call."""
    if role not in roles.ALL_ROLES:
        raise ValidationFailed(
            "unknown_role",
            f"Unknown role {role!r}; one of: {', '.join(roles.ALL_ROLES)}.",
            {"roles": roles.ALL_ROLES},
        )
    if ServiceToken.objects.filter(name=name).exists():
        raise Conflict("token_exists", f"A service token named {name!r} already exists.")
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed("expiry_in_past", "A token's expiry must be in the future.")
    granted = _scopes_checked(scopes) if scopes is not None else _role_scopes(role)
    User = get_user_model()
    user, _ = User.objects.get_or_create(
        username=f"{SERVICE_USER_PREFIX}{name}", defaults={"is_staff": False, "is_active": True}
    )
    user.set_unusable_password()
    user.save()
    user.groups.add(Group.objects.get(name=role))
    key, digest = _new_key()
    token = ServiceToken.objects.create(
        name=name, user=user, key_prefix=key[:8], key_hash=digest, scopes=granted, expires_at=expires_at
    )
    return token, key


@service
def service_token_rotate(*, token: ServiceToken, overlap: timedelta, actor) -> tuple[ServiceToken, str]:
    """A new key for ``token``; the current one keeps working for ``overlap`` (then stops), so
    the caller can deploy the new key without an outage. Returns the token and the new key."""
    token = ServiceToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        raise Conflict("token_revoked", f"Token {token.name!r} is revoked; issue a new one.")
    if overlap < timedelta(0):
        raise ValidationFailed("overlap_negative", "The overlap window cannot be negative.")
    now = timezone.now()
    key, digest = _new_key()
    token.previous_key_prefix = token.key_prefix
    token.previous_key_hash = token.key_hash if overlap else None
    token.previous_key_expires_at = now + overlap if overlap else None
    token.key_prefix, token.key_hash, token.rotated_at = key[:8], digest, now
    token.save()
    return token, key


@service
def service_token_update(
    *, token: ServiceToken, scopes: list[str] | None = None, expires_at=..., actor
) -> ServiceToken:
    """Change a token's scopes and/or expiry (``expires_at=None`` removes the expiry)."""
    token = ServiceToken.objects.select_for_update().get(pk=token.pk)
    if scopes is not None:
        token.scopes = _scopes_checked(scopes)
    if expires_at is not ...:
        token.expires_at = expires_at
    token.save()
    return token


@service
def service_token_revoke(*, token: ServiceToken, actor) -> ServiceToken:
    """Revoke the token, both its keys, at once."""
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


ARGS_SUMMARY_LENGTH = 500


def _args_summary(args, kwargs) -> str:
    parts = [repr(a) for a in args or ()] + [f"{k}={v!r}" for k, v in (kwargs or {}).items()]
    text = ", ".join(parts)
    return text if len(text) <= ARGS_SUMMARY_LENGTH else text[: ARGS_SUMMARY_LENGTH - 1] + "…"


@service
def task_failure_record(
    *,
    task_name: str,
    task_id: str,
    attempt: int,
    kind: str,
    exception_class: str,
    message: str,
    args=(),
    kwargs=None,
    actor,
) -> TaskFailure:
    """Append one failure (or retry) of a Celery task. A second report of the same (task id,
    attempt) stores nothing: the unique constraint decides (INSERT ... ON CONFLICT DO NOTHING),
    and the row stored first is returned."""
    TaskFailure.objects.bulk_create(
        [
            TaskFailure(
                task_name=task_name[:200],
                task_id=task_id[:255],
                attempt=attempt,
                kind=kind,
                args_summary=_args_summary(args, kwargs),
                exception_class=exception_class[:200],
                message=message,
                occurred_at=timezone.now(),
            )
        ],
        ignore_conflicts=True,
    )
    return TaskFailure.objects.get(task_id=task_id[:255], attempt=attempt)
