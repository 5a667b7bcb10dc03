"""The console: buttons only for who may press them, form -> preview -> confirm, the result
message, the approval inbox, reversal, and read-only action runs."""

import re

import pytest
from django.contrib.auth.models import Permission
from guardian.shortcuts import assign_perm

from accounts.billing.services import drift_open
from opsconsole.actions.forms import action_form_class, split_cleaned
from opsconsole.actions.registry import get_action
from opsconsole.history import acting_as
from opsconsole.models import ActionRun, ActionStatus
from tests.helpers.clients import logged_in

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.opsconsole.console_urls")]


def _get(client, url):
    return client.get(url, secure=True, follow=True)


def _post(client, url, data):
    return client.post(url, data, secure=True, follow=True)


def _buttons(response) -> set[str]:
    return set(re.findall(r'data-action="([a-z_]+)"', response.content.decode()))


def _exception_url(exception):
    return f"/accounts/opsexception/{exception.pk}/change/"


def test_exception_page_shows_runbook_and_only_allowed_actions_per_role(
    account, fail_import, console_for, make_account
):
    exception = fail_import(account, "timeout")
    page = _get(console_for("support"), _exception_url(exception))
    assert "Runbook: Import timed out" in page.content.decode()
    assert "support may restart once" in page.content.decode()
    working = {"acknowledge_exception", "await_customer", "reassign_exception", "resolve_exception"}
    assert _buttons(page) == {"restart_import", "escalate_to_engineering", *working}
    # Billing may escalate support's exception, not move it: those buttons are greyed, saying why.
    billing_page = _get(console_for("billing"), _exception_url(exception))
    assert _buttons(billing_page) == {"escalate_to_engineering"}
    assert set(re.findall(r'data-refused-action="([a-z_]+)"', billing_page.content.decode())) == working
    assert "This exception belongs to Support" in billing_page.content.decode()
    schema = fail_import(make_account(), "schema_error")
    assert "restart_import" not in _buttons(_get(console_for("support"), _exception_url(schema)))


def test_a_drift_exception_offers_the_account_fix_it_names_to_who_may_run_it(account, console_for, system):
    with acting_as(system):
        drift, _ = drift_open(
            system="stripe",
            kind="billing_plan_mismatch",
            subject=account.external_id,
            account=account,
            field="plan",
            ours={"plan": "team"},
            theirs={"plan": "business"},
            summary="plan: team here, business in Stripe",
        )
    page = _get(console_for("billing"), _exception_url(drift.exception))
    assert "reassign_plan" in _buttons(page)
    assert f"/opsconsole/actionrun/run/reassign_plan/account/{account.pk}/" in page.content.decode()
    assert "reassign_plan" not in _buttons(_get(console_for("support"), _exception_url(drift.exception)))


def test_support_restart_once_then_refusal_offers_escalation(account, fail_import, console_for):
    exception = fail_import(account, "timeout")
    client = console_for("support")
    form_url = f"/opsconsole/actionrun/run/restart_import/opsexception/{exception.pk}/"
    form = _get(client, form_url)
    assert "What you checked" in form.content.decode()
    missing = _post(client, form_url, {"preview": "1"})
    assert "This field is required" in missing.content.decode()
    preview = _post(client, form_url, {"evidence_note": "Timeout, no schema error"})
    body = preview.content.decode()
    assert "import.restart" in body and "nothing has changed" in body
    assert not ActionRun.objects.exists()
    token = re.search(r'name="preview_token" value="([^"]+)"', body).group(1)
    done = _post(client, form_url, {"preview_token": token})
    run = ActionRun.objects.get()
    assert run.status == ActionStatus.SUCCEEDED and run.entry_point == "console"
    assert done.redirect_chain[-1][0].endswith(f"/opsconsole/actionrun/{run.pk}/change/")
    assert f'href="/opsconsole/actionrun/{run.pk}/change/"' in done.content.decode()
    assert "import.restart" in done.content.decode()  # the outbox delivery is on the run page
    # The call the run made reads as a row of the external-calls table, not a JSON list.
    assert re.search(r"<tr><td>product</td><td>import\.restart</td><td><table", done.content.decode())
    # Confirming the same preview twice does not run twice.
    _post(client, form_url, {"preview_token": token})
    assert ActionRun.objects.count() == 1

    # A second restart is refused at the preview already: no token to confirm.
    body = _post(client, form_url, {"evidence_note": "again"}).content.decode()
    assert 'name="preview_token"' not in body
    assert "escalate to engineering" in body
    assert f"/opsconsole/actionrun/run/escalate_to_engineering/opsexception/{exception.pk}/" in body


def test_the_preview_shows_values_as_the_run_page_does(account, fail_import, console_for):
    """Nothing reads "—" and a payload is a table of facts, not Python's None and dict reprs."""
    client = console_for("support")
    exception = fail_import(account, "timeout")
    resolve = f"/opsconsole/actionrun/run/resolve_exception/opsexception/{exception.pk}/"
    body = _post(client, resolve, {"param_note": "done", "evidence_note": "n"}).content.decode()
    assert "<td>resolved_at</td><td>—</td>" in body and ">None<" not in body
    restart = f"/opsconsole/actionrun/run/restart_import/opsexception/{exception.pk}/"
    calls = _post(client, restart, {"evidence_note": "timeout"}).content.decode()
    calls = calls[calls.index('id="preview-calls"') :]
    assert '<table class="oc-facts"><tr><th>command_id</th>' in calls and "{&#x27;" not in calls


def test_plan_change_needs_lead_approval_through_the_inbox_then_reverses(account, console_for):
    billing = console_for("billing")
    form_url = f"/opsconsole/actionrun/run/reassign_plan/account/{account.pk}/"
    preview = _post(billing, form_url, {"param_plan": "enterprise", "param_note": "signed order form"})
    body = preview.content.decode()
    assert "Needs approval" in body and "feature:scim" in body
    token = re.search(r'name="preview_token" value="([^"]+)"', body).group(1)
    waiting = _post(billing, form_url, {"preview_token": token})
    assert "waiting for approval" in waiting.content.decode()
    run = ActionRun.objects.get()
    assert run.status == ActionStatus.AWAITING_APPROVAL

    requester_view = _get(billing, f"/opsconsole/actionrun/{run.pk}/change/")
    assert "Approve and run" not in requester_view.content.decode()
    lead = console_for("ops_lead")
    inbox = _get(lead, "/opsconsole/actionapproval/")
    assert f"#{run.pk}" in inbox.content.decode() and "Waiting for you (1)" in inbox.content.decode()
    _post(lead, f"/opsconsole/actionrun/approvals/{run.approval.pk}/decide/", {"decision": "approve"})
    run.refresh_from_db()
    account.refresh_from_db()
    assert run.status == ActionStatus.SUCCEEDED and account.plan == "enterprise"

    reverse_preview = _get(billing, f"/opsconsole/actionrun/{run.pk}/reverse/")
    token = re.search(r'name="preview_token" value="([^"]+)"', reverse_preview.content.decode()).group(1)
    _post(billing, f"/opsconsole/actionrun/{run.pk}/reverse/", {"preview_token": token})
    account.refresh_from_db()
    run.refresh_from_db()
    assert account.plan == "team" and run.status == ActionStatus.REVERSED


def test_action_pages_refuse_roles_without_the_permission(account, fail_import, console_for):
    exception = fail_import(account)
    response = console_for("billing").get(
        f"/opsconsole/actionrun/run/restart_import/opsexception/{exception.pk}/", secure=True
    )
    assert response.status_code == 403


def test_action_page_of_an_account_the_user_cannot_see_is_not_found(make_account, make_user):
    mine, other = make_account(), make_account()
    user = make_user(None)
    user.is_staff = True  # a partner manager: in the console, one account granted
    user.save()
    user.user_permissions.add(Permission.objects.get(codename="run_reassign_plan"))
    assign_perm("accounts.view_account", user, mine)
    client = logged_in(user)

    def form(account):
        return client.get(f"/opsconsole/actionrun/run/reassign_plan/account/{account.pk}/", secure=True)

    assert form(mine).status_code == 200
    hidden = form(other)
    assert hidden.status_code == 404 and other.name not in hidden.content.decode()


def test_action_runs_are_read_only_even_for_a_superuser(resolved_run, django_user_model):
    run = resolved_run
    superuser = django_user_model.objects.create_superuser("root", "root@example.com", "pw-for-tests-only")
    admin = logged_in(superuser)
    page = _get(admin, f"/opsconsole/actionrun/{run.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    # Parameters read as a table of facts, not as a Python dict.
    assert '<table class="oc-facts"><tr><th>note</th><td>done</td></tr></table>' in page.content.decode()
    assert (
        admin.post(f"/opsconsole/actionrun/{run.pk}/delete/", {"post": "yes"}, secure=True).status_code == 403
    )
    assert (
        admin.post(f"/opsconsole/actionrun/{run.pk}/change/", {"params": "{}"}, secure=True).status_code
        == 403
    )
    assert admin.get("/opsconsole/actionrun/add/", secure=True).status_code == 403
    assert ActionRun.objects.get(pk=run.pk).params == {"note": "done"}


def test_an_optional_choice_left_blank_is_not_sent_so_the_action_default_applies():
    form_class = action_form_class(get_action("push_to_crm"), runbook=None)
    assert form_class().fields["param_field"].choices[0] == ("", "(default)")
    blank = form_class(data={"param_field": ""})
    chosen = form_class(data={"param_field": "plan"})
    assert blank.is_valid() and chosen.is_valid()
    assert split_cleaned(blank.cleaned_data) == ({}, {})
    assert split_cleaned(chosen.cleaned_data) == ({"field": "plan"}, {})
