"""The support path of issue 3 in a real browser: a failed import, the exception with its
runbook, restart once, a refusal on the second restart with the escalation offered, then an
escalation carrying its telemetry."""

import re

import pytest

from opsconsole.models import ActionRun, ActionStatus
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

    page.goto(f"/accounts/opsexception/{exception.pk}/change/")
    page.click("a[data-action=restart_import]")
    _run_action_form(page, {"evidence_note": "failed again"})
    refusal = page.locator(".messagelist").inner_text()
    assert "escalate to engineering" in refusal
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
