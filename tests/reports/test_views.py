"""The CSV exports in the console: streamed, with the definitions in a header comment, for those
holding reports.view_dashboard; a cell's accounts only as far as the user may see them."""

import csv
import io
from datetime import UTC, datetime, time, timedelta

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from accounts.services import EventInput, account_events_record
from reports.metrics import METRICS
from tests.helpers.clients import logged_in

pytestmark = pytest.mark.django_db

D = timedelta(days=1)


@pytest.fixture
def cohort(make_account, make_channel, system):
    web = make_channel("web")
    day = timezone.now().date() - 40 * D
    at = datetime.combine(day, time(9), tzinfo=UTC)
    accounts = [
        make_account(channel=web, name="=HYPERLINK(evil)", signed_up_at=at),
        make_account(channel=web, signed_up_at=at + timedelta(hours=1)),
    ]
    failure = EventInput("f", "import.failed", at + timedelta(hours=3))
    account_events_record(account=accounts[0], events=[failure], actor=system)
    return day, accounts


def _read(response):
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    lines = b"".join(response.streaming_content).decode().splitlines()
    comments = [line for line in lines if line.startswith("#")]
    body = "\n".join(line for line in lines if not line.startswith("#"))
    return comments, list(csv.DictReader(io.StringIO(body)))


def _get(user, name, params):
    return logged_in(user).get(reverse(f"admin:{name}"), params, secure=True)


def test_the_channel_report_csv_has_every_number_and_the_definitions(cohort, make_user):
    day, _ = cohort
    params = {"since": day.isoformat(), "until": (day + D).isoformat()}
    response = _get(make_user("ops_lead"), "reports_export_channels", params)
    comments, rows = _read(response)
    assert any(line.startswith("# activation_24h (window 24h, version 1): ") for line in comments)
    assert len([line for line in comments if "version 1" in line]) == len(METRICS)
    web = {r["metric"]: r for r in rows if r["channel"] == "web"}
    assert web["provisioning_failure_rate"]["value"] == "0.5"
    assert web["provisioning_failure_rate"]["numerator"] == "1"
    assert web["time_to_first_value_h.p50"]["value"] == ""  # nobody activated: empty, not 0
    assert {r["channel"] for r in rows} >= {"web", "unmatched", "total"}


def test_the_cohorts_csv(cohort, make_user):
    day, _ = cohort
    params = {"since": day.isoformat(), "until": (day + D).isoformat(), "metric": "signups", "period": "day"}
    comments, rows = _read(_get(make_user("leadership"), "reports_export_cohorts", params))
    assert comments[-1].startswith("# signups (window 0, version 1)")
    web = next(r for r in rows if r["channel"] == "web")
    assert (web["period_start"], web["value"], web["complete"]) == (day.isoformat(), "2", "true")


def test_a_cells_accounts_csv_quotes_formulas(cohort, make_user):
    day, accounts = cohort
    params = {"metric": "provisioning_failure_rate", "channel": "web", "period": "day", "period_start": day}
    comments, rows = _read(_get(make_user("ops_lead"), "reports_export_cohort_accounts", params))
    assert [r["external_id"] for r in rows] == [a.external_id for a in accounts]
    assert rows[0]["name"] == "'=HYPERLINK(evil)"
    assert [(r["mature"], r["contribution"]) for r in rows] == [("true", "1"), ("true", "0")]


def test_exports_need_the_dashboard_permission_and_good_parameters(cohort, make_user):
    day, _ = cohort
    params = {"since": day.isoformat(), "until": (day + D).isoformat()}
    assert _get(make_user("support"), "reports_export_channels", params).status_code == 403
    bad = _get(make_user("ops_lead"), "reports_export_channels", {"since": "soon", "until": "later"})
    assert bad.status_code == 400 and b"invalid_date" in bad.content
