# ruff: noqa: F811  (the routing fixtures are imported by name and requested by name)
"""Hostile text in every free-text field people see is shown as text, never run as markup.

HTML and script go into ticket subjects and bodies, an account name, event data, an escalation
summary and a routing rule's name. The browser context bypasses the Content-Security-Policy,
so an unescaped payload would run and open a dialog: a dialog fails the test, and so does any
element the payload would have made (an <img src=x>, a <script> or a <b id=oc-xss>), while the
payload's own text must be on the page.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccountEvent
from accounts.services import account_events_record
from accounts.services.events import EventInput
from routing import services as routing_services
from routing.models import RoutingRule, Ticket
from tests.browser.conftest import log_in_with_password
from tests.helpers.second_factor import second_factor_device, totp_code
from tests.routing.conftest import activate_rules, intake, make_queue  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PAYLOAD = "<script>alert('xss')</script><img src=x onerror=\"alert('img')\"><b id=oc-xss>bold</b>"
INJECTED = "img[src='x'], b#oc-xss, script:not([src])"


def test_every_page_escapes_hostile_text(
    browser,
    live_server,
    make_user,
    make_account,
    make_queue,
    activate_rules,
    intake,
    system,
    screenshot,
):
    account = make_account(name=f"Acme {PAYLOAD}")
    activate_rules(
        [
            {
                "key": "hostile",
                "queue": make_queue("hostile"),
                "name": f"Rule {PAYLOAD}",
                "conditions": [{"field": "text", "op": "contains", "value": "invoice"}],
            }
        ]
    )
    ticket = intake(
        subject=f"invoice {PAYLOAD}", body=f"Body {PAYLOAD}", account_external_id=account.external_id
    )
    routing_services.ticket_escalate(ticket=ticket, summary=f"Summary {PAYLOAD}", actor=make_user("ops_lead"))
    account_events_record(
        account=account,
        events=[
            EventInput(
                event_id="evt-hostile",
                type="import.failed",
                occurred_at=timezone.now() - timedelta(minutes=5),
                error_code="timeout",
                payload={"note": PAYLOAD, PAYLOAD: "key"},
            )
        ],
        actor=system,
    )
    event = AccountEvent.objects.get(event_id="evt-hostile")
    rule = RoutingRule.objects.get(key="hostile", rule_set__status="active")
    ticket = Ticket.objects.get(pk=ticket.pk)
    pages = [
        reverse("admin:accounts_account_changelist"),
        reverse("admin:accounts_account_change", args=[account.pk]),
        reverse("admin:accounts_accountevent_changelist"),
        reverse("admin:accounts_accountevent_change", args=[event.pk]),
        reverse("admin:accounts_opsexception_changelist"),
        reverse("admin:routing_ticket_changelist"),
        reverse("admin:routing_ticket_change", args=[ticket.pk]),
        reverse("admin:routing_ticket_history", args=[ticket.pk]),
        reverse("admin:routing_routingdecision_changelist"),
        reverse("admin:routing_escalation_changelist"),
        reverse("admin:routing_ruleset_change", args=[rule.rule_set_id]),
        reverse("admin:routing_routingrule_changelist"),
    ]

    context = browser.new_context(base_url=live_server.url, bypass_csp=True)
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(f"{page.url}: {dialog.message}"), dialog.dismiss()))
    lead = make_user("ops_lead")
    device = second_factor_device(lead)
    log_in_with_password(page, lead)
    page.wait_for_url("**/login/verify/**")
    page.fill("input[name=token]", totp_code(device))
    page.click("#verify-form input[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)

    shown = {}
    for url in pages:
        response = page.goto(url)
        page.wait_for_load_state("load")
        assert response.status == 200, url
        assert page.locator(INJECTED).count() == 0, f"{url}: the payload became markup"
        shown[url] = "<script>alert('xss')</script>" in page.inner_text("body")
    screenshot(page, "escaping-rule-set")
    context.close()

    assert not dialogs, dialogs
    # Each kind of text is on at least one page, as text.
    assert shown[reverse("admin:accounts_account_change", args=[account.pk])]
    assert shown[reverse("admin:routing_ticket_change", args=[ticket.pk])]
    assert shown[reverse("admin:routing_escalation_changelist")]
    assert shown[reverse("admin:routing_routingrule_changelist")]
