"""Dates at the ends of the calendar in a report's query string answer 400, never 500.

``9999-12-31`` plus a day, or ``0001-01-01`` minus the default range, is an OverflowError in
Python. Every report entry point (the API, the dashboard, cohorts and their charts, the CSV
exports, the constraint pages with their tables' CSV and row lists, the support page and the
cohort-cell account list) reads its dates through ``reports.query``, which refuses any date
outside [1970-01-01, 2999-12-31]: the API with its error envelope, a console page with the
reason above its form.
"""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from opsconsole.errors import ValidationFailed
from reports.query import EARLIEST_DATE, LATEST_DATE, date_in_range, query_date
from reports.rowlists import all_lists

pytestmark = pytest.mark.django_db

CHANNEL = "paid-search"
CONSTRAINT_PAGES = ("index", "failures", "ranked", "quality", "costs", "billing", "funnel", "drag")
CONSTRAINT_CHARTS = ("funnel_chart", "drag_chart")
REFUSED_CODES = {"date_out_of_range", "invalid_range", "range_too_long"}
PAIRS = [
    ("0001-01-01", "0001-01-02"),
    ("9999-12-30", "9999-12-31"),
    ("0001-01-01", "9999-12-31"),
    ("2026-11-01", "9999-12-31"),
    ("0001-01-01", "2026-11-01"),
    ("1969-12-31", "1970-01-02"),
    ("2999-12-30", "3000-01-01"),
    # The last days reports accept: answered, not overflowed.
    ("1970-01-01", "1970-01-02"),
    ("2999-12-30", "2999-12-31"),
]
# The console's pages cost more each: both ends of the calendar refused, and the last days
# accepted (the end a window or a maturity is added to).
CONSOLE_PAIRS = [("0001-01-01", "0001-01-02"), ("2026-11-01", "9999-12-31"), ("2999-12-30", "2999-12-31")]


def _in_range(*days: str) -> bool:
    return all(EARLIEST_DATE <= date.fromisoformat(d) <= LATEST_DATE for d in days)


def _console_entry_points() -> list[tuple[str, str, dict, bool]]:
    """(name, path, extra parameters, is an HTML page with the range form) of every console
    report that reads dates from its query string."""
    found = [
        ("dashboard", reverse("reports:dashboard"), {}, True),
        ("cohorts", reverse("reports:cohorts"), {}, True),
        ("chart", reverse("reports:chart", args=["activation_24h"]), {}, False),
        ("channels csv", reverse("admin:reports_export_channels"), {}, False),
        ("cohorts csv", reverse("admin:reports_export_cohorts"), {"metric": "signups"}, False),
        (
            "cohort accounts csv",
            reverse("admin:reports_export_cohort_accounts"),
            {"metric": "signups", "channel": CHANNEL},
            False,
        ),
        ("support", reverse("admin:reports_support"), {}, True),
    ]
    found += [(p, reverse(f"admin:reports_constraints_{p}"), {}, True) for p in CONSTRAINT_PAGES]
    found += [(p, reverse(f"admin:reports_constraints_{p}"), {}, False) for p in CONSTRAINT_CHARTS]
    # Every table of every constraint page as CSV (a table's code is asked for; a page whose
    # range is refused has no table to give).
    found += [
        (f"{p} csv", reverse(f"admin:reports_constraints_{p}"), {"csv": "x"}, False) for p in CONSTRAINT_PAGES
    ]
    rows = reverse("admin:reports_constraints_rows")
    found += [(f"rows {code}", rows, {"list": code}, False) for code in all_lists()]
    return found


def _dates(since: str, until: str) -> dict:
    # Every date parameter any report reads: the range, a day, a cohort's period, an as-of time.
    return {
        "since": since,
        "until": until,
        "day": since,
        "period_start": since,
        "as_of": f"{since}T00:00:00+00:00",
    }


@pytest.fixture
def ops_lead(console_for, make_channel):
    make_channel(CHANNEL)
    return console_for("ops_lead")


@pytest.mark.parametrize(("since", "until"), CONSOLE_PAIRS)
def test_every_console_report_refuses_extreme_dates_with_a_400(ops_lead, since, until):
    for name, path, extra, has_form in _console_entry_points():
        response = ops_lead.get(path, {**_dates(since, until), **extra})
        label = f"{name} {since}..{until}"
        assert response.status_code in (200, 400), (label, response.status_code)
        if not _in_range(since, until):
            assert response.status_code == 400, label
            if has_form:
                page = response.content.decode()
                assert 'class="errornote"' in page and "1970-01-01" in page, label


@pytest.mark.parametrize(("since", "until"), PAIRS)
def test_the_cohort_cell_account_list_refuses_extreme_dates(ops_lead, since, until):
    cell = {
        "cohort_metric": "signups",
        "cohort_channel": CHANNEL,
        "cohort_start": since,
        "cohort_since": since,
        "cohort_until": until,
        "cohort_as_of": f"{until}T00:00:00+00:00",
    }
    response = ops_lead.get(reverse("admin:accounts_account_changelist"), cell)
    # The admin's answer to parameters it cannot use: back to the list, flagged (?e=1).
    assert response.status_code in (200, 302)
    if not _in_range(since, until):
        assert response.status_code == 302 and "e=1" in response["Location"]


@pytest.fixture
def analytics(api_client_for):
    return api_client_for("analytics")


def _api_get(client, path: str, params: dict):
    response = client.get(path, params)
    assert response.status_code in (200, 400), (path, params, response.status_code)
    return response


@pytest.mark.parametrize(("since", "until"), PAIRS)
@pytest.mark.parametrize("path", ["/api/v1/reports/channels/", "/api/v1/reports/cohorts/"])
def test_the_reports_api_refuses_extreme_dates_with_its_error_envelope(analytics, path, since, until):
    response = _api_get(analytics, path, {"since": since, "until": until, "metric": "signups"})
    if not _in_range(since, until):
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] in REFUSED_CODES and error["message"], error


@settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(since=st.dates(), until=st.dates())
@example(since=date.min, until=date.max)
@example(since=date.max, until=date.max)
def test_any_pair_of_dates_gets_a_report_or_a_400(console_for, make_user, since, until):
    """The API (for a staff session and a service alike) and the dashboard, with any dates."""
    staff = console_for("leadership", client_class=APIClient)
    params = {"since": since.isoformat(), "until": until.isoformat(), "metric": "signups"}
    for path in ("/api/v1/reports/channels/", "/api/v1/reports/cohorts/"):
        response = _api_get(staff, path, params)
        if response.status_code == 400:
            assert response.json()["error"]["code"]
    page = staff.get(reverse("reports:dashboard"), params)
    assert page.status_code in (200, 400)
    if not _in_range(since.isoformat(), until.isoformat()):
        assert page.status_code == 400


@given(day=st.dates())
def test_a_date_reports_accept_survives_the_arithmetic_reports_do(day):
    try:
        accepted = query_date({"d": day.isoformat()}, "d")
    except ValidationFailed as exc:
        assert exc.code == "date_out_of_range"
        assert not EARLIEST_DATE <= day <= LATEST_DATE
        return
    assert accepted == day == date_in_range(day, "d")
    # The widest arithmetic on a report's date: a year's range, a 30-day window, a week back.
    for delta in (-400, -30, -7, 7, 30, 400):
        accepted + timedelta(days=delta)
