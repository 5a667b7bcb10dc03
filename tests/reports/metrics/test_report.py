"""The reports against METRICS.md: randomized companies checked against a plain-Python reading of
the contract (tests/reports/metrics/truth.py), and the edges the contract names one by one."""

import random
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.services import EventInput, account_events_record, account_mark_duplicate
from accounts.shapes import PLANS, SHAPES
from opsconsole.errors import NotFound, ValidationFailed
from reports.metrics import (
    ACCOUNT_METRICS,
    METRICS,
    channel_report,
    cohort_accounts,
    cohort_rows,
)
from routing.models import Ticket
from tests.helpers.reports import build_company
from tests.reports.metrics.truth import Truth, auto_owner, midnight

pytestmark = pytest.mark.django_db

H, D = timedelta(hours=1), timedelta(days=1)
TINY = timedelta(microseconds=1)


def days_ago(n: int):
    return timezone.now().date() - timedelta(days=n)


def assert_same(got: dict, expected: dict, where: str) -> None:
    if "p50" in expected:
        assert got["n"] == expected["n"], where
        for name in ("p50", "p90"):
            if expected[name] is None:
                assert got[name] is None, where
            else:
                assert got[name] == pytest.approx(expected[name], abs=0.006), where
        return
    assert got == expected, where


def check_report(truth: Truth, *, since, until, now, shape=None, plan=None) -> None:
    report = channel_report(since=since, until=until, now=now, shape=shape, plan=plan).as_dict()
    assert report["filters"] == {"shape": shape, "plan": plan}
    cohort = truth.cohort(since=since, until=until, shape=shape, plan=plan)
    rows = {row["channel"]: row["metrics"] for row in report["channels"]}
    for code in ACCOUNT_METRICS:
        expected = truth.by_channel(code, cohort, now)
        for channel, values in expected.items():
            assert_same(rows[channel][code], values, f"{code} {channel} {since}..{until} now={now}")
        assert_same(report["total"]["metrics"][code], truth.metric(code, cohort, now), f"{code} total")
    tickets = [
        t
        for t in Ticket.objects.select_related("account__channel")
        if midnight(since) <= t.created_at < midnight(until)
        and (shape is None or (t.account and t.account.shape == shape))
        and (plan is None or (t.account and t.account.plan == plan))
    ]
    groups = {code: [] for code in rows}
    for ticket in tickets:
        groups[ticket.account.channel.code if ticket.account else "unmatched"].append(ticket)
    for channel, members in groups.items():
        assert rows[channel]["auto_owner_rate"] == auto_owner(members), f"auto_owner_rate {channel}"
    assert report["total"]["metrics"]["auto_owner_rate"] == auto_owner(tickets)
    assert set(rows["unmatched"]) == {"auto_owner_rate", "queue_age_h"}


def check_cohorts(truth: Truth, *, metric, since, until, now, period) -> None:
    rows = cohort_rows(metric=metric, since=since, until=until, now=now, period=period)
    cohort = truth.cohort(since=since, until=until)

    def start_of(moment):
        day = moment.date()
        return day - timedelta(days=day.weekday()) if period == "week" else day

    for row in rows:
        members = [
            a
            for a in cohort
            if a.channel.code == row.channel and start_of(a.signed_up_at) == row.period_start
        ]
        expected = truth.metric(metric, members, now)
        if metric == "time_to_first_value_h":
            got = {"p50": row.value, "p90": expected["p90"], "n": row.denominator, "version": 1}
        else:
            got = {**row.as_dict(), "version": 1}
            del got["channel"], got["period_start"]
        assert_same(got, expected, f"{metric} {row.channel} {row.period_start}")
    channels = {row.channel for row in rows}
    assert len(rows) == len(channels) * len({row.period_start for row in rows})  # a full grid


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_randomized_companies_match_the_contract(seed, make_user, system):
    company = build_company(seed, make_user=make_user, system=system)
    truth = Truth()
    for account in truth.accounts:  # activated_at is exact, late and out-of-order events included
        assert account.activated_at == truth.activated[account.pk], account.external_id
    rng = random.Random(seed)
    today = company.now.date()
    # The company exercises every numerator, not only empty ones.
    everyone = truth.cohort(since=today - 60 * D, until=today + D)
    for code in ACCOUNT_METRICS:
        measured = truth.metric(code, everyone, company.now + 45 * D)
        assert measured.get("numerator", measured.get("n")), code
    ranges = [
        (today - 60 * D, today + D),
        (today - 20 * D, today - 6 * D),
        (today - 7 * D, today - 6 * D),
    ]
    for now in (company.now, company.now + 3 * D, company.now + 45 * D):
        for since, until in ranges:
            check_report(truth, since=since, until=until, now=now)
        check_report(truth, since=ranges[0][0], until=ranges[0][1], now=now, shape=rng.choice(sorted(SHAPES)))
        check_report(truth, since=ranges[0][0], until=ranges[0][1], now=now, plan=rng.choice(sorted(PLANS)))
    for metric in ("signups", "activation_24h", "tickets_per_100", "time_to_first_value_h"):
        for period in ("week", "day"):
            check_cohorts(
                truth, metric=metric, since=today - 40 * D, until=today + D, now=company.now, period=period
            )


# --- The edges, one by one ---------------------------------------------------------------


def test_no_accounts_lists_every_channel_with_no_values(make_channel):
    make_channel("web")
    report = channel_report(since=days_ago(0), until=days_ago(-1))
    assert {r.code for r in report.channels} >= {"web", "unattributed", "unmatched"}
    for metrics in [*(r.metrics for r in report.channels if r.is_channel), report.total]:
        assert metrics["signups"].value == 0
        assert metrics["activation_24h"].value is None and metrics["activation_24h"].denominator == 0
        assert metrics["time_to_first_value_h"].p50 is None and metrics["time_to_first_value_h"].n == 0


def test_a_channel_without_signups_is_null_never_zero(make_account, make_channel):
    web, quiet = make_channel("web"), make_channel("quiet")
    make_account(channel=web, signed_up_at=midnight(days_ago(10)))
    report = channel_report(since=days_ago(20), until=days_ago(0))
    assert report.row("web").metrics["activation_24h"].value == 0.0
    assert report.row(quiet.code).metrics["activation_24h"].value is None
    assert report.row(quiet.code).metrics["signups"].value == 0


def test_the_cohort_is_signups_in_since_until_at_midnight_utc(make_account, make_channel):
    web = make_channel("web")
    since, until = days_ago(10), days_ago(5)
    inside = [midnight(since), midnight(until) - TINY]
    outside = [midnight(since) - TINY, midnight(until)]
    for at in inside + outside:
        make_account(channel=web, signed_up_at=at)
    assert channel_report(since=since, until=until).row("web").metrics["signups"].value == 2


def test_dates_are_utc_whatever_the_time_zone_of_the_signup(make_account, make_channel):
    web = make_channel("web")
    day = days_ago(10)
    # 23:30 on the evening before in New York is already the day in UTC.
    evening = midnight(day).astimezone(ZoneInfo("America/New_York")) + timedelta(minutes=30)
    make_account(channel=web, signed_up_at=evening)
    assert channel_report(since=day, until=day + D).row("web").metrics["signups"].value == 1
    assert channel_report(since=day - D, until=day).row("web").metrics["signups"].value == 0


def test_maturity_and_events_exactly_on_the_window_edge(make_account, make_channel, system):
    web = make_channel("web")
    day = days_ago(10)
    on_edge, past_edge = (make_account(channel=web, signed_up_at=midnight(day) + H * h) for h in (1, 2))
    for account, offset in ((on_edge, 72 * H), (past_edge, 72 * H + TINY)):
        account_events_record(
            account=account,
            events=[EventInput(f"f{account.pk}", "import.failed", account.signed_up_at + offset)],
            actor=system,
        )
    now = on_edge.signed_up_at + 72 * H  # on_edge is mature exactly now; past_edge one hour later
    value = channel_report(since=day, until=day + D, now=now).row("web").metrics["provisioning_failure_rate"]
    assert (value.value, value.numerator, value.denominator, value.pending, value.complete) == (
        1.0,
        1,
        1,
        1,
        False,
    )
    later = (
        channel_report(since=day, until=day + D, now=now + H).row("web").metrics["provisioning_failure_rate"]
    )
    assert (later.value, later.numerator, later.denominator, later.complete) == (0.5, 1, 2, True)


def test_incomplete_windows_are_not_measurable_yet(make_account, make_channel):
    web = make_channel("web")
    account = make_account(channel=web)
    value = channel_report(since=account.signed_up_at.date(), until=account.signed_up_at.date() + D).row(
        "web"
    )
    retention = value.metrics["retention_30d"]
    assert (retention.value, retention.denominator, retention.pending, retention.complete) == (
        None,
        0,
        1,
        False,
    )


def test_events_before_signup_count_for_the_window(make_account, make_channel, system):
    web = make_channel("web")
    account = make_account(channel=web, signed_up_at=midnight(days_ago(10)))
    early = EventInput("early", "workspace.failed", account.signed_up_at - 2 * H)
    account_events_record(account=account, events=[early], actor=system)
    metrics = channel_report(since=days_ago(10), until=days_ago(9)).row("web").metrics
    assert metrics["provisioning_failure_rate"].numerator == 1


def test_duplicates_are_left_out(make_account, make_channel, make_user):
    web = make_channel("web")
    day = days_ago(3)
    keep, duplicate = (make_account(channel=web, signed_up_at=midnight(day) + H) for _ in range(2))
    account_mark_duplicate(account=duplicate, canonical=keep, actor=make_user("support"))
    assert channel_report(since=day, until=day + D).row("web").metrics["signups"].value == 1


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"since": 5, "until": 5}, "invalid_range"),
        ({"since": 5, "until": 6}, "invalid_range"),
        ({"since": 400, "until": 33}, "range_too_long"),
        ({"shape": "galactic"}, "unknown_shape"),
        ({"plan": "platinum"}, "unknown_plan"),
        ({"metrics": ["nps"]}, "unknown_metric"),
    ],
)
def test_bad_queries_are_refused(kwargs, code):
    since, until = days_ago(kwargs.pop("since", 10)), days_ago(kwargs.pop("until", 0))
    with pytest.raises(ValidationFailed) as info:
        channel_report(since=since, until=until, **kwargs)
    assert info.value.code == code


def test_a_range_of_exactly_366_days_is_accepted():
    channel_report(since=days_ago(366), until=days_ago(0))


def test_queue_age_is_not_a_cohort_and_periods_are_checked():
    with pytest.raises(ValidationFailed) as info:
        cohort_rows(metric="queue_age_h", since=days_ago(10), until=days_ago(0))
    assert info.value.code == "not_a_cohort_metric"
    with pytest.raises(ValidationFailed) as info:
        cohort_rows(metric="signups", since=days_ago(10), until=days_ago(0), period="month")
    assert info.value.code == "unknown_period"


def test_a_cohort_cell_lists_its_accounts_with_what_each_counts(
    make_account, make_channel, make_user, system
):
    web = make_channel("web")
    day = days_ago(40)
    counted, not_counted = (make_account(channel=web, signed_up_at=midnight(day) + H * h) for h in (1, 2))
    make_account(channel=web, signed_up_at=midnight(day) + 8 * D)  # another week
    failed = EventInput("f", "integration.failed", counted.signed_up_at + H)
    account_events_record(account=counted, events=[failed], actor=system)
    accounts = cohort_accounts(
        metric="provisioning_failure_rate",
        channel="web",
        period_start=day,
        period="day",
        user=make_user("ops_lead"),
    )
    assert [(a.external_id, a.mature, a.contribution) for a in accounts] == [
        (counted.external_id, True, 1),
        (not_counted.external_id, True, 0),
    ]
    assert (
        cohort_accounts(
            metric="signups", channel="web", period_start=day, period="day", user=make_user()
        ).count()
        == 0
    )
    with pytest.raises(NotFound):
        cohort_accounts(metric="signups", channel="nowhere", period_start=day)


def test_every_metric_of_the_contract_is_defined_once_with_its_text_window_and_version():
    assert list(METRICS) == [
        "signups",
        "activation_24h",
        "activation",
        "provisioning_failure_rate",
        "tickets_per_100",
        "escalations_per_100",
        "retention_30d",
        "manual_minutes_per_account",
        "time_to_first_value_h",
        "auto_owner_rate",
        "queue_age_h",
    ]
    windows = {code: m.definition.window for code, m in METRICS.items()}
    assert windows == {
        "signups": "0",
        "activation_24h": "24h",
        "activation": "shape",
        "provisioning_failure_rate": "72h",
        "tickets_per_100": "7d",
        "escalations_per_100": "30d",
        "retention_30d": "30d",
        "manual_minutes_per_account": "30d",
        "time_to_first_value_h": "none",
        "auto_owner_rate": "none",
        "queue_age_h": "now",
    }
    assert all(m.text and m.version == 1 for m in METRICS.values())
