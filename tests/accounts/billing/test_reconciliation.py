"""Reconciliation against a real localstripe: mismatch classes, idempotence, resolution,
outages, killed runs, incremental runs and the command."""

import dataclasses
import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from celery.exceptions import SoftTimeLimitExceeded
from django.core.management import call_command
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from accounts.billing import stripe_gateway, tasks
from accounts.billing.reconciliation import pages, reconciliation_execute, reconciliation_start, runs
from accounts.choices import BillingStatus, DriftKind, DriftStatus, ReconciliationStatus
from accounts.models import AccountEvent, BillingDrift, OpsException, ReconciliationMark, ReconciliationRun
from opsconsole.history import SYSTEM_RECONCILER, system_user
from tests.helpers.billing import open_drift, reconcile


@pytest.mark.django_db
def test_full_run_classifies_each_mismatch_once_with_evidence_and_fix(drifted):
    run = reconcile()

    assert run.status == ReconciliationStatus.COMPLETED
    kinds = {(d.kind, d.subject) for d in open_drift()}
    assert (DriftKind.PLAN, drifted["plan"].external_id) in kinds
    assert (DriftKind.BILLING_STATUS, drifted["status"].external_id) in kinds
    assert (DriftKind.TRIAL_END, drifted["trial"].external_id) in kinds
    assert (DriftKind.NO_SUBSCRIPTION, drifted["nosub"].external_id) in kinds
    assert (DriftKind.DUPLICATE_CUSTOMER, drifted["dup"].external_id) in kinds
    assert len(open_drift(DriftKind.UNMATCHED)) == 2  # the stray customer and its subscription
    assert not open_drift().filter(subject=drifted["behind"].external_id).exists()

    plan = open_drift(DriftKind.PLAN).get()
    assert plan.fix_action == "reassign_plan"
    assert plan.ours["plan"] == "team" and plan.theirs["plan"] == "business"
    exception = plan.exception
    assert exception.reason_code.code == "billing_plan_mismatch" and exception.is_open
    assert exception.evidence["fix_action"] == "reassign_plan"
    assert exception.evidence["stripe"]["plan"] == "business"
    assert exception.evidence["opsconsole"]["plan"] == "team"
    assert run.drift_opened == 7 and run.objects_scanned > 0
    assert not ReconciliationMark.objects.filter(run=run).exists()


@pytest.mark.django_db
def test_stripe_owned_field_is_written_by_the_reconciler_with_history_and_timeline(drifted):
    reconcile()

    behind = drifted["behind"]
    behind.refresh_from_db()
    assert behind.billing_status == BillingStatus.ACTIVE
    assert behind.stripe_subscription_id == behind.subscription_id
    assert behind.history.first().history_user.username == SYSTEM_RECONCILER
    event = AccountEvent.objects.get(account=behind, type="billing.synced_from_stripe")
    assert event.payload["changes"]["billing_status"] == {"from": "none", "to": "active"}
    # The product owns the plan: a different plan is reported, never written.
    plan = drifted["plan"]
    plan.refresh_from_db()
    assert plan.plan == "team"


@pytest.mark.django_db
def test_running_again_adds_nothing_and_a_fix_in_stripe_resolves_with_a_note(drifted, localstripe):
    first = reconcile()
    exceptions_before = OpsException.objects.count()
    drift_before = BillingDrift.objects.count()

    second = reconcile()
    assert second.drift_opened == 0
    assert OpsException.objects.count() == exceptions_before
    assert BillingDrift.objects.count() == drift_before

    localstripe.set_plan(drifted["plan"].subscription_id, "team")
    third = reconcile()

    plan = BillingDrift.objects.get(kind=DriftKind.PLAN)
    assert plan.status == DriftStatus.RESOLVED
    assert f"run #{third.pk}" in plan.resolution_note
    plan.exception.refresh_from_db()
    assert not plan.exception.is_open and plan.exception.resolution_note
    assert third.drift_resolved == 1
    assert first.pk != second.pk != third.pk


@pytest.mark.django_db
def test_unmatched_record_resolves_when_its_account_appears(localstripe, make_account):
    customer = localstripe.create_customer(email="late@example.com", account_external_id="acct_late")
    reconcile()
    assert open_drift(DriftKind.UNMATCHED).get().subject == customer["id"]

    account = make_account(external_id="acct_late")
    reconcile()

    assert not open_drift().exists()
    account.refresh_from_db()
    assert account.stripe_customer_id == customer["id"]


class WorkerKilled(BaseException):
    """Stands in for SIGKILL: no except clause of the run sees it, nothing is cleaned up."""


def interrupt_subscriptions_page(monkeypatch, number: int, interruption: BaseException) -> None:
    """Pages of two, one per checkpoint; the ``number``-th subscriptions page raises instead."""
    monkeypatch.setattr(stripe_gateway, "PAGE_SIZE", 2)
    monkeypatch.setattr(pages, "PAGES_PER_CHECKPOINT", 1)
    real_step = runs.STEPS["stripe"]["subscriptions"]
    pages_seen = {"n": 0}

    def interrupted_step(run, actor, reader=None):
        pages_seen["n"] += 1
        if pages_seen["n"] == number:
            raise interruption
        return real_step(run, actor, reader)

    monkeypatch.setitem(runs.STEPS["stripe"], "subscriptions", interrupted_step)


@pytest.mark.django_db
def test_run_killed_midway_resumes_from_checkpoint_without_duplicates(drifted, monkeypatch):
    interrupt_subscriptions_page(monkeypatch, 3, WorkerKilled())
    run, _ = reconciliation_start(target="stripe", mode="full", actor=system_user(SYSTEM_RECONCILER))
    with pytest.raises(WorkerKilled):
        reconciliation_execute(run)
    run.refresh_from_db()
    assert run.status == ReconciliationStatus.RUNNING
    assert run.phase == "subscriptions" and run.checkpoint["starting_after"]
    scanned_at_kill = run.objects_scanned

    again, created = reconciliation_start(target="stripe", actor=system_user(SYSTEM_RECONCILER))
    assert not created and again.pk == run.pk and again.attempts == 2
    done = reconciliation_execute(again)

    assert done.status == ReconciliationStatus.COMPLETED
    assert done.objects_scanned > scanned_at_kill
    # Exactly what an uninterrupted run opens (7 drift rows, see the test above): nothing
    # opened twice, nothing resolved and reopened across the kill.
    assert BillingDrift.objects.count() == 7 and open_drift().count() == 7
    assert done.drift_opened == 7
    assert OpsException.objects.filter(reason_code__code=DriftKind.PLAN).count() == 1
    # The same totals as an uninterrupted run over the same data.
    fresh = reconcile()
    assert fresh.objects_scanned == done.objects_scanned


def test_a_run_out_of_task_time_continues_in_a_new_task_instead_of_failing(drifted, monkeypatch):
    interrupt_subscriptions_page(monkeypatch, 2, SoftTimeLimitExceeded())
    # Eager here, so the continuation the task queues runs before apply() returns.
    tasks.reconcile.apply(args=("stripe", "full")).get()

    run = ReconciliationRun.objects.get()
    assert (run.status, run.attempts, run.last_error) == (ReconciliationStatus.COMPLETED, 2, "")


class FaultyProxy:
    """A proxy in front of localstripe that fails chosen requests: 500, 429, or a hang."""

    def __init__(self, upstream: str, faults: dict[int, str], *, delay: float = 0.0):
        self.upstream, self.faults, self.count, self.delay = upstream, faults, 0, delay
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _forward(self):
                proxy.count += 1
                fault = proxy.faults.get(proxy.count)
                if fault == "hang":
                    time.sleep(2.5)
                    return self._reply(504, b"{}")
                if fault in ("500", "429"):
                    body = b'{"error": {"message": "injected", "type": "api_error"}}'
                    return self._reply(int(fault), body)
                time.sleep(proxy.delay)
                length = int(self.headers.get("Content-Length") or 0)
                upstream = requests.request(
                    self.command,
                    proxy.upstream + self.path,
                    data=self.rfile.read(length) if length else None,
                    headers={
                        k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")
                    },
                    timeout=10,
                )
                self._reply(upstream.status_code, upstream.content)

            def _reply(self, status, body):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_DELETE = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fast_retries(monkeypatch):
    monkeypatch.setattr(stripe_gateway, "BACKOFF_BASE_SECONDS", 0.01)
    monkeypatch.setattr(stripe_gateway, "REQUEST_TIMEOUT_SECONDS", 1.0)


@pytest.mark.django_db
def test_stripe_outage_mid_run_is_retried_and_the_run_completes(drifted, settings, monkeypatch, fast_retries):
    monkeypatch.setattr(stripe_gateway, "PAGE_SIZE", 2)
    clean = reconcile()
    exceptions = OpsException.objects.count()
    # Requests 3, 4 and 5 of the run (mid-way through the pages) fail three different ways.
    proxy = FaultyProxy(settings.STRIPE_API_BASE, {3: "500", 4: "429", 5: "hang"})
    settings.STRIPE_API_BASE = proxy.url
    try:
        run = reconcile()
    finally:
        proxy.close()

    assert run.status == ReconciliationStatus.COMPLETED
    assert run.errors == 3
    assert run.objects_scanned == clean.objects_scanned
    assert run.drift_opened == 0
    assert OpsException.objects.count() == exceptions


@pytest.mark.django_db
def test_stripe_down_fails_the_run_and_alerts(make_account, settings, monkeypatch, fast_retries, caplog):
    monkeypatch.setattr(stripe_gateway, "MAX_ATTEMPTS", 2)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        settings.STRIPE_API_BASE = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with TestCase.captureOnCommitCallbacks(execute=True):
        run = reconcile()

    assert run.status == ReconciliationStatus.FAILED
    assert "StripeUnavailable" in run.last_error
    assert "ALERT reconciliation_failed" in caplog.text


@pytest.mark.django_db
def test_incremental_run_applies_events_since_the_last_cursor(billed, localstripe):
    account = billed(stripe_plan="team")
    full = reconcile()
    account.refresh_from_db()
    assert full.events_cursor is not None and account.billing_status == BillingStatus.ACTIVE

    # localstripe emits an event when a subscription is cancelled (not when its plan changes).
    localstripe.delete(f"/v1/subscriptions/{account.subscription_id}")
    run = reconcile(mode=None)

    assert run.mode == "incremental"
    assert run.status == ReconciliationStatus.COMPLETED
    account.refresh_from_db()
    assert account.billing_status == BillingStatus.CANCELED
    assert AccountEvent.objects.filter(account=account, type="subscription.cancelled").exists()
    assert run.events_cursor >= full.events_cursor


@pytest.mark.django_db
def test_reconcile_command_prints_progress(drifted, monkeypatch):
    monkeypatch.setattr(stripe_gateway, "PAGE_SIZE", 3)
    monkeypatch.setattr(pages, "PAGES_PER_CHECKPOINT", 1)
    out = io.StringIO()
    call_command("reconcile", "stripe", "--mode", "full", stdout=out)
    text = out.getvalue()
    assert "Started full scan reconciliation of stripe" in text
    assert "phase=subscriptions" in text
    assert "Completed run #" in text


@pytest.mark.django_db
def test_queries_per_page_do_not_grow_with_the_page(billed, monkeypatch):
    for _ in range(8):
        billed()
    reconcile()  # settle everything first, so the measured runs compare clean pages

    monkeypatch.setattr(pages, "PAGES_PER_CHECKPOINT", 1)

    def queries_for(page_size):
        monkeypatch.setattr(stripe_gateway, "PAGE_SIZE", page_size)
        run, _ = reconciliation_start(target="stripe", mode="full", actor=system_user(SYSTEM_RECONCILER))
        step = runs.STEPS["stripe"]
        step["customers"](run, system_user(SYSTEM_RECONCILER))
        while True:
            run.refresh_from_db()
            if run.phase != "customers":
                break
            step["customers"](run, system_user(SYSTEM_RECONCILER))
        run.refresh_from_db()
        with CaptureQueriesContext(connection) as ctx:
            step["subscriptions"](run, system_user(SYSTEM_RECONCILER))
        reconciliation_execute(run)
        return len(ctx.captured_queries)

    assert queries_for(2) == queries_for(8)


def queries_by_phase() -> dict[str, int]:
    """Run a full reconciliation a step at a time, counting each phase's queries."""
    actor = system_user(SYSTEM_RECONCILER)
    run, _ = reconciliation_start(target="stripe", mode="full", actor=actor)
    counts: dict[str, int] = {}
    while run.phase != pages.DONE:
        phase = run.phase
        with CaptureQueriesContext(connection) as ctx:
            runs.STEPS["stripe"][phase](run, actor)
        counts[phase] = counts.get(phase, 0) + len(ctx.captured_queries)
        run.refresh_from_db()
    reconciliation_execute(run)
    return counts


@pytest.mark.django_db
def test_first_sync_writes_a_page_of_accounts_in_the_same_queries_as_two(billed, monkeypatch):
    """Linking customers and writing Stripe-owned fields is batched per page: the queries of
    a page do not grow with the accounts it changes, and each account still gets its own
    history row (by system:reconciler) and timeline events."""
    monkeypatch.setattr(stripe_gateway, "PAGE_SIZE", 100)
    few = [billed(link=False) for _ in range(2)]
    with_few = queries_by_phase()
    many = [billed(link=False) for _ in range(7)]
    with_many = queries_by_phase()

    assert with_many["customers"] == with_few["customers"]
    assert with_many["subscriptions"] == with_few["subscriptions"]
    for account in few + many:
        account.refresh_from_db()
        assert account.stripe_customer_id == account.customer_id
        assert account.stripe_subscription_id == account.subscription_id
        assert account.billing_status == BillingStatus.ACTIVE
        latest = account.history.first()
        assert latest.history_user.username == SYSTEM_RECONCILER
        assert (latest.stripe_subscription_id, latest.billing_status) == (
            account.subscription_id,
            BillingStatus.ACTIVE,
        )
        assert account.history.filter(stripe_customer_id=account.customer_id).count() == 2
        types = set(AccountEvent.objects.filter(account=account).values_list("type", flat=True))
        assert {"billing.customer_linked", "billing.synced_from_stripe"} <= types


@pytest.mark.django_db
def test_state_a_webhook_applied_after_a_batch_was_fetched_is_not_overwritten(billed, monkeypatch):
    """Batches are fetched ahead of their step, so a batch is judged by when it was fetched:
    a webhook that landed between the fetch and the settling holds newer state and wins."""
    account = billed()
    reconcile()
    account.refresh_from_db()
    assert account.billing_status == BillingStatus.ACTIVE
    real_fetch = pages.batch_fetch

    def fetched_a_while_ago_then_a_webhook_lands(fetch, *, starting_after):
        batch = real_fetch(fetch, starting_after=starting_after)
        batch = dataclasses.replace(batch, fetched_at=batch.fetched_at - timedelta(seconds=30))
        if fetch is stripe_gateway.subscriptions_page:
            type(account).objects.filter(pk=account.pk).update(
                billing_status=BillingStatus.PAST_DUE,
                stripe_state_at=batch.fetched_at + timedelta(seconds=10),
            )
        return batch

    monkeypatch.setattr(pages, "batch_fetch", fetched_a_while_ago_then_a_webhook_lands)
    run = reconcile()

    account.refresh_from_db()
    assert run.status == ReconciliationStatus.COMPLETED
    assert account.billing_status == BillingStatus.PAST_DUE
    assert run.fields_corrected == 0


@pytest.mark.django_db(transaction=True)
def test_worker_process_killed_mid_run_then_run_again(billed, settings):
    """A real ``manage.py reconcile`` process, SIGKILLed after its first committed page."""
    for _ in range(120):  # two pages of customers, two of subscriptions: 240 objects
        billed(card=False, trial_end=2_000_000_000)
    proxy = FaultyProxy(settings.STRIPE_API_BASE, {}, delay=1.0)
    database = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "STRIPE_API_BASE": proxy.url,
        "STRIPE_API_KEY": settings.STRIPE_API_KEY,
        "DJANGO_SECRET_KEY": "x",
    }
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "reconcile", "stripe", "--mode", "full"],
        cwd=Path(__file__).resolve().parents[3],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            run = ReconciliationRun.objects.filter(target="stripe").first()
            if run is not None and run.objects_scanned > 0:
                break
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        proxy.close()
    run.refresh_from_db()
    assert run.status == ReconciliationStatus.RUNNING and 0 < run.objects_scanned < 240

    resumed = reconcile()

    assert resumed.pk == run.pk and resumed.attempts == 2
    assert resumed.status == ReconciliationStatus.COMPLETED
    assert resumed.objects_scanned == 240
    assert AccountEvent.objects.filter(type="billing.synced_from_stripe").count() == 120
    assert not open_drift().exists()
