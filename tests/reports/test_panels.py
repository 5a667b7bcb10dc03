"""Report panels on other apps' pages: registered by reports, rendered where the lower layer
hosts them, with the numbers of the metric's one definition."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from reports.facts import facts_rebuild
from routing import services
from routing.models import Escalation
from tests.helpers.clients import logged_in


@pytest.mark.django_db
def test_the_weekly_rule_review_shows_engineering_escalations_per_100_accounts(
    make_account, make_channel, make_user, system
):
    web = make_channel("web")
    signed_up_at = timezone.now() - timedelta(days=35)
    accounts = [make_account(channel=web, signed_up_at=signed_up_at) for _ in range(4)]
    make_account(channel=web)  # signed up today: its 30 days are still running
    escalation = services.escalation_create(account=accounts[0], summary="crash", actor=system)
    # The escalation came in the account's first week; the service stamps it now.
    Escalation.objects.filter(pk=escalation.pk).update(created_at=signed_up_at + timedelta(days=6))
    facts_rebuild()

    html = logged_in(make_user("ops_lead")).get(reverse("admin:routing_rule_review"), secure=True)
    html = html.content.decode()

    assert "Engineering escalations per 100 accounts, accounts signed up since" in html
    assert "<td>web</td><td>4</td><td>1</td><td>25.0</td><td>1</td>" in html
