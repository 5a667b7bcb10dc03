# ruff: noqa: F811  (the routing fixtures are imported by name and requested by name)
"""Hostile text in every free-text field people see is shown as text, never run as markup.

HTML and script go into ticket subjects and bodies, an account name, event data, an escalation
summary, a routing rule's name, a known issue's title and workaround, a help article's title,
exception notes (a reassignment's reason, a resolution note) and a guarded action's evidence.
The browser context bypasses the Content-Security-Policy, so an unescaped payload would run and
open a dialog: a dialog fails the test, and so does any element the payload would have made (an
<img src=x>, a <script> or a <b id=oc-xss>), while the payload's own text must be on the page.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Team
from accounts.models import AccountEvent
from accounts.services import account_events_record, exception_reassign, exception_resolve
from accounts.services.events import EventInput
from opsconsole.actions.services import run_action
from opsconsole.models import ActionStatus
from routing import services as routing_services
from routing.models import HelpArticle, RoutingRule, Ticket
from routing.support.services.known_issues import known_issue_create
from tests.browser.conftest import sign_in
from tests.opsconsole.conftest import fail_import  # noqa: F401  (fixture)
from tests.routing.conftest import activate_rules, intake, make_queue  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PAYLOAD = "<script>alert('xss')</script><img src=x onerror=\"alert('img')\"><b id=oc-xss>bold</b>"
INJECTED = "img[src='x'], b#oc-xss, script:not([src])"


def _visit_as_lead(browser, live_server, lead, pages, screenshot, shot):
    """Sign the lead in, open each page, and return the dialogs that fired and, per page,
    whether the payload's text is shown. Fails on a non-200 page or an injected element."""
    context = browser.new_context(base_url=live_server.url, bypass_csp=True)
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(f"{page.url}: {dialog.message}"), dialog.dismiss()))
    sign_in(page, lead)

    shown = {}
    for url in pages:
        response = page.goto(url)
        page.wait_for_load_state("load")
        assert response.status == 200, url
        assert page.locator(INJECTED).count() == 0, f"{url}: the payload became markup"
        shown[url] = "<script>alert('xss')</script>" in page.inner_text("body")
    screenshot(page, shot)
    context.close()
    return dialogs, shown


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
    known_issue = known_issue_create(
        title=f"Issue {PAYLOAD}",
        customer_message=f"Told {PAYLOAD}",
        workaround=f"Workaround {PAYLOAD}",
        tickets=[ticket],
        actor=make_user("ops_lead"),
    )
    # Staff add help articles in the admin's form; no service stands between.
    HelpArticle.objects.create(title=f"Help {PAYLOAD}", url="https://help.example.com/a", reason_codes=["x"])
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
        reverse("admin:routing_knownissue_changelist"),
        reverse("admin:routing_knownissue_change", args=[known_issue.pk]),
        reverse("admin:routing_helparticle_changelist"),
    ]

    dialogs, shown = _visit_as_lead(
        browser, live_server, make_user("ops_lead"), pages, screenshot, "escaping-rule-set"
    )

    assert not dialogs, dialogs
    # Each kind of text is on at least one page, as text.
    assert shown[reverse("admin:accounts_account_change", args=[account.pk])]
    assert shown[reverse("admin:routing_ticket_change", args=[ticket.pk])]
    assert shown[reverse("admin:routing_escalation_changelist")]
    assert shown[reverse("admin:routing_routingrule_changelist")]
    assert shown[reverse("admin:routing_knownissue_change", args=[known_issue.pk])]
    assert shown[reverse("admin:routing_helparticle_changelist")]


def test_notes_and_evidence_are_escaped(
    browser,
    live_server,
    make_user,
    make_account,
    fail_import,
    screenshot,  # noqa: F811
):
    """Exception notes (a reassignment's reason, a resolution note) and a guarded action's
    evidence and note, on the exception, its history, the run pages, the approval inbox and
    the account's timeline."""
    account = make_account(name=f"Acme {PAYLOAD}")
    exception = fail_import(account, "timeout")
    support, billing, lead = make_user("support"), make_user("billing"), make_user("ops_lead")
    restart = run_action(
        name="restart_import",
        target=exception,
        actor=support,
        evidence={"note": f"Seen {PAYLOAD}", PAYLOAD: "key"},
        idempotency_key="hostile-restart",
    ).run
    assert restart.status == ActionStatus.SUCCEEDED
    exception_reassign(exception=exception, team=Team.ENGINEERING, reason=f"Why {PAYLOAD}", actor=lead)
    exception_resolve(exception=exception, note=f"Fixed {PAYLOAD}", actor=lead)
    plan_change = run_action(
        name="reassign_plan",
        target=account,
        actor=billing,
        params={"plan": "enterprise", "note": f"Order {PAYLOAD}"},
        evidence={"note": f"Signed {PAYLOAD}"},
        idempotency_key="hostile-plan",
    ).run
    assert plan_change.status == ActionStatus.AWAITING_APPROVAL
    pages = [
        reverse("admin:accounts_opsexception_changelist"),
        reverse("admin:accounts_opsexception_change", args=[exception.pk]),
        reverse("admin:accounts_opsexception_history", args=[exception.pk]),
        reverse("admin:accounts_account_change", args=[account.pk]),
        reverse("admin:opsconsole_actionrun_changelist"),
        reverse("admin:opsconsole_actionrun_change", args=[restart.pk]),
        reverse("admin:opsconsole_actionapproval_changelist"),
        reverse("admin:opsconsole_actionrun_change", args=[plan_change.pk]),
    ]

    dialogs, shown = _visit_as_lead(browser, live_server, lead, pages, screenshot, "escaping-evidence")

    assert not dialogs, dialogs
    assert shown[reverse("admin:accounts_opsexception_change", args=[exception.pk])]
    assert shown[reverse("admin:accounts_opsexception_history", args=[exception.pk])]
    assert shown[reverse("admin:opsconsole_actionrun_change", args=[restart.pk])]
    assert shown[reverse("admin:opsconsole_actionrun_change", args=[plan_change.pk])]
    assert shown[reverse("admin:opsconsole_actionapproval_changelist")]
