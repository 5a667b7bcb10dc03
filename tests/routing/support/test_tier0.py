"""Tier 0: the provisioning status points a blocked customer at the help article, the product
reports help events, and the reports count a blocking reason cleared with no ticket and no
staff action as self-service."""

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import OpsException
from accounts.services import EventInput, account_events_record
from opsconsole.actions.services import run_action
from reports.metrics.support import support_report
from routing.models import HelpArticle
from routing.services import ticket_intake

_ids = itertools.count(1)


def fail_then_succeed(account, system, *, at, between=None):
    account_events_record(
        account=account,
        events=[EventInput(f"t0-{next(_ids)}", "import.failed", at, feature_area="import")],
        actor=system,
    )
    if between:
        between()
    account_events_record(
        account=account,
        events=[EventInput(f"t0-{next(_ids)}", "import.succeeded", at + timedelta(hours=2))],
        actor=system,
    )


@pytest.mark.django_db
def test_blocking_carries_the_matching_help_article(product_api, account, system):
    HelpArticle.objects.create(
        title="Imports", url="https://help.example/imports-area", feature_areas=["import"]
    )
    HelpArticle.objects.create(
        title="Fix a failed import", url="https://help.example/failed-import", reason_codes=["import_failed"]
    )
    account_events_record(
        account=account,
        events=[EventInput("hb-1", "import.failed", account.signed_up_at + timedelta(minutes=5))],
        actor=system,
    )
    blocking = product_api.get(f"/api/v1/accounts/{account.external_id}/provisioning-status/").json()[
        "blocking"
    ]
    assert blocking["reason_code"] == "import_failed"
    assert blocking["help_url"] == "https://help.example/failed-import"  # the reason code beats the area


@pytest.mark.django_db
def test_help_events_are_accepted_product_events(product_api, account):
    now = timezone.now().isoformat()
    response = product_api.post(
        "/api/v1/events/",
        {
            "events": [
                {
                    "event_id": "h1",
                    "account": account.external_id,
                    "type": "help.article_viewed",
                    "occurred_at": now,
                    "data": {"url": "https://help.example/failed-import"},
                },
                {
                    "event_id": "h2",
                    "account": account.external_id,
                    "type": "help.self_resolved",
                    "occurred_at": now,
                },
            ]
        },
        format="json",
    )
    assert response.status_code in (200, 201, 202), response.content
    assert response.json()["accepted"] == 2


@pytest.mark.django_db
def test_self_service_counts_only_reasons_cleared_alone(make_account, make_user, system, channel):
    start = timezone.now() - timedelta(days=3)
    alone, with_ticket, with_staff = make_account(), make_account(), make_account()
    fail_then_succeed(alone, system, at=start)

    def open_ticket():
        ticket_intake(
            source="zendesk",
            external_id="t0-ticket",
            requester_email=with_ticket.admin_email,
            subject="Import",
            body="",
            account_external_id=with_ticket.external_id,
            received_at=start + timedelta(hours=1),
            actor=system,
        )

    fail_then_succeed(with_ticket, system, at=start, between=open_ticket)
    account_events_record(
        account=with_staff,
        events=[EventInput(f"t0-{next(_ids)}", "import.failed", start, feature_area="import")],
        actor=system,
    )
    exception = OpsException.objects.get(account=with_staff)
    run_action(
        name="resolve_exception",
        target=exception,
        actor=make_user("ops_lead"),
        params={"note": "re-ran it for them"},
        evidence={"note": "n"},
        idempotency_key="t0",
    )
    today = timezone.now().date()
    report = support_report(since=today - timedelta(days=7), until=today + timedelta(days=1))
    row = next(r for r in report.rows if r.group == channel.code)
    value = row.metrics["self_service_rate"]
    assert (value.numerator, value.denominator) == (1, 3)
    assert report.total.metrics["self_service_rate"].value == round(1 / 3, 4)
