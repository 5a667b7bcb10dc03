"""The billing Celery tasks: idempotent, named, and resumable; the beat schedule runs them."""

import time

import pytest
from django.conf import settings
from django.test import TestCase

from accounts.billing import tasks
from accounts.billing.stripe_events import SYSTEM_STRIPE, stripe_event_record
from accounts.billing.stripe_gateway import ACCOUNT_METADATA_KEY
from accounts.choices import BillingStatus, LifecycleStage, ReconciliationStatus, StripeEventStatus
from accounts.models import AccountEvent, ReconciliationRun, StripeEvent
from opsconsole.history import system_user
from reports.models import AccountFacts
from tests.helpers.billing import STATIC_ADAPTER
from tests.helpers.stripe_objects import make_event, subscription_object


def stored(event: dict, *, dispatch: bool = False):
    """The event stored as a webhook stores it; queued for processing only with ``dispatch``."""
    return stripe_event_record(
        event=event, via="webhook", dispatch=dispatch, actor=system_user(SYSTEM_STRIPE)
    )


@pytest.mark.django_db
def test_processing_task_twice_has_one_effect(linked_account):
    row, _ = stored(make_event("customer.subscription.created", subscription_object()))
    assert tasks.process_stripe_event.apply(args=(row.pk,)).get() is True
    assert tasks.process_stripe_event.apply(args=(row.pk,)).get() is False
    assert AccountEvent.objects.filter(account=linked_account, type="billing.synced_from_stripe").count() == 1


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_stored_event_is_queued_by_name_and_a_worker_applies_it(linked_account, celery_worker_on_redis):
    row, created = stored(make_event("customer.subscription.created", subscription_object()), dispatch=True)
    deadline = time.monotonic() + 30
    while row.status == StripeEventStatus.PENDING and time.monotonic() < deadline:
        time.sleep(0.1)
        row.refresh_from_db()

    assert created and row.status == StripeEventStatus.PROCESSED
    linked_account.refresh_from_db()
    assert linked_account.billing_status == BillingStatus.ACTIVE


@pytest.mark.django_db
def test_subscription_deleted_cancels_billing_and_churns_the_account(linked_account):
    now = int(time.time())
    for event in (
        make_event("customer.subscription.created", subscription_object(), created=now - 10),
        make_event("customer.subscription.deleted", subscription_object(status="canceled"), created=now),
    ):
        row, _ = stored(event)
        tasks.process_stripe_event.apply(args=(row.pk,))

    linked_account.refresh_from_db()
    assert linked_account.billing_status == BillingStatus.CANCELED and linked_account.mrr_cents == 0
    assert linked_account.lifecycle_stage == LifecycleStage.CHURNED
    assert AccountEvent.objects.filter(account=linked_account, type="subscription.cancelled").count() == 1


@pytest.mark.django_db
def test_sweep_requeues_events_left_pending(linked_account):
    row, _ = stored(make_event("customer.subscription.created", subscription_object()))
    assert tasks.requeue_pending_stripe_events.apply(kwargs={"older_than_minutes": -1}).get() == 1
    row.refresh_from_db()
    assert row.status == StripeEventStatus.PROCESSED


@pytest.mark.django_db
def test_unknown_event_type_is_stored_and_ignored(linked_account):
    with TestCase.captureOnCommitCallbacks(execute=True):
        row, created = stored(make_event("payout.paid", {"id": "po_1"}), dispatch=True)
    row.refresh_from_db()
    assert created and row.status == StripeEventStatus.IGNORED


@pytest.mark.django_db
def test_refunds_and_disputes_are_recorded_against_their_account(linked_account, make_account):
    """They change no account field, but belong to an account: by the charge's customer, or
    (a dispute names no customer) by the account its metadata names; else they are ignored."""
    named = make_account()
    refund = make_event("charge.refunded", {"id": "ch_1", "customer": "cus_1", "amount_refunded": 900})
    metadata = {ACCOUNT_METADATA_KEY: named.external_id}
    dispute = make_event("charge.dispute.created", {"id": "dp_1", "metadata": metadata})
    stray = make_event("charge.dispute.created", {"id": "dp_2", "charge": "ch_9"})
    rows = []
    for event in (refund, dispute, stray):
        row, _ = stored(event)
        assert tasks.process_stripe_event.apply(args=(row.pk,)).get() is False  # no state changed
        row.refresh_from_db()
        rows.append(row)

    assert [(r.status, r.account_id) for r in rows] == [
        (StripeEventStatus.PROCESSED, linked_account.pk),
        (StripeEventStatus.PROCESSED, named.pk),
        (StripeEventStatus.IGNORED, None),
    ]
    # The journey's change step of each account is the refund's or dispute's time.
    assert linked_account.facts.changed_at == rows[0].created
    assert AccountFacts.objects.get(pk=named.pk).changed_at == rows[1].created


@pytest.mark.django_db
def test_reconcile_task_runs_and_a_second_trigger_starts_a_new_run(settings, make_account):
    settings.CRM_ADAPTER = STATIC_ADAPTER
    first = tasks.reconcile.apply(args=("crm",)).get()
    second = tasks.reconcile.apply(args=("crm",)).get()
    assert first != second
    assert set(ReconciliationRun.objects.values_list("status", flat=True)) == {ReconciliationStatus.COMPLETED}


@pytest.mark.django_db
def test_scheduled_reconciliation_is_skipped_without_credentials(settings):
    settings.STRIPE_API_KEY = ""
    settings.HUBSPOT_ACCESS_TOKEN = ""
    assert tasks.reconcile.apply(args=("stripe",)).get() is None
    assert tasks.reconcile.apply(args=("crm",)).get() is None
    assert not ReconciliationRun.objects.exists()


def test_tasks_are_named_late_acked_and_scheduled():
    assert tasks.reconcile.name == "accounts.reconcile"
    assert tasks.process_stripe_event.name == "accounts.process_stripe_event"
    assert tasks.requeue_pending_stripe_events.name == "accounts.requeue_pending_stripe_events"
    assert tasks.reconcile.acks_late and tasks.reconcile.reject_on_worker_lost
    assert tasks.process_stripe_event.acks_late and tasks.process_stripe_event.reject_on_worker_lost
    assert tasks.reconcile.time_limit and tasks.process_stripe_event.time_limit
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"accounts.reconcile", "accounts.requeue_pending_stripe_events"} <= scheduled


@pytest.mark.django_db
def test_stripe_event_rows_keep_history(linked_account):
    row, _ = stored(make_event("customer.subscription.created", subscription_object()))
    tasks.process_stripe_event.apply(args=(row.pk,))
    assert {h.history_user.username for h in StripeEvent.objects.get(pk=row.pk).history.all()} == {
        SYSTEM_STRIPE
    }
