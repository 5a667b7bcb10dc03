"""The console a person works in all day, in Chromium at 1280 px: "my work" first, lists that
fit the screen without sideways scrolling, and API docs that work with no network."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from accounts.billing.services import drift_open
from accounts.choices import ReconciliationMode, ReconciliationStatus, ReconciliationTarget
from accounts.models import ReconciliationRun
from accounts.services import exception_open
from opsconsole import roles
from opsconsole.actions.services import run_action
from opsconsole.models import ActionStatus
from routing import services
from routing.models import Queue, Ticket

LONG_SUBJECT = (
    "Our whole finance team cannot export the quarterly invoices since the last release, "
    "every export ends with error E4012 after about ten minutes"
)


def _work_to_show(*, agent, lead, system, make_account) -> dict:
    """Tickets in the agent's queue (one overdue, one due later, long subjects), exceptions,
    drift and a reconciliation run: enough rows for every list to be at its widest."""
    triage = Queue.objects.get(code="triage")
    services.queue_access_grant(queue=triage, group=Group.objects.get(name=roles.SUPPORT), actor=system)
    now = timezone.now()
    tickets = {}
    for name, due in (("later", timedelta(hours=6)), ("overdue", timedelta(hours=-2))):
        ticket, _ = services.ticket_intake(
            source="zendesk",
            external_id=f"zd-browser-{name}-with-a-long-external-identifier",
            requester_email="someone.with.a.long.address@customer-example-company.example",
            subject=f"{name}: {LONG_SUBJECT}",
            body="",
            actor=system,
        )
        services.ticket_reassign(ticket=ticket, queue=triage, owner=agent, reason="yours", actor=lead)
        Ticket.objects.filter(pk=ticket.pk).update(
            owner_due_at=None, first_response_due_at=now + due, resolution_due_at=None
        )
        tickets[name] = ticket
    for n in range(3):
        account = make_account(external_id=f"acct_browser_with_a_long_external_id_{n}")
        exception_open(account=account, reason_code="invite_expired", summary=LONG_SUBJECT, actor=system)
        with transaction.atomic():  # the reconciler's transaction, which drift_open runs in
            drift_open(
                system="stripe",
                kind="billing_plan_mismatch",
                subject=account.external_id,
                account=account,
                field="plan",
                ours={"plan": "team"},
                theirs={"plan": "business"},
                summary="plan: team here, business in Stripe",
            )
    ReconciliationRun.objects.create(
        target=ReconciliationTarget.STRIPE,
        mode=ReconciliationMode.FULL,
        status=ReconciliationStatus.COMPLETED,
        started_at=now - timedelta(minutes=3),
        finished_at=now,
        objects_scanned=123456,
        mismatches_found=1234,
        drift_opened=1200,
        drift_resolved=34,
        errors=2,
    )
    return tickets


def _overflow(page, selector: str) -> tuple[int, int]:
    return page.eval_on_selector(selector, "e => [e.scrollWidth, e.clientWidth]")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_my_work_shows_a_support_agents_overdue_ticket_first(
    admin_page, make_user, make_account, system, screenshot
):
    page = admin_page("support")
    tickets = _work_to_show(
        agent=admin_page.user, lead=make_user("ops_lead"), system=system, make_account=make_account
    )

    page.goto("/")
    rows = page.locator("#my-work tbody tr")
    assert rows.count() == 2
    assert str(tickets["overdue"]) in rows.nth(0).inner_text()
    assert "overdue" in rows.nth(0).inner_text().lower()
    assert str(tickets["later"]) in rows.nth(1).inner_text()
    assert page.locator("#my-queues").inner_text().count("Triage") == 1
    # The header search finds the ticket by its id.
    page.fill("#oc-search-q", tickets["later"].external_id)
    page.click("#oc-search button")
    assert page.locator("#search-results tbody tr").count() == 1
    screenshot(page, "console-b-my-work-support")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_work_lists_fit_a_1280_px_laptop_without_sideways_scrolling(
    admin_page, make_user, make_account, system
):
    page = admin_page("ops_lead")
    _work_to_show(agent=make_user("support"), lead=admin_page.user, system=system, make_account=make_account)
    # A plan change waiting for approval, for the approval inbox's generic list below "Waiting for you".
    pending = run_action(
        name="reassign_plan",
        target=make_account(external_id="acct_browser_with_a_long_external_id_pending"),
        actor=make_user("billing", username="billing.requester.with.a.long.name@customer-example.example"),
        params={"plan": "enterprise", "note": LONG_SUBJECT},
        evidence={"note": LONG_SUBJECT},
        idempotency_key="pending-approval",
    ).run
    assert pending.status == ActionStatus.AWAITING_APPROVAL
    assert page.viewport_size["width"] == 1280

    for path in (
        "/routing/ticket/",
        "/accounts/opsexception/",
        "/accounts/billingdrift/",
        "/accounts/reconciliationrun/",
        "/opsconsole/actionapproval/",
    ):
        page.goto(path)
        assert page.locator("#result_list tbody tr").count() >= 1, path
        scroll, client = _overflow(page, "#changelist .results")
        assert scroll <= client, f"{path}: the list is {scroll} px wide in {client} px"
        scroll, client = _overflow(page, "html")
        assert scroll <= client, f"{path}: the page scrolls sideways ({scroll} px in {client} px)"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_api_docs_render_operations_with_the_network_blocked(page, live_server):
    server = urlsplit(live_server.url).netloc
    blocked = []

    def only_the_server(route):
        if urlsplit(route.request.url).netloc == server:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_server)
    page.goto("/api/docs/")
    page.wait_for_selector(".opblock", timeout=20_000)
    assert page.locator(".opblock").count() >= 10
    assert "/api/v1/accounts/" in page.locator("#swagger-ui").inner_text()
    assert blocked == []  # Swagger UI asked nothing of any other host
    page.goto("/api/redoc/")
    page.wait_for_selector("[data-section-id^='operation/']", timeout=20_000)
    assert page.locator("[data-section-id^='operation/']").count() >= 10
    # Redoc's bundle hard-codes its maker's logo (no option turns it off); blocked, it is left out.
    assert set(blocked) <= {"https://cdn.redoc.ly/redoc/logo-mini.svg"}
