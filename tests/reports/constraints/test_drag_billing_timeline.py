"""Operational drag per day with its trend, refunds and disputes by channel, and the account
timeline's gaps and first-wait marker, on constructed data."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.billing.stripe_events import stripe_event_record
from accounts.billing.stripe_gateway import ACCOUNT_METADATA_KEY
from accounts.choices import ReconciliationMode, ReconciliationStatus, ReconciliationTarget
from accounts.models import Account, ReconciliationRun
from accounts.services import EventInput, account_events_record
from opsconsole.actions.services import run_action
from opsconsole.history import acting_as
from reports.drag.selectors import drag_rows, operational_drag
from reports.funnel.selectors import journeys
from reports.refunds.selectors import billing_issues
from reports.timelines.selectors import example_timelines, gate_timeline

pytestmark = pytest.mark.django_db
H = timedelta(hours=1)


def _stripe(event_id, type_, **obj):
    return {
        "id": event_id,
        "type": type_,
        "created": int(timezone.now().timestamp()),
        "data": {"object": {"id": f"ch_{event_id}", **obj}},
    }


def test_drag_per_day_and_the_manual_trend(settings, make_user, make_account, hit, system, window):
    now = timezone.now()
    today, yesterday = now.date(), now.date() - timedelta(days=1)
    midnight = datetime.combine(today, time.min, tzinfo=UTC)
    make_account(signed_up_at=midnight - 12 * H)  # yesterday: one signup, no manual work
    fresh = [make_account(signed_up_at=max(midnight, now - H)) for _ in range(2)]
    support = make_user("support")
    for n, account in enumerate(fresh):
        exception = hit(account, "unclear_setup_step")  # no runbook: no evidence asked
        run_action(
            name="resolve_exception",
            target=exception,
            params={"note": "walked through"},
            idempotency_key=f"k{n}",
            actor=support,
        )
    settings.REPORTS_STUCK_AFTER_MINUTES = 0
    stripe_event_record(event=_stripe("evt_p", "invoice.paid"), via="webhook", dispatch=False, actor=system)
    with transaction.atomic(), acting_as(system):
        ReconciliationRun.objects.create(
            target=ReconciliationTarget.STRIPE,
            mode=ReconciliationMode.FULL,
            status=ReconciliationStatus.FAILED,
            started_at=now - H,
            finished_at=now,
        )

    days, slope = operational_drag(**window)

    by_day = {d.day: d for d in days}
    assert (by_day[today].counts["manual"][0], by_day[today].signups) == (2, 2)
    assert sum(d.counts["stuck_events"][0] for d in days) == 1
    assert sum(d.counts["reconciliation"][0] for d in days) == 1
    assert sum(d.counts["manual"][0] for d in days) == drag_rows("manual", **window).count() == 2
    # Yesterday: 1 signup, no manual run (0 per account); today: 2 runs / 2 signups = 1.0.
    assert by_day[yesterday].manual_per_account == 0.0
    assert by_day[today].manual_per_account == 1.0
    assert slope == 1.0 and by_day[today].trend == 1.0


def test_refunds_and_disputes_by_channel(make_channel, make_account, system, window):
    partner = make_channel("partner", kind="partner")
    by_customer = make_account(channel=partner)
    Account.objects.filter(pk=by_customer.pk).update(stripe_customer_id="cus_9")
    by_metadata = make_account(channel=partner)
    named = {ACCOUNT_METADATA_KEY: by_metadata.external_id}
    events = [
        _stripe("r1", "charge.refunded", customer="cus_9", amount_refunded=1_000),
        _stripe("r2", "charge.refunded", metadata=named, amount_refunded=2_500),
        _stripe("d1", "charge.dispute.created", customer="cus_9", amount=7_000),
        _stripe("r3", "charge.refunded", customer="cus_unknown", amount_refunded=300),
    ]
    for event in events:
        stripe_event_record(event=event, via="webhook", dispatch=False, actor=system)

    rows = {r.channel: r for r in billing_issues(**window)}

    assert (rows["partner"].refunds, rows["partner"].refunded_cents) == (2, 3_500)
    assert (rows["partner"].disputes, rows["partner"].disputed_cents) == (1, 7_000)
    assert (rows["unmatched"].refunds, rows["unmatched"].refunded_cents) == (1, 300)


def test_the_timeline_gaps_marker_and_examples(settings, make_account, hit, system, window):
    settings.REPORTS_TIMELINE_GAP_HOURS = 24
    t0 = timezone.now() - timedelta(days=3)
    account = make_account(signed_up_at=t0)
    account_events_record(
        account=account,
        events=[
            EventInput(event_id="ws", type="workspace.provisioned", occurred_at=t0 + H),
            EventInput(event_id="login", type="user.login", occurred_at=t0 + 31 * H),  # 30 h later
        ],
        actor=system,
    )
    hit(account, "unclear_setup_step")  # now: staff's first touch
    (journey,) = journeys(Account.objects.filter(pk=account.pk))

    rows = gate_timeline(account, first_staff_touch=journey.touch)

    login = next(r for r in rows if r.title == "user.login")
    assert login.long_gap and login.gap == 30 * H and login.gap_text == "30.0 h"
    assert [r.title for r in rows if r.first_wait_on_staff] == ["Exception opened: unclear_setup_step"]
    assert not any(r.long_gap for r in rows if r.title == "workspace.provisioned")
    assert example_timelines(channel=account.channel.code, **window) == {
        "failed": None,
        "with_ticket": None,
        "activated": None,
    }
