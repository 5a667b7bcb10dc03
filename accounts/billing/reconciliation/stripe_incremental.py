"""Stripe incremental run: the Events API since the last cursor, each event stored and applied
as a webhook's would be."""

import logging

from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction

from accounts.billing import stripe_gateway
from accounts.billing.reconciliation.pages import DONE, PageReader, PageStep
from accounts.billing.stripe_events import HANDLED_EVENT_TYPES, stripe_event_process, stripe_event_record
from accounts.choices import StripeEventStatus, StripeEventVia
from accounts.models import ReconciliationRun
from opsconsole.history import acting_as

logger = logging.getLogger("accounts.reconciliation")


def _step_events(run: ReconciliationRun, actor, reader: PageReader | None = None) -> None:
    step = PageStep(run, actor)
    created_gte = run.checkpoint.get("created_gte")
    page = stripe_gateway.events_page(
        created_gte=created_gte,
        starting_after=run.checkpoint.get("starting_after"),
        on_retry=step.count_retry,
    )
    rows = []
    with step:
        for event in page.objects:
            if event.get("type") in HANDLED_EVENT_TYPES:
                row, _ = stripe_event_record(
                    event=event, via=StripeEventVia.EVENTS_API, dispatch=False, actor=actor
                )
                rows.append(row)
        newest = max((e.get("created") or 0 for e in page.objects), default=None)
        if newest is not None:
            step.run.events_cursor = max(step.run.events_cursor or 0, newest)
        step.page_done(
            scanned=len(page.objects), phase_next=DONE, has_more=page.has_more, starting_after=page.last_id
        )
    # Applied after the page commits, each in its own transaction, as a webhook would be.
    applied = errors = 0
    for row in rows:
        if row.status != StripeEventStatus.PENDING:
            continue
        try:
            applied += stripe_event_process(stripe_event=row, actor=actor)
        except SoftTimeLimitExceeded:
            raise  # the event stays pending: the sweep or the next run applies it
        except Exception:
            logger.exception("Stripe event %s failed during incremental reconciliation", row.stripe_id)
            errors += 1
    if applied or errors:
        with transaction.atomic(), acting_as(actor):
            locked = ReconciliationRun.objects.select_for_update().get(pk=run.pk)
            locked.fields_corrected += applied
            locked.errors += errors
            locked.save()


PHASES = {"events": _step_events}
