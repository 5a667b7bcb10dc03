"""Reports read from the replica when one is configured; the snapshot writer reads the primary.

The replica here is a second ``DATABASES`` alias on its own connection to the test database.
The test's rows are written in its open transaction on the primary, which that connection
cannot see: the replica lags, as a real one can. A page reading it shows nothing of them; the
snapshot writer, reading the primary, writes what the primary holds, and the hook gates uses
(its stop rules) reads those fresh rows there too.
"""

import threading
from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, router
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from opsconsole.db_router import REPLICA_ALIAS, primary_reads
from reports import hooks
from reports.metrics import channel_report
from reports.metrics.sql import reports_db
from reports.models import AccountFacts, MetricSnapshot
from reports.services import metric_snapshots_run

pytestmark = pytest.mark.django_db

D = timedelta(days=1)


@pytest.fixture
def replica():
    """A ``replica`` alias beside ``default``, for this test only (its own connection)."""
    connections.settings[REPLICA_ALIAS] = dict(connections[DEFAULT_DB_ALIAS].settings_dict)
    replica = connections[REPLICA_ALIAS]
    # Connected here: the test case, set up before the alias existed, would refuse to open it.
    replica.connect()
    try:
        yield replica
    finally:
        connections[REPLICA_ALIAS].close()
        del connections[REPLICA_ALIAS]
        del connections.settings[REPLICA_ALIAS]


@pytest.fixture
def day(make_account, make_channel):
    """Two accounts of a new channel ``web`` that signed up 40 days ago (every window passed)."""
    web = make_channel("web")
    day = timezone.now().date() - 40 * D
    start = datetime.combine(day, time(1), tzinfo=UTC)
    for hours in (0, 1):
        make_account(channel=web, signed_up_at=start + timedelta(hours=hours))
    return day


def test_without_a_replica_reports_read_the_primary():
    assert router.db_for_read(AccountFacts) == DEFAULT_DB_ALIAS
    assert reports_db() == DEFAULT_DB_ALIAS


def test_reports_read_the_replica_when_one_is_configured(replica, day):
    assert reports_db() == REPLICA_ALIAS
    with CaptureQueriesContext(replica) as on_replica:
        report = channel_report(since=day, until=day + D)
    assert on_replica.captured_queries, "the report did not read the replica"
    # The replica has not caught up with this test's rows: the page does not show them yet.
    assert "web" not in {row.code for row in report.channels}


def test_the_snapshot_writer_reads_the_primary_and_writes_what_it_holds(replica, day, system, monkeypatch):
    seen_by_hook = []
    monkeypatch.setattr(
        hooks,
        "_AFTER_SNAPSHOT",
        [lambda **kw: seen_by_hook.append(MetricSnapshot.objects.filter(channel__code="web").count())],
    )
    with CaptureQueriesContext(replica) as on_replica:
        written = metric_snapshots_run(since=day, until=day + D, actor=system)

    assert not on_replica.captured_queries, [q["sql"][:120] for q in on_replica.captured_queries]
    assert written > 0
    signups = MetricSnapshot.objects.using(DEFAULT_DB_ALIAS).get(
        metric="signups", channel__code="web", period=day
    )
    assert (signups.value, signups.numerator) == (2, 2)
    # What gates evaluates straight after the run: the rows just written, read on the primary.
    assert seen_by_hook and seen_by_hook[0] > 0
    # Outside the run, reads go back to the replica.
    assert reports_db() == REPLICA_ALIAS


def test_primary_reads_hold_for_the_caller_only(replica):
    elsewhere = []
    with primary_reads():
        assert reports_db() == DEFAULT_DB_ALIAS
        worker = threading.Thread(target=lambda: elsewhere.append(router.db_for_read(AccountFacts)))
        worker.start()
        worker.join()
    assert elsewhere == [REPLICA_ALIAS], "another thread was moved to the primary"
    assert reports_db() == REPLICA_ALIAS
