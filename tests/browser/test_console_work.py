"""A console day in a real browser (issue 10): support works an invite_expired exception with
resend_invite and its response clock stops; billing asks for a plan change and the ops lead
approves it after reading the MRR on the run page; support is refused a billing action and
reads why on a styled page."""

import re
from datetime import timedelta

import pytest

from accounts.choices import ExceptionStatus
from accounts.services import EventInput, account_events_record, exception_reassign
from opsconsole.models import ActionRun, ActionStatus
from tests.browser.conftest import sign_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _invite_expired(account, system):
    account_events_record(
        account=account,
        events=[
            EventInput(
                f"{account.external_id}:sent", "invite.sent", account.signed_up_at + timedelta(minutes=1)
            ),
            EventInput(
                f"{account.external_id}:exp", "invite.expired", account.signed_up_at + timedelta(minutes=2)
            ),
        ],
        actor=system,
    )
    return account.exceptions.get(reason_code__code="invite_expired")


def _preview_and_confirm(page, fields: dict):
    for name, value in fields.items():
        page.fill(f"[name={name}]", value)
    page.click("input[name=preview]")
    page.wait_for_load_state()
    page.click("input[name=confirm]")
    page.wait_for_url(re.compile(r"/opsconsole/actionrun/\d+/change/"))


def test_support_resends_an_expired_invite_and_the_clock_stops(admin_page, screenshot, account, system):
    exception = _invite_expired(account, system)
    assert exception.first_response_at is None
    page = admin_page("support")
    # A lead gives it to this agent (through the service), so it is on their "my work" home.
    exception_reassign(
        exception=exception,
        team=exception.owner_team,
        owner_user=admin_page.user,
        reason="Yours to work",
        actor=system,
    )
    page.goto("/")
    mine = page.locator("#my-work tbody tr")
    assert mine.count() == 1 and "invite_expired" in mine.nth(0).inner_text()
    mine.get_by_role("link", name=f"#{exception.pk} invite_expired").click()
    page.wait_for_url(re.compile(rf"/accounts/opsexception/{exception.pk}/change/"))
    assert "Runbook: Admin invitation expired" in page.content()
    assert page.locator("select[name=status]").count() == 0  # no free Status field
    screenshot(page, "console-a-1-invite-expired-exception")

    page.click("a[data-action=resend_invite]")
    _preview_and_confirm(page, {"evidence_note": "Admin email confirmed with the customer"})
    run = ActionRun.objects.get(action="resend_invite")
    assert run.status == ActionStatus.SUCCEEDED

    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.WAITING_ON_CUSTOMER
    assert exception.first_response_at is not None and not exception.is_overdue
    page.goto(f"/accounts/opsexception/{exception.pk}/change/")
    assert "Waiting on customer" in page.content()
    assert page.locator("a[data-action=resend_invite]").count() == 1  # may resend again if needed
    screenshot(page, "console-a-2-invite-resent-waiting-on-customer")


def test_billing_asks_for_a_plan_change_the_lead_approves_after_reading_the_mrr(
    admin_page, screenshot, account
):
    page = admin_page("billing")
    page.goto(f"/accounts/account/{account.pk}/change/")
    page.click("a[data-action=reassign_plan]")
    page.select_option("[name=param_plan]", "enterprise")
    _preview_and_confirm(page, {"param_note": "signed enterprise order form"})
    run = ActionRun.objects.get(action="reassign_plan")
    assert run.status == ActionStatus.AWAITING_APPROVAL

    sign_out(page)
    page = admin_page("ops_lead")
    page.goto("/opsconsole/actionapproval/")
    assert page.locator("#approval-inbox button").count() == 0
    page.locator(f"#approval-inbox a[data-review='{run.pk}']").click()
    page.wait_for_url(re.compile(rf"/opsconsole/actionrun/{run.pk}/change/"))
    move = page.locator(".oc-money-move[data-money=MRR]").inner_text()
    assert "$0.00" in move and "$4,000.00" in move
    assert "feature:scim" in page.locator("#planned-derived").inner_text()
    assert "signed enterprise order form" in page.locator("#approval-params").inner_text()
    screenshot(page, "console-a-3-approval-shows-the-mrr")

    page.fill("#approve-note", "order form checked")
    page.locator("#approve-form button[value=approve]").click()
    page.wait_for_load_state()
    run.refresh_from_db()
    account.refresh_from_db()
    assert run.status == ActionStatus.SUCCEEDED and account.plan == "enterprise"
    screenshot(page, "console-a-4-approved-and-run")


def test_support_is_refused_a_billing_action_and_reads_why(admin_page, screenshot, account):
    page = admin_page("support")
    page.goto(f"/accounts/account/{account.pk}/change/")
    assert page.locator("a[data-action=reassign_plan]").count() == 0  # not offered
    response = page.goto(f"/opsconsole/actionrun/run/reassign_plan/account/{account.pk}/")
    assert response.status == 403
    assert page.locator("#error-reason").inner_text() == "Your role may not run reassign_plan."
    assert page.locator("#site-name").count() == 1  # the console's frame
    assert page.locator("#error-home").count() == 1
    screenshot(page, "console-a-5-styled-403")
    assert not ActionRun.objects.exists()

    missing = page.goto(f"/opsconsole/actionrun/run/no_such_action/account/{account.pk}/")
    assert missing.status == 404
    assert "There is no action named 'no_such_action'" in page.locator("#error-reason").inner_text()
    assert page.locator("#site-name").count() == 1
    screenshot(page, "console-a-6-styled-404")
