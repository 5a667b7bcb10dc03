"""The approver sees what they approve: a pending run's page shows its field changes, the
entitlement diff, the MRR before and after, the external calls, who asked and their evidence;
the decision is made there (a rejection needs a comment), and the inbox only links to it."""

import re

import pytest

from opsconsole.actions.services import run_action
from opsconsole.models import ActionRun, ActionStatus, ApprovalStatus

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.opsconsole.console_urls")]


def _post(client, url, data):
    return client.post(url, data, secure=True, follow=True)


def _request_enterprise_in_the_console(billing, account):
    form_url = f"/opsconsole/actionrun/run/reassign_plan/account/{account.pk}/"
    preview = _post(billing, form_url, {"param_plan": "enterprise", "param_note": "signed order form"})
    token = re.search(r'name="preview_token" value="([^"]+)"', preview.content.decode()).group(1)
    _post(billing, form_url, {"preview_token": token})
    run = ActionRun.objects.get()
    assert run.status == ActionStatus.AWAITING_APPROVAL
    return run


def _request_enterprise_through_the_api(billing, account):
    """As the API does it: no preview was confirmed, so the page makes one for the approver."""
    run = run_action(
        name="reassign_plan",
        target=account,
        actor=billing.user,
        params={"plan": "enterprise"},
        evidence={"order": "PO-77"},
        idempotency_key="k",
        entry_point="api",
    ).run
    assert run.status == ActionStatus.AWAITING_APPROVAL and run.preview is None
    return run


@pytest.mark.parametrize(
    "requested", [_request_enterprise_in_the_console, _request_enterprise_through_the_api]
)
def test_the_pending_run_page_shows_the_change(requested, console_for, account):
    run = requested(console_for("billing"), account)
    page = console_for("ops_lead").get(f"/opsconsole/actionrun/{run.pk}/change/").content.decode()
    approval = page[page.index('id="approval"') :]
    # The MRR before and after, as money: nothing yet (a new account) to enterprise's $4,000.00.
    assert re.search(r"<strong>MRR</strong>.*\$0\.00</span> → <span[^>]*>\$4,000\.00</span>", approval, re.S)
    assert "+$4,000.00 a month" in approval
    changes = approval[approval.index('id="planned-changes"') :]
    assert "<td>plan</td><td>team</td><td>enterprise</td>" in changes
    derived = approval[approval.index('id="planned-derived"') :]
    assert "feature:scim" in derived and "No entitlement changes" not in derived
    assert 'id="planned-calls"' in approval
    assert f"{run.actor.get_username()} · " in approval  # who asked, and when
    evidence = approval[approval.index('id="approval-evidence"') :]
    if run.evidence:  # a definition list, not JSON
        assert "<dt>order</dt><dd>PO-77</dd>" in evidence and "{&#x27;" not in evidence
    else:
        assert "None given." in evidence
    assert "Approve and run" in approval and 'id="reject-form"' in approval
    # The run's own field-changes row no longer reads "—" for a pending run.
    assert "Not made yet" in page


def test_the_inbox_links_to_the_run_and_offers_no_one_click_decision(console_for, account):
    run = _request_enterprise_in_the_console(console_for("billing"), account)
    inbox = console_for("ops_lead").get("/opsconsole/actionapproval/").content.decode()
    listed = inbox[inbox.index('id="approval-inbox"') :]
    assert f'href="/opsconsole/actionrun/{run.pk}/change/"' in listed and "Review" in listed
    assert "/decide/" not in inbox and 'value="approve"' not in inbox


def test_reject_needs_a_comment_approve_runs(console_for, account):
    run = _request_enterprise_in_the_console(console_for("billing"), account)
    lead = console_for("ops_lead")
    decide = f"/opsconsole/actionrun/approvals/{run.approval.pk}/decide/"

    blank = _post(lead, decide, {"decision": "reject", "note": "  "})
    assert "Say why you reject it" in blank.content.decode()
    run.refresh_from_db()
    assert run.status == ActionStatus.AWAITING_APPROVAL and run.approval.status == ApprovalStatus.PENDING

    _post(lead, decide, {"decision": "approve"})
    run.refresh_from_db()
    account.refresh_from_db()
    assert run.status == ActionStatus.SUCCEEDED and account.plan == "enterprise"


def test_a_rejection_keeps_its_comment(console_for, account):
    run = _request_enterprise_in_the_console(console_for("billing"), account)
    lead = console_for("ops_lead")
    _post(
        lead,
        f"/opsconsole/actionrun/approvals/{run.approval.pk}/decide/",
        {"decision": "reject", "note": "no PO"},
    )
    run.refresh_from_db()
    assert run.status == ActionStatus.REFUSED and run.approval.decision_note == "no PO"
    page = lead.get(f"/opsconsole/actionrun/{run.pk}/change/").content.decode()
    assert "no PO" in page and "Approve and run" not in page
    account.refresh_from_db()
    assert account.plan == "team"
