"""The Support report page: who may see it, and that it shows the figures by grouping."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from routing.services import ticket_intake
from routing.support.services.updates import ticket_update_apply

URL = "/reports/metricsnapshot/support/"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role,status", [("ops_lead", 200), ("leadership", 200), ("support", 403), ("billing", 403)]
)
def test_who_sees_the_support_page(console_for, role, status):
    assert reverse("admin:reports_support") == URL
    assert console_for(role).get(URL).status_code == status


def _reports_group(html: str) -> str:
    return html.split('<span class="section">Reports</span>')[1].split("</table>")[0]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["ops_lead", "leadership"])
def test_the_sidebar_on_the_support_page_has_the_reports_group_with_support_current(console_for, role):
    html = console_for(role).get(URL).content.decode()
    reports = _reports_group(html)
    links = dict(re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', reports))
    assert links == {
        "/reports/dashboard/": "Channel dashboard",
        "/reports/cohorts/": "Cohorts by signup week",
        URL: "Support",
        reverse("admin:reports_constraints_index"): "Constraints",
        "/reports/metricsnapshot/": "Metric snapshots",
        "/reports/costsettings/": "Constraints and cost model",
    }
    # One page is current: Support, not also the metric snapshots whose address it extends.
    assert re.findall(r'<a href="([^"]+)" aria-current="page"', html) == [URL]
    # The other report pages show the same group.
    dashboard = console_for(role).get("/reports/dashboard/").content.decode()
    assert _reports_group(dashboard).count("<a href=") == len(links)


@pytest.mark.django_db
def test_support_page_shows_csat_below_target_by_via(console_for, system):
    created = timezone.now() - timedelta(days=2)
    for i, rating in enumerate(["good", "bad", "bad"]):
        ticket, _ = ticket_intake(
            source="zendesk",
            external_id=f"p{i}",
            requester_email="a@b.example",
            subject="Help",
            body="",
            via="chat",
            received_at=created,
            actor=system,
        )
        ticket_update_apply(
            source=ticket.source,
            external_id=ticket.external_id,
            update_id=f"r{i}",
            kind="satisfaction",
            occurred_at=created + timedelta(hours=1),
            rating=rating,
            actor=system,
        )
    page = console_for("ops_lead").get(URL, {"group_by": "via"})
    assert page.status_code == 200
    chat = next(r for r in page.context["rows"] if r["group"] == "chat")
    csat = chat["cells"][2]
    assert csat["text"] == "33.3%" and csat["title"] == "1 / 3" and csat["low"]
    assert b"below 90%" in page.content


@pytest.mark.django_db
def test_bad_dates_say_why(console_for):
    page = console_for("ops_lead").get(URL, {"since": "2026-13-01"})
    assert page.status_code == 400 and b"since must be a date" in page.content
