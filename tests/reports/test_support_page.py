"""The Support report page: who may see it, and that it shows the figures by grouping."""

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
