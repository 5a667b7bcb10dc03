from datetime import timedelta

import pytest
from django.utils import timezone

from reports.metrics import engineering_escalations_per_100_accounts
from routing import services


@pytest.mark.django_db
def test_engineering_escalations_per_100_accounts_per_channel(make_account, make_channel, system):
    web, partner = make_channel("web"), make_channel("partner")
    web_accounts = [make_account(channel=web) for _ in range(4)]
    make_account(channel=partner)
    services.escalation_create(account=web_accounts[0], summary="crash", actor=system)
    services.escalation_create(account=web_accounts[1], summary="crash again", actor=system)
    now = timezone.now()
    report = engineering_escalations_per_100_accounts(since=now - timedelta(days=1), until=now + timedelta(1))
    assert report["web"] == {"accounts": 4, "escalations": 2, "per_100_accounts": 50.0}
    assert report["partner"]["escalations"] == 0
