"""The data-quality panel on constructed data: each check's count, per day, its threshold."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.billing.services import drift_open
from accounts.choices import DriftKind, ReconciliationTarget
from accounts.models import UNATTRIBUTED_CHANNEL, Channel
from accounts.rejections import RejectionReason
from accounts.services import EventInput, account_events_record, account_mark_duplicate
from accounts.services.events import Rejection, rejected_events_record
from opsconsole.history import acting_as
from reports.quality.selectors import check_rows, quality_by_day, quality_checks

pytestmark = pytest.mark.django_db
H = timedelta(hours=1)


@pytest.fixture
def company(make_channel, make_account, system):
    now = timezone.now()
    partner = make_channel("partner", kind="partner")
    organic = make_channel("organic", kind="organic")
    three_days_ago = now - 3 * 24 * H
    made = {
        "unattributed": make_account(
            channel=Channel.objects.get(code=UNATTRIBUTED_CHANNEL), signed_up_at=three_days_ago
        ),
        "partner_no_source": make_account(channel=partner, signed_up_at=three_days_ago),
        "partner_sourced": make_account(channel=partner, utm_source="northwind", signed_up_at=three_days_ago),
        "organic": make_account(channel=organic, signed_up_at=three_days_ago),
        "acme": make_account(
            channel=organic, name="Acme", admin_email="a@acme.io", signed_up_at=three_days_ago
        ),
        "acme_again": make_account(
            channel=organic, name="ACME", admin_email="b@Acme.io", signed_up_at=now - H
        ),
        "other_acme": make_account(
            channel=organic, name="Acme", admin_email="c@other.io", signed_up_at=now - H
        ),
        "marked": make_account(channel=partner, utm_source="x", signed_up_at=now - H),
    }
    account_mark_duplicate(account=made["marked"], canonical=made["partner_sourced"], actor=system)
    organic_account = made["organic"]
    account_events_record(
        account=organic_account,
        events=[
            # before the signup (and, 3 days old, late as well)
            EventInput(event_id="early", type="user.login", occurred_at=three_days_ago - 2 * H),
            # late: occurred two days ago, recorded now
            EventInput(event_id="late", type="user.login", occurred_at=now - 48 * H),
            # on time
            EventInput(event_id="fresh", type="user.login", occurred_at=now - H),
        ],
        actor=system,
    )
    rejected_events_record(
        rejections=[
            Rejection(RejectionReason.UNKNOWN_ACCOUNT, {}, "lost-1", "acct_x"),
            Rejection(RejectionReason.UNKNOWN_ACCOUNT, {}, "lost-2", "acct_y"),
            Rejection(RejectionReason.INVALID, {"type": ["bad"]}, "bad-1"),
        ],
        actor=system,
    )
    with transaction.atomic(), acting_as(system):
        drift_open(
            system=ReconciliationTarget.STRIPE,
            kind=DriftKind.UNMATCHED,
            subject="cus_nobody",
            account=None,
            ours={},
            theirs={"customer": "cus_nobody"},
            summary="no account claims cus_nobody",
        )
    return made


def test_each_check_counts_its_rows(company, window):
    counts = {c.code: c.count for c in quality_checks(**window)}

    assert counts == {
        "no_channel_source": 2,  # unattributed, partner without utm_source (not the duplicate)
        "unmatched_events": 2,  # the invalid one is not about matching
        "events_before_signup": 1,
        "late_events": 2,  # "early" (3 days old) and "late" (product events only)
        "duplicate_workspaces": 2,  # "marked", and "acme_again" (same name and domain as acme)
        "unmatched_billing": 1,
    }
    assert set(check_rows("duplicate_workspaces", **window)) == {company["marked"], company["acme_again"]}


def test_a_channel_narrows_the_account_checks(company, window):
    counts = {c.code: c.count for c in quality_checks(**window, channel="partner")}

    assert counts["no_channel_source"] == 1
    assert counts["duplicate_workspaces"] == 1
    assert counts["events_before_signup"] == 0
    # No account, so no channel: every channel's panel shows them.
    assert counts["unmatched_events"] == 2 and counts["unmatched_billing"] == 1


def test_thresholds_are_settings(settings, company, window):
    settings.REPORTS_QUALITY_THRESHOLDS = {
        **settings.REPORTS_QUALITY_THRESHOLDS,
        "unmatched_events": 2,
        "no_channel_source": 1,
    }
    flags = {c.code: c.over_threshold for c in quality_checks(**window)}

    assert flags["unmatched_events"] is False  # 2 is not over 2
    assert flags["no_channel_source"] is True


def test_per_day_counts_add_up_to_the_range_and_list_their_rows(company, window):
    per_day = quality_by_day(**window)
    for check in quality_checks(**window):
        assert sum(per_day.get(check.code, {}).values()) == check.count
        # The range's list (its own count, not the days') has as many rows as the number.
        assert check_rows(check.code, **window).count() == check.count
        for day, count in per_day.get(check.code, {}).items():
            assert check_rows(check.code, **window, day=day).count() == count
