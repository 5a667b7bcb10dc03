"""Reconciliation runs: compare Stripe and the CRM with the accounts, a page at a time, resumably.

A run is a list of phases; each step fetches one batch of pages (outside any transaction,
with the gateway's retries, the next batch already on its way: ``PageReader``), then in one
transaction locks the run, checks its checkpoint has not moved, settles the batch and
advances the checkpoint. A worker killed at any point loses at most the batch in flight, and
the next execution (the redelivered task, or ``manage.py reconcile``) continues from the
checkpoint. Settling is idempotent (one open drift per subject and kind, one open exception
per account and reason), so a batch done twice has one effect.

The phases: ``stripe_scan`` (full: customers -> subscriptions -> close),
``stripe_incremental`` (the Events API since the last cursor) and ``crm_scan``
(companies -> close).
"""

import logging
from collections.abc import Callable
from contextlib import closing, contextmanager
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.billing.reconciliation import crm_scan, stripe_incremental, stripe_scan
from accounts.billing.reconciliation.pages import DONE, PageReader, RunSuperseded
from accounts.choices import ReconciliationMode, ReconciliationStatus, ReconciliationTarget
from accounts.models import ReconciliationMark, ReconciliationRun
from opsconsole.alerts import Alert, alert_send
from opsconsole.history import SYSTEM_RECONCILER, acting_as, service, system_user

logger = logging.getLogger("accounts.reconciliation")

FULL_SCAN_EVERY = timedelta(hours=24)
# Events are listed by `created` in whole seconds; start the next window a little early and
# let the unique event id drop what was already seen.
CURSOR_OVERLAP_SECONDS = 60

Progress = Callable[[ReconciliationRun], None]
# Each step does one batch of its phase; the reader, where a phase pages through a listing,
# fetches the next batch ahead.
Step = Callable[[ReconciliationRun, object, PageReader | None], ReconciliationRun | None]
STEPS: dict[str, dict[str, Step]] = {
    ReconciliationTarget.STRIPE: {**stripe_scan.PHASES, **stripe_incremental.PHASES},
    ReconciliationTarget.CRM: crm_scan.PHASES,
}


def _mode_for(target: str) -> str:
    if target == ReconciliationTarget.CRM:
        return ReconciliationMode.FULL
    last_full = (
        ReconciliationRun.objects.filter(
            target=target, mode=ReconciliationMode.FULL, status=ReconciliationStatus.COMPLETED
        )
        .order_by("-started_at")
        .first()
    )
    if last_full is None or timezone.now() - last_full.started_at >= FULL_SCAN_EVERY:
        return ReconciliationMode.FULL
    return ReconciliationMode.INCREMENTAL


def _first_checkpoint(target: str, mode: str) -> dict:
    if target == ReconciliationTarget.CRM:
        return {"phase": "companies", "cursor": None}
    if mode == ReconciliationMode.FULL:
        return {"phase": "customers", "starting_after": None}
    since = _last_events_cursor(target) or 0
    return {"phase": "events", "starting_after": None, "created_gte": max(0, since - CURSOR_OVERLAP_SECONDS)}


def _last_events_cursor(target: str) -> int | None:
    return (
        ReconciliationRun.objects.filter(
            target=target, status=ReconciliationStatus.COMPLETED, events_cursor__isnull=False
        )
        .order_by("-started_at")
        .values_list("events_cursor", flat=True)
        .first()
    )


@service
def reconciliation_start(*, target: str, mode: str | None = None, actor) -> tuple[ReconciliationRun, bool]:
    """A new run, or the one still running for ``target`` (a dead worker's, to resume).

    Returns (run, created). At most one run per target is running (a partial unique
    constraint), so two triggers at once share one run.
    """
    if target not in ReconciliationTarget.values:
        raise ValueError(f"Unknown reconciliation target {target!r}")
    running = (
        ReconciliationRun.objects.select_for_update()
        .filter(target=target, status=ReconciliationStatus.RUNNING)
        .first()
    )
    if running is not None:
        running.attempts += 1
        running.save(update_fields=["attempts"])
        return running, False
    mode = mode or _mode_for(target)
    try:
        with transaction.atomic():
            run = ReconciliationRun.objects.create(
                target=target,
                mode=mode,
                started_at=timezone.now(),
                heartbeat_at=timezone.now(),
                checkpoint=_first_checkpoint(target, mode),
                # An incremental run that sees no event keeps the cursor where it was.
                events_cursor=_last_events_cursor(target) if mode == ReconciliationMode.INCREMENTAL else None,
                attempts=1,
            )
    except IntegrityError:
        return ReconciliationRun.objects.get(target=target, status=ReconciliationStatus.RUNNING), False
    return run, True


def reconciliation_execute(run: ReconciliationRun, *, progress: Progress | None = None) -> ReconciliationRun:
    """Work through the run's phases from its checkpoint until it completes or fails."""
    actor = system_user(SYSTEM_RECONCILER)
    steps = STEPS[run.target]
    run.refresh_from_db()
    reader = PageReader()
    with _relaxed_commits(), closing(reader):
        while True:
            if run.status != ReconciliationStatus.RUNNING:
                return run
            phase = run.phase
            if phase == DONE:
                return _complete(run, actor)
            try:
                after = steps[phase](run, actor, reader)
            except RunSuperseded:
                run.refresh_from_db()
                continue
            except SoftTimeLimitExceeded:
                # Not a failure: the task stops at its checkpoint and a new task carries on.
                raise
            except Exception as exc:
                logger.exception("Reconciliation run #%s failed in phase %s", run.pk, phase)
                return _fail(run, exc, actor)
            if after is None:
                run.refresh_from_db()
            else:
                run = after
            if progress is not None:
                progress(run)


@contextmanager
def _relaxed_commits():
    """Page commits need not wait for the disk: a checkpoint lost to a database crash only
    means a page is settled again, which is idempotent. Scoped to this run's pages."""
    relaxed = connection.vendor == "postgresql" and not connection.in_atomic_block
    if relaxed:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
    try:
        yield
    finally:
        if relaxed:
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")


def _complete(run: ReconciliationRun, actor) -> ReconciliationRun:
    with transaction.atomic(), acting_as(actor):
        run = ReconciliationRun.objects.select_for_update().get(pk=run.pk)
        if run.status == ReconciliationStatus.RUNNING:
            run.status = ReconciliationStatus.COMPLETED
            run.finished_at = timezone.now()
            run.save()
            ReconciliationMark.objects.filter(run=run).delete()
    return run


def _fail(run: ReconciliationRun, exc: Exception, actor) -> ReconciliationRun:
    with transaction.atomic(), acting_as(actor):
        run = ReconciliationRun.objects.select_for_update().get(pk=run.pk)
        run.status = ReconciliationStatus.FAILED
        run.finished_at = timezone.now()
        run.errors += 1
        run.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
        run.save()
        alert_send(
            Alert(
                kind="reconciliation_failed",
                title=f"Reconciliation run #{run.pk} ({run.get_target_display()}) failed",
                text=run.last_error,
                severity="critical",
                fields={
                    "phase": run.phase,
                    "objects scanned": run.objects_scanned,
                    "mismatches": run.mismatches_found,
                },
                link=reverse("admin:accounts_reconciliationrun_change", args=[run.pk]),
            )
        )
    return run


def describe_progress(run: ReconciliationRun) -> str:
    return (
        f"run #{run.pk} {run.target}/{run.mode} phase={run.phase or '-'} scanned={run.objects_scanned} "
        f"mismatches={run.mismatches_found} opened={run.drift_opened} resolved={run.drift_resolved} "
        f"corrected={run.fields_corrected} errors={run.errors}"
    )
