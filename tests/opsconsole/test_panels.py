"""Panels a higher layer adds to a lower layer's page, through the framework's registry."""

import pytest
from django.test import RequestFactory

from opsconsole import panels
from routing import services


def test_a_panel_for_an_undeclared_page_is_refused():
    with pytest.raises(LookupError) as refused:
        panels.register("accounts.acount", lambda request, **page: "")
    assert "accounts.account" in str(refused.value)


def test_panels_render_in_registration_order_with_the_page_context():
    page = "tests.panels_order"
    panels.declare_page(page)
    panels.register(page, lambda request, *, n: f"<p>first {n}</p>")
    panels.register(page, lambda request, *, n: f"<p>second {n}</p>")
    html = panels.render(page, RequestFactory().get("/"), n=3)
    assert [str(part) for part in html] == ["<p>first 3</p>", "<p>second 3</p>"]


@pytest.mark.django_db
def test_the_account_page_shows_routings_tickets_panel(console_for, make_account, system):
    account = make_account()
    ticket, _ = services.ticket_intake(
        source="zendesk",
        external_id="panel-1",
        account_external_id=account.external_id,
        requester_email="a@b.example",
        subject="Import stuck at 40%",
        body="",
        actor=system,
    )
    html = (
        console_for("ops_lead").get(f"/accounts/account/{account.pk}/change/", secure=True).content.decode()
    )
    assert 'id="account-tickets"' in html
    assert "Import stuck at 40%" in html
