"""Reconciliation: compare Stripe and the CRM with the accounts, a page at a time, resumably.

A run is a list of phases; each step fetches one batch of pages (outside any transaction,
with the gateway's retries, the next batch already on its way: ``PageReader``), then in one
transaction locks the run, checks its checkpoint has not moved, settles the batch and
advances the checkpoint. A worker killed at any point loses at most the batch in flight, and
the next execution (the redelivered task, or ``manage.py reconcile``) continues from the
checkpoint. Settling is idempotent (one open drift per subject and kind, one open exception
per account and reason), so a batch done twice has one effect.

Stripe full run: customers -> subscriptions -> close (accounts with no subscription, two
customers for one account, and resolution of drift the run no longer saw). Stripe incremental
run: the Events API since the last cursor, each event stored and applied like a webhook.
CRM run: companies -> close.
"""

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.billing import stripe_gateway
from accounts.billing.crm import DRIFT_KINDS, crm_adapter, expected_values, record_ref
from accounts.billing.crm_push import crm_lifecycle_push_auto
from accounts.billing.services import (
    LIVE_BILLING_STATUSES,
    STRIPE_LIVE_SUBSCRIPTION,
    AccountWrites,
    drift_open,
    drift_resolve,
    is_superseded,
    link_customer,
    metadata_account,
    open_subscription_drift,
    settle_subscription,
    stripe_event_process,
    stripe_event_record,
    subscription_agrees,
)
from accounts.choices import (
    DriftKind,
    DriftStatus,
    ReconciliationMode,
    ReconciliationStatus,
    ReconciliationTarget,
    StripeEventStatus,
    StripeEventVia,
)
from accounts.models import Account, BillingDrift, ReconciliationMark, ReconciliationRun
from opsconsole.alerts import Alert, alert_send
from opsconsole.history import SYSTEM_RECONCILER, acting_as, service, system_user

logger = logging.getLogger("accounts.reconciliation")

FULL_SCAN_EVERY = timedelta(hours=24)
# Pages settled per transaction and checkpoint: a killed worker redoes at most this many, and
# the run's own writes (lock, marks, progress, commit) are paid once per this many pages.
PAGES_PER_CHECKPOINT = 5
# Events are listed by `created` in whole seconds; start the next window a little early and
# let the unique event id drop what was already seen.
CURSOR_OVERLAP_SECONDS = 60
DONE = "done"

Progress = Callable[[ReconciliationRun], None]


class RunSuperseded(Exception):
    """Another executor moved the checkpoint while this one fetched the page."""


# --- Starting and running -----------------------------------------------------------------


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


class _Step:
    """One page of a phase: lock the run, check the checkpoint, and hand back counters."""

    def __init__(self, run: ReconciliationRun, actor):
        self.run_id = run.pk
        self.expected = dict(run.checkpoint)
        self.actor = actor
        self.retries = 0

    def count_retry(self, exc: Exception) -> None:
        self.retries += 1

    def __enter__(self):
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self._acting = acting_as(self.actor)
        self._acting.__enter__()
        self.run = ReconciliationRun.objects.select_for_update().get(pk=self.run_id)
        if self.run.status != ReconciliationStatus.RUNNING or self.run.checkpoint != self.expected:
            self.__exit__(RunSuperseded, RunSuperseded(), None)
            raise RunSuperseded()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            run = self.run
            run.errors += self.retries
            if self.retries:
                run.last_error = f"{self.retries} transient Stripe/CRM error(s) retried"
            run.heartbeat_at = timezone.now()
            # Progress is not a change of state worth a history row per page; the run's status
            # changes (started, completed, failed) are recorded with history.
            run.save_without_historical_record()
        self._acting.__exit__(exc_type, exc, tb)
        return self._atomic.__exit__(exc_type, exc, tb)

    def advance(self, *, phase_next: str, has_more: bool, **cursor) -> None:
        if has_more:
            self.run.checkpoint = {**self.expected, **cursor}
        else:
            self.run.checkpoint = {"phase": phase_next, **dict.fromkeys(cursor)}

    def mark(self, object_type: str, pairs: list) -> None:
        """Record which account each object of this page matched, for the closing phase."""
        ReconciliationMark.objects.bulk_create(
            [
                ReconciliationMark(
                    run=self.run,
                    object_type=object_type,
                    after=self.expected.get("starting_after") or "",
                    pairs=pairs,
                )
            ],
            ignore_conflicts=True,
        )

    def tally(self, result) -> None:
        self.run.mismatches_found += result.mismatches
        self.run.drift_opened += result.opened
        self.run.drift_resolved += result.resolved
        self.run.fields_corrected += len(result.corrected)


# --- Stripe: full scan --------------------------------------------------------------------


# What the scan compares; the locked re-read before a write loads the whole row.
SCAN_FIELDS = (
    "external_id",
    "stripe_customer_id",
    "stripe_subscription_id",
    "plan",
    "billing_status",
    "trial_ends_at",
    "renews_at",
    "mrr_cents",
    "stripe_state_at",
)


def _accounts_for(*, customer_ids: set[str], external_ids: set[str]) -> list[Account]:
    """The accounts a page of Stripe objects names, read without locks: most agree, and only
    those that do not are locked (and read again) before anything is written. Linked
    customer ids find nearly all; the account ids in metadata only the rest."""
    found = list(Account.objects.only(*SCAN_FIELDS).filter(stripe_customer_id__in=customer_ids - {""}))
    known = {a.external_id for a in found}
    missing = external_ids - known - {""}
    if missing:
        found += Account.objects.only(*SCAN_FIELDS).filter(external_id__in=missing)
    return found


def _locked_many(pks: set[int], *, for_exceptions: bool = False) -> list[Account]:
    """Lock and read again, in primary-key order (as every writer does, so none deadlock).
    Opening an exception reads the channel's response target: load it only for that."""
    locked = Account.objects.select_for_update(of=("self",)).filter(pk__in=pks).order_by("pk")
    return list(locked.select_related("channel") if for_exceptions else locked)


@dataclass(frozen=True)
class Batch:
    """Up to PAGES_PER_CHECKPOINT pages of one listing, and how they were fetched."""

    objects: list[dict]
    has_more: bool
    # When the fetch began, to the second: the objects are at least this fresh, and a webhook
    # applied to an account after it holds newer state than the batch.
    fetched_at: datetime
    retries: int

    @property
    def last_id(self) -> str | None:
        return self.objects[-1]["id"] if self.objects else None


def _fetch_batch(fetch, *, starting_after: str | None) -> Batch:
    """Fetched outside any transaction, with the gateway's retries (counted for the run)."""
    fetched_at = timezone.now().replace(microsecond=0)
    retries = []
    objects, has_more, after = [], False, starting_after
    for _ in range(PAGES_PER_CHECKPOINT):
        page = fetch(starting_after=after, on_retry=retries.append)
        objects += page.objects
        has_more, after = page.has_more, page.last_id or after
        if not has_more:
            break
    return Batch(objects=objects, has_more=has_more, fetched_at=fetched_at, retries=len(retries))


class PageReader:
    """Reads a listing batch after batch, fetching the next batch on a thread while the
    caller settles this one.

    Fetching waits on Stripe and settling waits on PostgreSQL, so they need not take turns:
    a run takes about as long as its fetches. Only the next batch is fetched ahead, and
    nothing is written from it until its own step has locked the run and found the
    checkpoint where that batch starts. Without a reader (``None``) steps fetch in line.
    """

    def __init__(self):
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reconcile-prefetch")
        self._ahead: dict[tuple, Future] = {}

    def read(self, fetch, *, starting_after: str | None) -> Batch:
        future = self._ahead.pop((fetch, starting_after), None)
        # Anything else fetched ahead was for a cursor the run has moved past.
        self._ahead.clear()
        batch = future.result() if future is not None else _fetch_batch(fetch, starting_after=starting_after)
        if batch.has_more:
            self._ahead[(fetch, batch.last_id)] = self._pool.submit(
                _fetch_batch, fetch, starting_after=batch.last_id
            )
        return batch

    def close(self) -> None:
        # A run only ends with a batch in flight when it failed or was superseded; that batch
        # is not wanted, and waiting for it could mean waiting out Stripe's retries.
        self._ahead.clear()
        self._pool.shutdown(wait=False, cancel_futures=True)


def _read(reader: PageReader | None, fetch, *, starting_after: str | None) -> Batch:
    if reader is None:
        return _fetch_batch(fetch, starting_after=starting_after)
    return reader.read(fetch, starting_after=starting_after)


def _unmatched(step: _Step, obj: dict, *, what: str) -> None:
    _, created = drift_open(
        system=ReconciliationTarget.STRIPE,
        kind=DriftKind.UNMATCHED,
        subject=obj["id"],
        account=None,
        ours={"account": None},
        # A subscription names its customer; a customer's own id must not be overwritten by that.
        theirs={"customer": obj.get("customer"), "email": obj.get("email"), what: obj["id"]},
        summary=f"Stripe {what} {obj['id']} matches no account",
        run=step.run,
    )
    step.run.mismatches_found += 1
    step.run.drift_opened += created


def _step_customers(run: ReconciliationRun, actor, reader: PageReader | None = None) -> ReconciliationRun:
    step = _Step(run, actor)
    page = _read(reader, stripe_gateway.customers_page, starting_after=run.checkpoint.get("starting_after"))
    step.retries += page.retries
    with step:
        accounts = _accounts_for(
            customer_ids={c["id"] for c in page.objects},
            external_ids={metadata_account(c) for c in page.objects},
        )
        by_customer = {a.stripe_customer_id: a for a in accounts if a.stripe_customer_id}
        by_external = {a.external_id: a for a in accounts}
        marks, unlinked = [], []
        for customer in page.objects:
            account = by_customer.get(customer["id"]) or by_external.get(metadata_account(customer))
            if account is None:
                _unmatched(step, customer, what="customer")
                continue
            marks.append([account.pk, customer["id"]])
            if not account.stripe_customer_id:
                unlinked.append((account.pk, customer["id"]))
        # Locked and read again together; a customer linked meanwhile (by a webhook, or by an
        # earlier customer of this page naming the same account) is left for the close phase.
        locked = {a.pk: a for a in _locked_many({pk for pk, _ in unlinked})}
        writes = AccountWrites()
        for pk, customer_id in unlinked:
            account = locked[pk]
            if not account.stripe_customer_id:
                link_customer(
                    account=account,
                    customer_id=customer_id,
                    by=f"reconciliation run #{step.run.pk}",
                    writes=writes,
                )
                step.run.fields_corrected += 1
        writes.flush()
        step.mark("customer", marks)
        step.run.objects_scanned += len(page.objects)
        step.advance(phase_next="subscriptions", has_more=page.has_more, starting_after=page.last_id)
    return step.run


def _step_subscriptions(run: ReconciliationRun, actor, reader: PageReader | None = None) -> ReconciliationRun:
    step = _Step(run, actor)
    page = _read(
        reader, stripe_gateway.subscriptions_page, starting_after=run.checkpoint.get("starting_after")
    )
    step.retries += page.retries
    observed_at = page.fetched_at
    with step:
        accounts = _accounts_for(
            customer_ids={s.get("customer") or "" for s in page.objects},
            external_ids={metadata_account(s) for s in page.objects},
        )
        by_customer = {a.stripe_customer_id: a for a in accounts if a.stripe_customer_id}
        by_external = {a.external_id: a for a in accounts}
        with_drift = set(
            BillingDrift.objects.filter(
                system=ReconciliationTarget.STRIPE,
                status=DriftStatus.OPEN,
                subject__in=[a.external_id for a in accounts],
            ).values_list("subject", flat=True)
        )
        marks, disagreeing = [], []
        for subscription in page.objects:
            account = by_customer.get(subscription.get("customer")) or by_external.get(
                metadata_account(subscription)
            )
            if account is None:
                if subscription.get("status") in STRIPE_LIVE_SUBSCRIPTION:
                    _unmatched(step, subscription, what="subscription")
                continue
            marks.append([account.pk, subscription["id"]])
            if account.external_id in with_drift or not subscription_agrees(account, subscription):
                disagreeing.append((account.pk, subscription))
        # Only the accounts that disagree are locked, read again and settled, all together.
        locked = {a.pk: a for a in _locked_many({pk for pk, _ in disagreeing})}
        open_drift = open_subscription_drift(list(locked.values()))
        writes = AccountWrites()
        for pk, subscription in disagreeing:
            account = locked[pk]
            if is_superseded(account, subscription):
                continue
            if account.stripe_state_at is not None and account.stripe_state_at > observed_at:
                continue  # a webhook applied newer state after this page was fetched
            result = settle_subscription(
                account=account,
                subscription=subscription,
                observed_at=observed_at,
                open_drift=open_drift.get(account.external_id, {}),
                origin=f"reconciliation run #{step.run.pk}",
                run=step.run,
                writes=writes,
            )
            step.tally(result)
        writes.flush()
        step.mark("subscription", marks)
        step.run.objects_scanned += len(page.objects)
        step.advance(phase_next="close", has_more=page.has_more, starting_after=page.last_id)
    return step.run


def _step_close_stripe(run: ReconciliationRun, actor, reader: PageReader | None = None) -> ReconciliationRun:
    step = _Step(run, actor)
    with step:
        customers_of: dict[int, set[str]] = {}
        with_subscription: set[int] = set()
        for mark in ReconciliationMark.objects.filter(run=step.run):
            for account_id, object_id in mark.pairs:
                if mark.object_type == "subscription":
                    with_subscription.add(account_id)
                else:
                    customers_of.setdefault(account_id, set()).add(object_id)
        live = Account.objects.filter(
            Q(billing_status__in=LIVE_BILLING_STATUSES) | ~Q(stripe_subscription_id="")
        )
        without_subscription = set(live.values_list("pk", flat=True)) - with_subscription
        for account in _locked_many(without_subscription, for_exceptions=True):
            _, created = drift_open(
                system=ReconciliationTarget.STRIPE,
                kind=DriftKind.NO_SUBSCRIPTION,
                subject=account.external_id,
                account=account,
                field="stripe_subscription_id",
                ours={
                    "billing_status": account.billing_status,
                    "stripe_subscription_id": account.stripe_subscription_id,
                },
                theirs={"subscription": None, "customer": account.stripe_customer_id or None},
                summary=f"Billing status {account.billing_status} here, no subscription in Stripe",
                run=step.run,
            )
            step.run.mismatches_found += 1
            step.run.drift_opened += created
        doubled = {pk for pk, customers in customers_of.items() if len(customers) > 1}
        for account in _locked_many(doubled, for_exceptions=True):
            customers = sorted(customers_of[account.pk])
            _, created = drift_open(
                system=ReconciliationTarget.STRIPE,
                kind=DriftKind.DUPLICATE_CUSTOMER,
                subject=account.external_id,
                account=account,
                field="stripe_customer_id",
                ours={"stripe_customer_id": account.stripe_customer_id},
                theirs={"stripe_customer_ids": customers},
                summary=f"{len(customers)} Stripe customers for this account: {', '.join(customers)}",
                run=step.run,
            )
            step.run.mismatches_found += 1
            step.run.drift_opened += created
        step.run.drift_resolved += _resolve_unseen(step.run, ReconciliationTarget.STRIPE)
        step.run.events_cursor = int(step.run.started_at.timestamp())
        step.run.checkpoint = {"phase": DONE}
    return step.run


def _resolve_unseen(run: ReconciliationRun, system: str) -> int:
    """Drift a complete scan did not see again is fixed: resolve it with a note."""
    stale = BillingDrift.objects.select_for_update().filter(
        system=system, status=DriftStatus.OPEN, last_seen_at__lt=run.started_at
    )
    note = (
        f"Resolved automatically: reconciliation run #{run.pk} ({run.started_at:%Y-%m-%d %H:%M} UTC) "
        "found the two sides in agreement."
    )
    return sum(drift_resolve(drift, note=note) for drift in stale)


# --- Stripe: incremental ------------------------------------------------------------------


def _step_events(run: ReconciliationRun, actor, reader: PageReader | None = None) -> None:
    step = _Step(run, actor)
    created_gte = run.checkpoint.get("created_gte")
    page = stripe_gateway.events_page(
        created_gte=created_gte,
        starting_after=run.checkpoint.get("starting_after"),
        on_retry=step.count_retry,
    )
    from accounts.billing.services import EVENT_HANDLERS

    rows = []
    with step:
        for event in page.objects:
            if event.get("type") in EVENT_HANDLERS:
                row, _ = stripe_event_record(
                    event=event, via=StripeEventVia.EVENTS_API, dispatch=False, actor=actor
                )
                rows.append(row)
        newest = max((e.get("created") or 0 for e in page.objects), default=None)
        if newest is not None:
            step.run.events_cursor = max(step.run.events_cursor or 0, newest)
        step.run.objects_scanned += len(page.objects)
        step.advance(phase_next=DONE, has_more=page.has_more, starting_after=page.last_id)
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


# --- CRM ----------------------------------------------------------------------------------


def _step_companies(run: ReconciliationRun, actor, reader: PageReader | None = None) -> ReconciliationRun:
    step = _Step(run, actor)
    adapter = crm_adapter()
    page = adapter.companies_page(cursor=run.checkpoint.get("cursor"))
    with step:
        wanted = {c.account_external_id for c in page.companies if c.account_external_id}
        accounts = {
            a.external_id: a
            for a in Account.objects.select_for_update(of=("self",))
            .select_related("channel", "owner")
            .filter(external_id__in=wanted)
            .order_by("pk")
        }
        open_drift: dict[tuple[str, str], BillingDrift] = {
            (d.subject, d.kind): d
            for d in BillingDrift.objects.select_for_update().filter(
                system=ReconciliationTarget.CRM, status=DriftStatus.OPEN, subject__in=wanted
            )
        }
        for company in page.companies:
            account = accounts.get(company.account_external_id)
            if account is None:
                continue
            expected = expected_values(adapter, account)
            theirs = {
                "owner": company.owner_email,
                "plan": company.plan,
                "lifecycle_stage": company.lifecycle_stage,
            }
            for name, kind in DRIFT_KINDS.items():
                existing = open_drift.get((account.external_id, kind))
                if expected[name] == theirs[name]:
                    if existing is not None:
                        step.run.drift_resolved += drift_resolve(
                            existing,
                            note=f"Resolved automatically by reconciliation run #{step.run.pk}: "
                            f"{adapter.name} {name} now agrees ({theirs[name] or 'empty'}).",
                        )
                    continue
                drift, created = drift_open(
                    system=ReconciliationTarget.CRM,
                    kind=kind,
                    subject=account.external_id,
                    account=account,
                    field=name,
                    ours={name: expected[name]},
                    theirs={name: theirs[name], "record": record_ref(adapter, company.record_id)},
                    summary=f"{name}: {expected[name] or 'empty'} here, "
                    f"{theirs[name] or 'empty'} in {adapter.name}",
                    run=step.run,
                )
                step.run.mismatches_found += 1
                step.run.drift_opened += created
                if kind == DriftKind.CRM_LIFECYCLE and settings.CRM_PUSH_LIFECYCLE:
                    crm_lifecycle_push_auto(drift=drift, adapter=adapter, run=step.run, actor=actor)
        step.run.objects_scanned += len(page.companies)
        step.advance(phase_next="close", has_more=page.next_cursor is not None, cursor=page.next_cursor)
    return step.run


def _step_close_crm(run: ReconciliationRun, actor, reader: PageReader | None = None) -> ReconciliationRun:
    step = _Step(run, actor)
    with step:
        step.run.drift_resolved += _resolve_unseen(step.run, ReconciliationTarget.CRM)
        step.run.checkpoint = {"phase": DONE}
    return step.run


# Each step does one batch of its phase; the reader, where a phase pages through a listing,
# fetches the next batch ahead.
Step = Callable[[ReconciliationRun, object, PageReader | None], ReconciliationRun | None]
STEPS: dict[str, dict[str, Step]] = {
    ReconciliationTarget.STRIPE: {
        "customers": _step_customers,
        "subscriptions": _step_subscriptions,
        "close": _step_close_stripe,
        "events": _step_events,
    },
    ReconciliationTarget.CRM: {"companies": _step_companies, "close": _step_close_crm},
}


def describe_progress(run: ReconciliationRun) -> str:
    return (
        f"run #{run.pk} {run.target}/{run.mode} phase={run.phase or '-'} scanned={run.objects_scanned} "
        f"mismatches={run.mismatches_found} opened={run.drift_opened} resolved={run.drift_resolved} "
        f"corrected={run.fields_corrected} errors={run.errors}"
    )
