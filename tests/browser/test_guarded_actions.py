"""The support path of issue 3 in a real browser: a failed import, the exception with its
runbook, restart once, a refusal on the second restart with the escalation offered, then an
escalation carrying its telemetry."""

import re

import pytest

from opsconsole.actions.services import run_action
from opsconsole.models import ActionRun, ActionStatus
from tests.browser.conftest import sign_out
from tests.opsconsole.conftest import fail_import  # noqa: F401  (fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("tests.opsconsole.console_urls"),
]


def _run_action_form(page, fields: dict):
    for name, value in fields.items():
        page.fill(f"[name={name}]", value)
    page.click("input[name=preview]")
    page.wait_for_load_state()


def test_support_restarts_once_then_escalates(admin_page, screenshot, account, fail_import):  # noqa: F811
    exception = fail_import(account, "timeout")
    page = admin_page("support")
    page.goto(f"/accounts/opsexception/{exception.pk}/change/")
    assert "Runbook: Import timed out" in page.content()
    screenshot(page, "actions-1-exception-with-runbook")

    page.click("a[data-action=restart_import]")
    _run_action_form(page, {"evidence_note": "import.failed with timeout, no schema error"})
    assert "import.restart" in page.locator("#preview-calls").inner_text()
    screenshot(page, "actions-2-restart-preview")
    page.click("input[name=confirm]")
    page.wait_for_url(re.compile(r"/opsconsole/actionrun/\d+/change/"))
    assert "action run #" in page.locator(".messagelist").inner_text()
    screenshot(page, "actions-3-restart-done")
    assert ActionRun.objects.get().status == ActionStatus.SUCCEEDED

    # The one allowed restart is used: the button is greyed and says why, escalation is offered.
    page.goto(f"/accounts/opsexception/{exception.pk}/change/")
    assert page.locator("a[data-action=restart_import]").count() == 0
    refusal = page.locator("[data-refused-action=restart_import]").inner_text()
    assert "already restarted" in refusal and "escalate to engineering" in refusal
    screenshot(page, "actions-4-second-restart-refused")

    page.get_by_role("link", name="Escalate to engineering").click()
    _run_action_form(
        page, {"param_summary": "Import still times out after one restart", "evidence_note": "restarted once"}
    )
    page.click("input[name=confirm]")
    page.wait_for_url(re.compile(r"/opsconsole/actionrun/\d+/change/"))
    run = ActionRun.objects.get(action="escalate_to_engineering")
    assert run.status == ActionStatus.SUCCEEDED
    assert run.result["telemetry"]["error_code"] == "timeout"
    assert run.result["telemetry"]["account"] == account.external_id
    assert "last_events" in page.content()
    screenshot(page, "actions-5-escalated-with-telemetry")


def test_billing_previews_a_plan_change_the_lead_approves_then_billing_reverses(
    admin_page, screenshot, account
):
    page = admin_page("billing")
    page.goto(f"/opsconsole/actionrun/run/reassign_plan/account/{account.pk}/")
    page.select_option("[name=param_plan]", "enterprise")
    _run_action_form(page, {"param_note": "signed enterprise order form"})
    assert "Needs approval" in page.content()
    assert "feature:scim" in page.locator("#preview-derived").inner_text()
    screenshot(page, "actions-6-plan-change-preview")
    page.click("input[name=confirm]")
    page.wait_for_url(re.compile(r"/opsconsole/actionrun/\d+/change/"))
    assert "waiting for approval" in page.locator(".messagelist").inner_text()
    run = ActionRun.objects.get()
    assert run.status == ActionStatus.AWAITING_APPROVAL

    sign_out(page)
    page = admin_page("ops_lead")
    page.goto("/opsconsole/actionapproval/")
    assert "Waiting for you (1)" in page.content()
    screenshot(page, "actions-7-approval-inbox")
    # No one-click approval in the inbox: the request opens on its run page, which shows the change.
    assert page.locator("#approval-inbox button[value=approve]").count() == 0
    page.locator(f"#approval-inbox a[data-review='{run.pk}']").click()
    page.wait_for_url(re.compile(rf"/opsconsole/actionrun/{run.pk}/change/"))
    page.locator("#approval button[value=approve]").click()
    page.wait_for_load_state()
    run.refresh_from_db()
    account.refresh_from_db()
    assert run.status == ActionStatus.SUCCEEDED and account.plan == "enterprise"

    sign_out(page)
    page = admin_page("billing")
    page.goto(f"/opsconsole/actionrun/{run.pk}/change/")
    page.click("#reverse-run")
    screenshot(page, "actions-8-reversal-preview")
    page.click("input[name=confirm]")
    page.wait_for_url(re.compile(r"/opsconsole/actionrun/\d+/change/"))
    account.refresh_from_db()
    run.refresh_from_db()
    assert account.plan == "team" and run.status == ActionStatus.REVERSED


def test_the_lead_approves_from_the_run_page(admin_page, screenshot, account, make_user):
    """The run page's own "Approve and run" button, not only the inbox's, runs the action: its
    form is not nested in the (read-only) change form, which would swallow the click."""
    run = run_action(
        name="reassign_plan",
        target=account,
        actor=make_user("billing"),
        params={"plan": "enterprise", "note": "signed order form"},
        idempotency_key="plan-1",
    ).run
    assert run.status == ActionStatus.AWAITING_APPROVAL
    page = admin_page("ops_lead")
    page.goto(f"/opsconsole/actionrun/{run.pk}/change/")
    page.fill("#approval input[name=note]", "checked the order form")
    page.locator("#approval button[value=approve]").click()
    page.wait_for_load_state()
    screenshot(page, "actions-9-approved-from-the-run-page")
    run.refresh_from_db()
    account.refresh_from_db()
    assert run.status == ActionStatus.SUCCEEDED and account.plan == "enterprise"
    assert run.approval.decision_note == "checked the order form"
