"""Report panels on other apps' pages: registered by reports, rendered where the lower layer
hosts them."""

import pytest
from django.test import Client
from django.urls import reverse

from routing import services


@pytest.mark.django_db
def test_the_weekly_rule_review_shows_engineering_escalations_per_100_accounts(
    make_account, make_channel, make_user, system
):
    web = make_channel("web")
    accounts = [make_account(channel=web) for _ in range(4)]
    services.escalation_create(account=accounts[0], summary="crash", actor=system)
    client = Client()
    client.force_login(make_user("ops_lead"))
    html = client.get(reverse("admin:routing_rule_review"), secure=True).content.decode()
    assert "Engineering escalations per 100 accounts, last 4 weeks" in html
    assert "<td>web</td><td>4</td><td>1</td><td>25.0</td>" in html
