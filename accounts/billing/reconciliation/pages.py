"""A reconciliation run's unit of work: one batch of pages, fetched outside any transaction
(the next one already on its way), then settled in one transaction that locks the run,
checks its checkpoint has not moved, and advances it.
"""

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.billing.stripe_gateway import Page
from accounts.choices import ReconciliationStatus
from accounts.models import ReconciliationMark, ReconciliationRun
from opsconsole.history import acting_as

DONE = "done"
# Pages settled per transaction and checkpoint: a killed worker redoes at most this many, and
# the run's own writes (lock, marks, progress, commit) are paid once per this many pages.
PAGES_PER_CHECKPOINT = 5


class RunSuperseded(Exception):
    """Another executor moved the checkpoint while this one fetched the page."""


class PageStep:
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

    def page_done(self, *, scanned: int, phase_next: str, has_more: bool, **cursor) -> None:
        """The end of every page: count what it scanned, and move the checkpoint past it (to
        the next phase after the last page)."""
        self.run.objects_scanned += scanned
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

    def count_drift(self, *, created: bool) -> None:
        """One mismatch seen, reported as drift (opened now, or already open)."""
        self.run.mismatches_found += 1
        self.run.drift_opened += created

    def tally(self, result) -> None:
        self.run.mismatches_found += result.mismatches
        self.run.drift_opened += result.opened
        self.run.drift_resolved += result.resolved
        self.run.fields_corrected += len(result.corrected)


@dataclass(frozen=True)
class Batch(Page):
    """Up to PAGES_PER_CHECKPOINT pages of one listing, and how they were fetched."""

    # When the fetch began, to the second: the objects are at least this fresh, and a webhook
    # applied to an account after it holds newer state than the batch.
    fetched_at: datetime
    retries: int


def batch_fetch(fetch, *, starting_after: str | None) -> Batch:
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
        batch = future.result() if future is not None else batch_fetch(fetch, starting_after=starting_after)
        if batch.has_more:
            self._ahead[(fetch, batch.last_id)] = self._pool.submit(
                batch_fetch, fetch, starting_after=batch.last_id
            )
        return batch

    def close(self) -> None:
        # A run only ends with a batch in flight when it failed or was superseded; that batch
        # is not wanted, and waiting for it could mean waiting out Stripe's retries.
        self._ahead.clear()
        self._pool.shutdown(wait=False, cancel_futures=True)


def batch_read(reader: PageReader | None, fetch, *, starting_after: str | None) -> Batch:
    if reader is None:
        return batch_fetch(fetch, starting_after=starting_after)
    return reader.read(fetch, starting_after=starting_after)
