"""Console pages for billing sync: who may see them (role x action), what they show, and the
billing-state panel for the account page."""

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.billing.reconciliation import reconciliation_start
from accounts.billing.selectors import billing_state
from accounts.billing.services import drift_open
from accounts.choices import DriftKind, SystemOfRecord
from opsconsole import roles
from opsconsole.history import SYSTEM_RECONCILER, acting_as, system_user


@pytest.fixture
def plan_drift(make_account, system):
    account = make_account(name="Globex")
    with acting_as(system):
        drift, _ = drift_open(
            system="stripe",
            kind=DriftKind.PLAN,
            subject=account.external_id,
            account=account,
            field="plan",
            ours={"plan": "team", "system_of_record": "product"},
            theirs={"plan": "business", "subscription": "sub_1"},
            summary="plan: team here, business in Stripe",
        )
    return drift


PAGES = [
    "admin:accounts_reconciliationrun_changelist",
    "admin:accounts_billingdrift_changelist",
    "admin:accounts_stripeevent_changelist",
]


@pytest.mark.django_db
@pytest.mark.parametrize("role", [roles.BILLING, roles.OPS_LEAD])
@pytest.mark.parametrize("page", PAGES)
def test_billing_and_ops_leads_read_the_billing_pages(console_for, role, page, plan_drift):
    assert console_for(role).get(reverse(page), secure=True).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("role", [roles.SUPPORT, roles.ENGINEERING, roles.LEADERSHIP])
@pytest.mark.parametrize("page", PAGES)
def test_other_staff_are_refused_the_billing_pages(console_for, role, page, plan_drift):
    # Drifts quote subscriptions and Stripe events carry payloads: billing state the account
    # page hides from these roles.
    assert console_for(role).get(reverse(page), secure=True).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("role", [roles.PRODUCT, None])
@pytest.mark.parametrize("page", PAGES)
def test_service_accounts_and_roleless_users_are_refused(console_for, role, page):
    response = console_for(role).get(reverse(page), secure=True)
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.django_db
@pytest.mark.parametrize("role", roles.STAFF_ROLES)
def test_no_role_may_add_change_or_delete_drift_or_runs(console_for, role, plan_drift):
    client = console_for(role)
    run, _ = reconciliation_start(target="crm", actor=system_user(SYSTEM_RECONCILER))
    for url in (
        reverse("admin:accounts_billingdrift_add"),
        reverse("admin:accounts_reconciliationrun_add"),
        reverse("admin:accounts_billingdrift_delete", args=[plan_drift.pk]),
        reverse("admin:accounts_reconciliationrun_delete", args=[run.pk]),
    ):
        assert client.post(url, {"post": "yes"}, secure=True).status_code == 403
    page = client.post(reverse("admin:accounts_billingdrift_change", args=[plan_drift.pk]), {}, secure=True)
    assert page.status_code == 403
    plan_drift.refresh_from_db()
    assert plan_drift.status == "open"


@pytest.mark.django_db
def test_reconciliation_page_shows_runs_and_drift_by_type_and_channel(console_for, plan_drift):
    reconciliation_start(target="stripe", mode="full", actor=system_user(SYSTEM_RECONCILER))
    html = (
        console_for(roles.BILLING)
        .get(reverse("admin:accounts_reconciliationrun_changelist"), secure=True)
        .content.decode()
    )
    assert "Open drift by type" in html and "Open drift by channel" in html
    assert "Plan mismatch" in html and plan_drift.account.channel.name in html
    assert "Running" in html  # the run just started, with its phase
    assert "customers" in html


@pytest.mark.django_db
def test_billing_state_panel_names_the_owner_of_each_field_and_the_open_drift(plan_drift):
    account = plan_drift.account
    account.billing_status_source = SystemOfRecord.STRIPE
    account.save()
    state = billing_state(account)

    rows = {r.label: r for r in state.rows}
    assert rows["Plan"].system_of_record == "product" and rows["Plan"].drift == plan_drift
    assert rows["Billing status"].system_of_record == "stripe" and rows["Billing status"].drift is None
    assert rows["Stripe customer"].system_of_record == "stripe"
    html = render_to_string("accounts/billing_state_panel.html", {"billing_state": state})
    assert "Plan mismatch" in html and "reassign_plan" in html and "Last sync: never" in html
