"""Report panels on other apps' pages: registered by reports, rendered where the lower layer
hosts them."""

import pytest
from django.urls import reverse

from routing import services


@pytest.mark.django_db
def test_the_weekly_rule_review_shows_engineering_escalations_per_100_accounts(
    console_for, make_account, make_channel, system
):
    web = make_channel("web")
    accounts = [make_account(channel=web) for _ in range(4)]
    services.escalation_create(account=accounts[0], summary="crash", actor=system)
    html = console_for("ops_lead").get(reverse("admin:routing_rule_review"), secure=True).content.decode()
    assert "Engineering escalations per 100 accounts, last 4 weeks" in html
    assert "<td>web</td><td>4</td><td>1</td><td>25.0</td>" in html
