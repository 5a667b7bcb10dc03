"""Thin Celery tasks for billing: process stored Stripe events, run reconciliation.

Registered from AccountsConfig.ready() (Celery's autodiscovery looks for ``accounts.tasks``).
Tasks call services; services queue ``accounts.process_stripe_event`` by name, so nothing
here is imported by them.
"""

import logging
from datetime import timedelta

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.utils import timezone

from accounts.billing import stripe_gateway
from accounts.billing.crm import crm_adapter
from accounts.billing.reconciliation import reconciliation_execute, reconciliation_start
from accounts.billing.stripe_events import PROCESS_TASK, SYSTEM_STRIPE, stripe_event_process
from accounts.choices import StripeEventStatus
from accounts.models import StripeEvent
from opsconsole.history import SYSTEM_RECONCILER, system_user

logger = logging.getLogger("accounts.tasks")


@shared_task(
    name=PROCESS_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(stripe_gateway.StripeUnavailable,),
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
    soft_time_limit=60,
    time_limit=90,
)
def process_stripe_event(stripe_event_id: int) -> bool:
    stripe_event = StripeEvent.objects.filter(pk=stripe_event_id).first()
    if stripe_event is None:
        return False
    return stripe_event_process(stripe_event=stripe_event, actor=system_user(SYSTEM_STRIPE))


@shared_task(name="accounts.requeue_pending_stripe_events", soft_time_limit=60, time_limit=90)
def requeue_pending_stripe_events(older_than_minutes: int = 5) -> int:
    """Safety net for an event whose processing task was lost before it ran."""
    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    ids = list(
        StripeEvent.objects.filter(status=StripeEventStatus.PENDING, received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:500]
    )
    for pk in ids:
        process_stripe_event.delay(pk)
    return len(ids)


@shared_task(
    name="accounts.reconcile",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=55 * 60,
    time_limit=60 * 60,
)
def reconcile(self, target: str, mode: str | None = None) -> int | None:
    """Start a reconciliation run, or resume the one a dead worker left running.

    The run checkpoints after every page, so a redelivered task continues where it stopped.
    """
    configured = crm_adapter().configured if target == "crm" else bool(settings.STRIPE_API_KEY)
    if not configured:
        logger.info("Reconciliation of %s skipped: no credentials configured", target)
        return None
    run, _ = reconciliation_start(target=target, mode=mode, actor=system_user(SYSTEM_RECONCILER))
    try:
        reconciliation_execute(run)
    except SoftTimeLimitExceeded:
        logger.warning("Reconciliation run #%s hit its time limit; continuing in a new task", run.pk)
        self.apply_async((target, mode))
    return run.pk
