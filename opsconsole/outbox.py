"""Commands to the product and the CRM: written to the outbox with the action, delivered after
commit.

A product delivery is a POST to PRODUCT_WEBHOOK_URL signed with HMAC-SHA256 over
``"<timestamp>.<body>"`` (header ``X-Opsconsole-Signature: t=<timestamp>,v1=<hex>``) and
carries the command id (``X-Opsconsole-Command-Id`` and ``Idempotency-Key``), so the product
can drop a redelivery. A CRM delivery writes properties to one company through the CRM
adapter; writing the same values twice changes nothing there. Failures of either are retried
with exponential backoff, except a refusal no retry can change (a 4xx other than 408, 425 or
429, or a CRM push whose CRM is no longer the configured one); the last failure alerts.
"""

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from opsconsole.actions.recorder import external_call
from opsconsole.alerts import Alert, alert_send
from opsconsole.history import acting_as, system_user
from opsconsole.links import action_run_url
from opsconsole.models import OUTBOX_IN_FLIGHT, OutboxDestination, OutboxMessage, OutboxStatus

logger = logging.getLogger("opsconsole.outbox")

SYSTEM_OUTBOX = "system:outbox"
TIMEOUT_SECONDS = 10
# A message stuck in "sending" this long belongs to a worker that died mid-delivery.
STALE_SENDING_AFTER = timedelta(minutes=5)
# Redis redelivers a task whose countdown outlives its visibility timeout; stay well under it.
MAX_COUNTDOWN_SECONDS = 3600


def outbox_enqueue(
    *,
    command: str,
    payload: dict,
    account=None,
    action_run=None,
    destination: str = OutboxDestination.PRODUCT,
    dedupe_key: str = "",
) -> OutboxMessage | None:
    """Write a command in the caller's transaction and deliver it after commit.

    With a ``dedupe_key``, a message with that key still pending or sending is returned
    instead of writing a second one (a unique constraint decides, so concurrent callers agree).
    In a dry run the command is listed by the recorder and nothing is written or sent.
    """
    message = OutboxMessage(
        destination=destination,
        command=command,
        payload=payload,
        account=account,
        action_run=action_run,
        dedupe_key=dedupe_key,
    )
    written: list[OutboxMessage] = []

    def write_and_schedule():
        existing = _write_once(message)
        if existing is not None:
            written.append(existing)
            return {"command_id": str(existing.pk), "deduplicated": True}
        transaction.on_commit(lambda: _schedule(message.pk, countdown=0))
        written.append(message)
        return {"command_id": str(message.pk)}

    external_call(
        destination,
        command,
        {"command_id": str(message.pk), "account": getattr(account, "external_id", None), **payload},
        perform=write_and_schedule,
    )
    return written[0] if written else None


def _write_once(message: OutboxMessage) -> OutboxMessage | None:
    """Insert the message, or return the in-flight one holding its dedupe key."""
    for _ in range(3):
        message.next_attempt_at = timezone.now()
        try:
            with transaction.atomic():
                message.save(force_insert=True)
            return None
        except IntegrityError as exc:
            if not message.dedupe_key:
                raise
            conflict = exc
        existing = OutboxMessage.objects.filter(
            dedupe_key=message.dedupe_key, status__in=OUTBOX_IN_FLIGHT
        ).first()
        if existing is not None:
            return existing
        # Delivered (or failed) between our insert and this read: try again. A conflict that
        # persists with nothing in flight is another constraint, so it is raised below.
    raise conflict


def _schedule(message_id, *, countdown: float) -> None:
    from opsconsole.tasks import outbox_deliver

    outbox_deliver.apply_async((str(message_id),), countdown=min(countdown, MAX_COUNTDOWN_SECONDS))


def sign(body: bytes, *, secret: str, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _body(message: OutboxMessage) -> bytes:
    return json.dumps(
        {
            "id": str(message.pk),
            "command": message.command,
            "account": message.account.external_id if message.account_id else None,
            "payload": message.payload,
            "created_at": message.created_at,
        },
        cls=DjangoJSONEncoder,
        sort_keys=True,
    ).encode()


# Client errors that may pass on their own; any other 4xx is the receiver refusing the message
# itself, which no retry changes.
RETRYABLE_CLIENT_ERRORS = frozenset({408, 425, 429})


def retryable(status: int | None) -> bool:
    """Whether a failed delivery is worth another attempt (no status: it never arrived)."""
    return status is None or not (400 <= status < 500) or status in RETRYABLE_CLIENT_ERRORS


@dataclass(frozen=True)
class Attempt:
    ok: bool
    status: int | None = None
    error: str = ""
    retry: bool = True

    @classmethod
    def failed(cls, *, status: int | None, error: str) -> "Attempt":
        return cls(ok=False, status=status, error=error, retry=retryable(status))


def _post(message: OutboxMessage) -> Attempt:
    body = _body(message)
    request = urllib.request.Request(
        settings.PRODUCT_WEBHOOK_URL,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Opsconsole-Command-Id": str(message.pk),
            "Idempotency-Key": str(message.pk),
            "X-Opsconsole-Signature": sign(
                body, secret=settings.PRODUCT_WEBHOOK_SECRET, timestamp=int(time.time())
            ),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return Attempt(ok=200 <= response.status < 300, status=response.status)
    except urllib.error.HTTPError as exc:
        return Attempt.failed(status=exc.code, error=f"HTTP {exc.code}")
    except OSError as exc:
        return Attempt.failed(status=None, error=f"{type(exc).__name__}: {exc}")


def _update_crm_company(adapter, message: OutboxMessage) -> Attempt:
    from accounts.billing import CrmUnavailable

    queued_for = message.payload.get("crm")
    if queued_for and queued_for != adapter.name:
        # The record id belongs to the CRM the push was queued for; another CRM's company
        # with the same id is a different company.
        return Attempt(
            ok=False,
            error=f"queued for the {queued_for} CRM, but CRM_ADAPTER is now {adapter.name}; not sent",
            retry=False,
        )
    try:
        adapter.update_company(
            record_id=message.payload["record_id"], properties=message.payload["properties"]
        )
    except CrmUnavailable as exc:
        return Attempt.failed(status=exc.status, error=str(exc)[:2000])
    return Attempt(ok=True)


def _transport(message: OutboxMessage) -> Callable[[OutboxMessage], Attempt] | None:
    """How to deliver the message, or None when its destination is not configured here."""
    if message.destination == OutboxDestination.CRM:
        from accounts.billing import crm_adapter

        adapter = crm_adapter()
        return partial(_update_crm_company, adapter) if adapter.configured else None
    return _post if settings.PRODUCT_WEBHOOK_URL else None


def backoff_seconds(attempts: int) -> float:
    return settings.OUTBOX_BACKOFF_SECONDS * (2 ** max(attempts - 1, 0))


def outbox_deliver_once(message_id) -> float | None:
    """Make one delivery attempt if the message is due. Returns seconds until a retry, or None.

    Safe to run twice: the attempt is claimed by a compare-and-set from pending to sending
    under a row lock, so two workers never post the same attempt.
    """
    actor = system_user(SYSTEM_OUTBOX)
    now = timezone.now()
    with transaction.atomic(), acting_as(actor):
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, status=OutboxStatus.PENDING)
            .first()
        )
        if message is None or (message.next_attempt_at and message.next_attempt_at > now):
            return None
        send = _transport(message)
        if send is None:
            logger.warning(
                "%s not configured; command %s %s logged",
                message.destination,
                message.command,
                message.payload,
            )
            message.status = OutboxStatus.NOT_CONFIGURED
            message.save()
            return None
        message.status = OutboxStatus.SENDING
        message.attempts += 1
        message.last_attempt_at = now
        message.save()

    attempt = send(message)

    with transaction.atomic(), acting_as(actor):
        message = OutboxMessage.objects.select_for_update().get(pk=message_id)
        message.response_status = attempt.status
        if attempt.ok:
            message.status = OutboxStatus.DELIVERED
            message.delivered_at = timezone.now()
            message.last_error = ""
            message.save()
            return None
        message.last_error = attempt.error
        if not attempt.retry or message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            message.status = OutboxStatus.FAILED
            message.save()
            _alert_failed(message)
            return None
        delay = backoff_seconds(message.attempts)
        message.status = OutboxStatus.PENDING
        message.next_attempt_at = timezone.now() + timedelta(seconds=delay)
        message.save()
        return delay


def _alert_failed(message: OutboxMessage) -> None:
    alert_send(
        Alert(
            kind="outbox_delivery_failed",
            title=f"{message.get_destination_display()} command {message.command} not delivered "
            f"after {message.attempts} attempt{'s' if message.attempts != 1 else ''}",
            text=message.last_error,
            severity="critical",
            fields={
                "command_id": str(message.pk),
                "account": message.account.external_id if message.account_id else "",
                "action_run": message.action_run_id or "",
            },
            link=action_run_url(message.action_run) if message.action_run_id else "",
        )
    )


def outbox_sweep(*, now=None) -> int:
    """Requeue due messages whose task was lost, and reclaim ones a dead worker held."""
    now = now or timezone.now()
    actor = system_user(SYSTEM_OUTBOX)
    stale = OutboxMessage.objects.filter(
        status=OutboxStatus.SENDING, last_attempt_at__lte=now - STALE_SENDING_AFTER
    )
    for pk in stale.values_list("pk", flat=True):
        with transaction.atomic(), acting_as(actor):
            message = (
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, status=OutboxStatus.SENDING)
                .first()
            )
            if message is not None:
                message.status = OutboxStatus.PENDING
                message.save()
    due = list(
        OutboxMessage.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now).values_list(
            "pk", flat=True
        )
    )
    for pk in due:
        _schedule(pk, countdown=0)
    return len(due)
