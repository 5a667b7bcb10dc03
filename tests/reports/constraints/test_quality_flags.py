"""The data-quality panel's event checks on randomized data, against the definitions computed in
Python from the raw rows (times and accounts, never the stored flags):

- ``events_before_signup``: product events of cohort accounts (signed up in the range, not
  marked duplicate) that occurred before the account's signup, per day of the signup;
- ``late_events``: product events that occurred in the range and were recorded more than
  ``REPORTS_LATE_EVENT_HOURS`` after, per day of occurrence.

Events go in through the real intake (``account_events_record``), recorded at varied times
(the intake's clock is moved), including events exactly at the lateness threshold; accounts
through ``account_create``, some backfilled (their ``account.created`` is recorded days after it
occurred, and is not the product's lateness).
"""

import importlib
import io
import random
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, timedelta
from unittest import mock

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.utils import timezone

from accounts.choices import EventSource
from accounts.eventflags import EventFlagBasis, late_flags_current
from accounts.models import AccountEvent
from accounts.services import EventInput, account_events_record, account_mark_duplicate
from accounts.services.events import event_flags_rebuild
from reports.metrics.sql import day_start
from reports.quality.selectors import check_rows, quality_by_day, quality_checks

pytestmark = pytest.mark.django_db
H = timedelta(hours=1)
CHECKED = ("events_before_signup", "late_events")


@contextmanager
def intake_clock(at):
    """The intake records at ``at`` (its recorded_at is ``timezone.now()``)."""
    with mock.patch.object(timezone, "now", return_value=at):
        yield


def build(rng: random.Random, *, make_channel, make_account, system, now):
    channels = [
        make_channel(f"ch-{n}", kind=kind) for n, kind in enumerate(("partner", "organic", "paid_search"))
    ]
    accounts = []
    for n in range(14):
        # Signups from 40 days ago (before the 30-day range) to now; backfilled through
        # account_create's signed_up_at, recorded now.
        signed_up_at = now - timedelta(hours=rng.uniform(0, 40 * 24))
        accounts.append(
            make_account(external_id=f"q{n}", channel=rng.choice(channels), signed_up_at=signed_up_at)
        )
    for duplicate in rng.sample(accounts[1:], 3):
        account_mark_duplicate(account=duplicate, canonical=accounts[0], actor=system)
    late_after = 24 * H
    serial = 0
    for account in accounts:
        for _ in range(rng.randint(1, 5)):
            # One intake batch, recorded at a time between the signup and now.
            recorded_at = account.signed_up_at + (now - account.signed_up_at) * rng.random()
            events = []
            for _ in range(rng.randint(1, 4)):
                serial += 1
                kind = rng.random()
                if kind < 0.15:  # exactly at the threshold: not late; a microsecond more: late
                    occurred_at = recorded_at - late_after - timedelta(microseconds=rng.choice((0, 1)))
                elif kind < 0.35:  # before the signup
                    occurred_at = account.signed_up_at - timedelta(hours=rng.uniform(0.001, 72))
                else:
                    occurred_at = recorded_at - timedelta(hours=rng.uniform(0, 72))
                source = EventSource.OPS if rng.random() < 0.15 else EventSource.PRODUCT
                events.append(
                    EventInput(
                        event_id=f"e{serial}", type="user.login", occurred_at=occurred_at, source=source
                    )
                )
            with intake_clock(recorded_at):
                account_events_record(account=account, events=events, actor=system)
    return accounts


def expected(window, *, late_hours: float, channel: str | None = None) -> dict[str, Counter]:
    """Each check's count per day, from the raw rows."""
    start, end = day_start(window["since"]), day_start(window["until"])
    found = {code: Counter() for code in CHECKED}
    rows = AccountEvent.objects.select_related("account__channel", "channel")
    for e in rows:
        if e.source != EventSource.PRODUCT:
            continue
        a = e.account
        if (
            start <= a.signed_up_at < end
            and a.duplicate_of_id is None
            and e.occurred_at < a.signed_up_at
            and channel in (None, a.channel.code)
        ):
            found["events_before_signup"][a.signed_up_at.astimezone(UTC).date()] += 1
        if (
            start <= e.occurred_at < end
            and e.recorded_at - e.occurred_at > timedelta(hours=late_hours)
            and channel in (None, e.channel.code)
        ):
            found["late_events"][e.occurred_at.astimezone(UTC).date()] += 1
    return found


def assert_panel_matches(window, *, late_hours: float, channel: str | None = None) -> dict[str, Counter]:
    want = expected(window, late_hours=late_hours, channel=channel)
    per_day = quality_by_day(**window, channel=channel)
    counts = {c.code: c.count for c in quality_checks(**window, channel=channel)}
    for code in CHECKED:
        assert per_day.get(code, {}) == dict(want[code]), code
        assert counts[code] == sum(want[code].values()), code
        for day, n in want[code].items():
            assert check_rows(code, **window, channel=channel, day=day).count() == n, (code, day)
    return want


@pytest.fixture
def now():
    return timezone.now()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_event_checks_match_the_definitions_on_random_data(
    seed, make_channel, make_account, system, window, now
):
    # The flags' basis is today's threshold (a flushed database has lost the migration's row).
    event_flags_rebuild(actor=system)
    build(random.Random(seed), make_channel=make_channel, make_account=make_account, system=system, now=now)
    assert late_flags_current()  # the panel reads the flags the intake decided

    want = assert_panel_matches(window, late_hours=24)
    for channel in ("ch-0", "ch-1", "ch-2"):
        assert_panel_matches(window, late_hours=24, channel=channel)

    # The data exercises both checks, on more than one day each.
    assert len(want["events_before_signup"]) > 1 and len(want["late_events"]) > 1
    # The intake flagged exactly the events the definitions name (the panel reads only these).
    for e in AccountEvent.objects.select_related("account"):
        product = e.source == EventSource.PRODUCT
        assert e.before_signup == (product and e.occurred_at < e.account.signed_up_at), e.event_id
        assert e.late == (product and e.recorded_at - e.occurred_at > 24 * H), e.event_id
    # Events exactly at the threshold are on both sides of it (not late, a microsecond late).
    edge = (24 * H, 24 * H + timedelta(microseconds=1))
    at = {
        e.late
        for e in AccountEvent.objects.filter(source=EventSource.PRODUCT)
        if e.recorded_at - e.occurred_at in edge
    }
    assert at == {True, False}


def test_a_changed_threshold_stays_exact_and_the_rebuild_flags_it_again(
    settings, make_channel, make_account, system, window, now
):
    event_flags_rebuild(actor=system)
    build(random.Random(7), make_channel=make_channel, make_account=make_account, system=system, now=now)
    at_24 = expected(window, late_hours=24)["late_events"]

    settings.REPORTS_LATE_EVENT_HOURS = 6
    assert not late_flags_current()  # decided with 24 h: the panel reads the definition
    at_6 = assert_panel_matches(window, late_hours=6)["late_events"]
    assert sum(at_6.values()) > sum(at_24.values())  # the stored flags alone would be wrong

    call_command("rebuild_event_flags", stdout=io.StringIO())
    assert late_flags_current()
    assert AccountEvent.objects.filter(late=True).count() == sum(
        1
        for e in AccountEvent.objects.all()
        if e.source == EventSource.PRODUCT and e.recorded_at - e.occurred_at > 6 * H
    )
    assert_panel_matches(window, late_hours=6)

    settings.REPORTS_LATE_EVENT_HOURS = 24
    event_flags_rebuild(actor=system)
    assert_panel_matches(window, late_hours=24)


def test_the_migration_flags_the_events_recorded_before_the_intake_did(
    make_channel, make_account, system, now
):
    build(random.Random(11), make_channel=make_channel, make_account=make_account, system=system, now=now)
    # As the rows stood before the migration: no flags, no basis.
    AccountEvent.objects.update(late=False, before_signup=False)
    EventFlagBasis.objects.all().delete()

    migration = importlib.import_module("accounts.migrations.0014_event_quality_flags_data")
    migration.flag_recorded_events(django_apps, None)

    assert late_flags_current()
    flags = Counter()
    for e in AccountEvent.objects.select_related("account"):
        product = e.source == EventSource.PRODUCT
        assert e.before_signup == (product and e.occurred_at < e.account.signed_up_at), e.event_id
        assert e.late == (product and e.recorded_at - e.occurred_at > 24 * H), e.event_id
        flags[e.before_signup, e.late] += 1
    assert flags[True, True] + flags[True, False] and flags[False, True] and flags[False, False]
