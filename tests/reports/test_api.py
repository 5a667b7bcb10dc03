"""GET /api/v1/reports/channels/ and /cohorts/: the METRICS.md shape, filters, errors and roles,
and the same numbers as the Python API the dashboard reads."""

from datetime import date, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import EventInput, account_events_record
from reports.metrics import METRICS, channel_report, cohort_rows
from tests.helpers.clients import https_client

pytestmark = pytest.mark.django_db

CHANNELS = "/api/v1/reports/channels/"
COHORTS = "/api/v1/reports/cohorts/"
D = timedelta(days=1)


def _range(days: int = 30) -> dict:
    today = timezone.now().date()
    return {"since": (today - days * D).isoformat(), "until": (today + D).isoformat()}


@pytest.fixture
def analytics(api_client_for):
    return api_client_for("analytics")


@pytest.fixture
def company(make_account, make_channel, system):
    web, partner = make_channel("web"), make_channel("partner", kind="partner")
    make_channel("quiet")
    now = timezone.now()
    accounts = [
        make_account(channel=web, shape="free_trial", signed_up_at=now - 10 * D),
        make_account(channel=web, shape="self_serve_team", plan="business", signed_up_at=now - 3 * D),
        make_account(channel=partner, shape="self_serve_team", signed_up_at=now - 5 * D),
    ]
    events = [EventInput("f1", "import.failed", accounts[2].signed_up_at + timedelta(hours=2))]
    account_events_record(account=accounts[2], events=events, actor=system)
    return accounts


def test_channels_answer_the_contract_shape(analytics, company):
    response = analytics.get(CHANNELS, _range())
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"as_of", "since", "until", "filters", "channels", "total", "definitions"}
    assert body["as_of"].endswith("Z")
    assert body["filters"] == {"shape": None, "plan": None}
    codes = [row["channel"] for row in body["channels"]]
    assert codes[-1] == "unmatched" and {"web", "partner", "quiet", "unattributed"} <= set(codes)
    web = next(row["metrics"] for row in body["channels"] if row["channel"] == "web")
    assert set(web) == set(METRICS)
    assert web["signups"] == {
        "value": 2,
        "numerator": 2,
        "denominator": None,
        "complete": True,
        "pending": 0,
        "version": 1,
    }
    assert set(web["time_to_first_value_h"]) == {"p50", "p90", "n", "version"}
    partner = next(row["metrics"] for row in body["channels"] if row["channel"] == "partner")
    assert partner["provisioning_failure_rate"]["value"] == 1.0  # a fraction, not a percentage
    quiet = next(row["metrics"] for row in body["channels"] if row["channel"] == "quiet")
    assert quiet["signups"]["value"] == 0 and quiet["activation_24h"]["value"] is None
    assert body["total"]["metrics"]["signups"]["value"] == 3
    assert body["definitions"]["activation_24h"] == {
        "text": METRICS["activation_24h"].text,
        "window": "24h",
        "version": 1,
    }


def _without_the_clock(report: dict) -> dict:
    """A report without what moves between two reads a moment apart: as_of and queue ages."""
    del report["as_of"]
    for metrics in [*(row["metrics"] for row in report["channels"]), report["total"]["metrics"]]:
        metrics.pop("queue_age_h")
    return report


def test_the_api_and_the_python_api_give_the_same_numbers(analytics, company):
    body = analytics.get(CHANNELS, _range()).json()
    today = timezone.now().date()
    report = channel_report(since=today - 30 * D, until=today + D).as_dict()
    assert _without_the_clock(body) == _without_the_clock(report)


def test_shape_and_plan_filter_the_cohort(analytics, company):
    by_shape = analytics.get(CHANNELS, {**_range(), "shape": "self_serve_team"}).json()
    assert by_shape["filters"] == {"shape": "self_serve_team", "plan": None}
    assert by_shape["total"]["metrics"]["signups"]["value"] == 2
    by_plan = analytics.get(CHANNELS, {**_range(), "plan": "business"}).json()
    assert by_plan["total"]["metrics"]["signups"]["value"] == 1


def test_cohorts_answer_a_full_grid(analytics, company):
    response = analytics.get(COHORTS, {**_range(14), "metric": "signups", "period": "day"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["metric"] == "signups" and body["period"] == "day"
    rows = body["rows"]
    assert set(rows[0]) == {
        "channel",
        "period_start",
        "value",
        "numerator",
        "denominator",
        "complete",
        "pending",
    }
    assert sum(r["value"] for r in rows) == 3
    expected = cohort_rows(
        metric="signups", period="day", **{k: date.fromisoformat(v) for k, v in _range(14).items()}
    )
    assert rows == [row.as_dict() for row in expected]


def test_cohorts_default_to_weeks_starting_on_monday(analytics, company):
    rows = analytics.get(COHORTS, {**_range(14), "metric": "activation"}).json()["rows"]
    assert {date.fromisoformat(r["period_start"]).weekday() for r in rows} == {0}


@pytest.mark.parametrize(
    ("url", "params", "code"),
    [
        (CHANNELS, {"since": "2026-13-01", "until": "2026-12-01"}, "invalid_date"),
        (CHANNELS, {"since": "yesterday", "until": "2026-12-01"}, "invalid_date"),
        (CHANNELS, {"until": "2026-12-01"}, "missing_parameter"),
        (CHANNELS, {"since": "2026-12-01", "until": "2026-12-01"}, "invalid_range"),
        (CHANNELS, {"since": "2026-12-02", "until": "2026-12-01"}, "invalid_range"),
        (CHANNELS, {"since": "2025-11-29", "until": "2026-12-01"}, "range_too_long"),
        (CHANNELS, {"since": "2026-11-01", "until": "2026-12-01", "shape": "galactic"}, "unknown_shape"),
        (CHANNELS, {"since": "2026-11-01", "until": "2026-12-01", "plan": "platinum"}, "unknown_plan"),
        (COHORTS, {"since": "2026-11-01", "until": "2026-12-01", "metric": "nps"}, "unknown_metric"),
        (COHORTS, {"since": "2026-11-01", "until": "2026-12-01"}, "missing_parameter"),
        (
            COHORTS,
            {"since": "2026-11-01", "until": "2026-12-01", "metric": "signups", "period": "year"},
            "unknown_period",
        ),
        (
            COHORTS,
            {"since": "2026-11-01", "until": "2026-12-01", "metric": "queue_age_h"},
            "not_a_cohort_metric",
        ),
    ],
)
def test_bad_queries_get_400_in_the_error_envelope(analytics, url, params, code):
    response = analytics.get(url, params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code and error["message"] and isinstance(error["details"], dict)


def test_366_days_is_the_longest_range(analytics):
    assert analytics.get(CHANNELS, {"since": "2025-11-30", "until": "2026-12-01"}).status_code == 200


@pytest.mark.parametrize(
    ("principal", "status"),
    [
        ("analytics", 200),
        ("ops_lead", 200),
        ("leadership", 200),
        ("product", 403),
        ("support", 403),
        ("billing", 403),
        ("engineering", 403),
        ("anonymous", 401),
    ],
)
@pytest.mark.parametrize("url", [CHANNELS, COHORTS])
def test_who_may_read_the_reports(api_client_for, make_user, principal, status, url):
    if principal in ("analytics", "product"):
        client = api_client_for(principal)
    else:
        client = https_client(APIClient)
        if principal != "anonymous":
            client.force_login(make_user(principal))
    response = client.get(url, {**_range(), "metric": "signups"})
    assert response.status_code == status, response.content


def test_writes_are_refused(analytics):
    assert analytics.post(CHANNELS, {}, format="json").status_code == 403
