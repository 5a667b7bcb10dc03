"""The console's account pages: read-only for accounts, services behind every change."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.choices import ExceptionStatus, ProvisioningStatus
from accounts.models import Account, Channel, OpsException, ReasonCode
from accounts.selectors import provisioning_status
from accounts.services import EventInput, account_events_record, catalogue, exception_open, exception_resolve
from opsconsole.errors import Conflict
from tests.helpers.clients import logged_in


def _failed_import(account, actor):
    account_events_record(
        account=account,
        events=[
            EventInput(
                f"{account.external_id}:imp", "import.failed", account.signed_up_at + timedelta(hours=1)
            )
        ],
        actor=actor,
    )
    return account.exceptions.get(reason_code__code="import_failed")


def test_support_gets_the_read_only_account_page_and_cannot_save(console_for, account, system):
    _failed_import(account, system)
    support = console_for("support")
    url = reverse("admin:accounts_account_change", args=[account.pk])

    page = support.get(url)

    assert page.status_code == 200
    html = page.content.decode()
    assert account.external_id in html
    assert "Provisioning steps" in html and "import_failed" in html
    timeline = support.get(
        reverse("admin:accounts_accountevent_changelist"), {"account__id__exact": account.pk}
    )
    assert timeline.status_code == 200 and "import.failed" in timeline.content.decode()
    assert 'name="_save"' not in html  # no save button, no edit form
    assert '<input type="text" name="name"' not in html
    before = Account.objects.get(pk=account.pk)
    response = support.post(url, {"name": "Renamed by support", "admin_email": "x@example.com"})
    assert response.status_code == 403
    assert Account.objects.get(pk=account.pk).name == before.name
    assert support.get(reverse("admin:accounts_account_add")).status_code == 403


def test_ops_lead_has_no_account_edit_form_either(console_for, account):
    ops_lead = console_for("ops_lead")
    response = ops_lead.post(
        reverse("admin:accounts_account_change", args=[account.pk]), {"name": "Renamed by ops"}
    )
    assert response.status_code == 403
    assert Account.objects.get(pk=account.pk).name == account.name


def test_support_without_view_billing_does_not_see_stripe_ids(console_for, make_account):
    account = make_account()
    url = reverse("admin:accounts_account_change", args=[account.pk])
    assert "stripe_customer_id" not in console_for("support").get(url).content.decode()
    assert "Billing details" in console_for("billing").get(url).content.decode()


@pytest.mark.parametrize("role", ["support", "billing", "engineering", "ops_lead"])
def test_the_exception_page_has_no_status_form_the_actions_change_it(console_for, account, system, role):
    """Invariant 2: no Status field; a POST to the change page is refused and changes nothing."""
    exception = _failed_import(account, system)
    client = console_for(role)
    url = reverse("admin:accounts_opsexception_change", args=[exception.pk])

    page = client.get(url).content.decode()
    assert 'name="status"' not in page and "_save" not in page
    assert "through the actions below" in page

    refused = client.post(url, {"status": ExceptionStatus.WAITING_ON_CUSTOMER})
    assert refused.status_code == 403
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.OPEN and exception.first_response_at is None
    assert exception.history.count() == 1


def test_the_exception_list_has_no_bulk_status_actions(console_for, account, system):
    exception = _failed_import(account, system)
    support = console_for("support")
    page = support.get(reverse("admin:accounts_opsexception_changelist")).content.decode()
    assert "mark_waiting_on_customer" not in page
    support.post(
        reverse("admin:accounts_opsexception_changelist"),
        {"action": "mark_waiting_on_customer", "_selected_action": [exception.pk]},
    )
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.OPEN


def test_history_revert_is_refused(console_for, account, system):
    exception = _failed_import(account, system)
    ops_lead = console_for("ops_lead")
    first = exception.history.earliest()
    url = reverse("admin:accounts_opsexception_simple_history", args=[exception.pk, first.history_id])
    assert (
        ops_lead.get(reverse("admin:accounts_opsexception_history", args=[exception.pk])).status_code == 200
    )
    assert ops_lead.post(url, {"status": ExceptionStatus.ESCALATED}).status_code == 403


@pytest.fixture
def enterprise_account(make_account, make_channel):
    return make_account(shape="enterprise", channel=make_channel("outbound", kind="outbound"))


def test_approval_by_ops_lead_works(console_for, enterprise_account):
    assert provisioning_status(enterprise_account).status == ProvisioningStatus.UNDER_REVIEW
    ops_lead = console_for("ops_lead")
    page = ops_lead.get(reverse("admin:accounts_account_change", args=[enterprise_account.pk]))
    assert "Approve account" in page.content.decode()

    response = ops_lead.post(
        reverse("admin:accounts_account_approve", args=[enterprise_account.pk]),
        {"note": "Checked the contract"},
    )

    assert response.status_code == 302
    assert provisioning_status(enterprise_account).status != ProvisioningStatus.UNDER_REVIEW
    approved = enterprise_account.events.get(type="account.approved")
    assert approved.recorded_by == ops_lead.user
    assert approved.payload["note"] == "Checked the contract"
    review = enterprise_account.exceptions.get(reason_code__code="enterprise_review")
    assert review.status == ExceptionStatus.RESOLVED


def test_approval_by_support_is_refused(console_for, enterprise_account):
    support = console_for("support")
    page = support.get(reverse("admin:accounts_account_change", args=[enterprise_account.pk]))
    assert "Approve account" not in page.content.decode()

    response = support.post(reverse("admin:accounts_account_approve", args=[enterprise_account.pk]))

    assert response.status_code == 403
    assert provisioning_status(enterprise_account).status == ProvisioningStatus.UNDER_REVIEW
    assert not enterprise_account.events.filter(type="account.approved").exists()


def test_approving_an_account_that_needs_no_review_is_a_message_not_a_500(console_for, account):
    ops_lead = console_for("ops_lead")
    response = ops_lead.post(reverse("admin:accounts_account_approve", args=[account.pk]), follow=True)
    assert response.status_code == 200
    assert "does not need approval" in response.content.decode()


def test_bulk_approve_action_needs_the_permission(console_for, enterprise_account):
    changelist = reverse("admin:accounts_account_changelist")
    data = {"action": "approve_selected", "_selected_action": [enterprise_account.pk]}
    console_for("support").post(changelist, data)
    assert provisioning_status(enterprise_account).status == ProvisioningStatus.UNDER_REVIEW
    console_for("ops_lead").post(changelist, data)
    assert provisioning_status(enterprise_account).status != ProvisioningStatus.UNDER_REVIEW


def test_ops_lead_edits_reason_code_texts_only(console_for):
    ops_lead = console_for("ops_lead")
    reason = ReasonCode.objects.get(code="token_expired")
    url = reverse("admin:accounts_reasoncode_change", args=[reason.pk])
    ops_lead.post(
        url,
        {
            "title": reason.title,
            "customer_message": "Your Google token expired; reconnect it.",
            "customer_next_action": reason.customer_next_action,
            "owner_team": "billing",  # read-only on the page: ignored
        },
    )
    reason.refresh_from_db()
    assert reason.customer_message == "Your Google token expired; reconnect it."
    assert reason.owner_team == "support"
    assert reason.history.latest().history_user == ops_lead.user
    support = console_for("support")
    assert support.post(url, {"title": "x"}).status_code == 403


def test_the_exception_list_filters_overdue_exceptions(console_for, make_account, system):
    now = timezone.now()
    late = make_account(signed_up_at=now - timedelta(days=5))
    _failed_import(late, system)  # an hour after signup: long past its response target
    fresh = make_account()
    exception_open(account=fresh, reason_code="unclear_setup_step", actor=system)
    support = console_for("support")
    url = reverse("admin:accounts_opsexception_changelist")

    overdue = support.get(url, {"overdue": "yes"}).content.decode()
    within = support.get(url, {"overdue": "no"}).content.decode()

    assert late.external_id in overdue and fresh.external_id not in overdue
    assert fresh.external_id in within and late.external_id not in within
    assert "overdue" in overdue  # the respond-by column says so


def test_account_list_has_a_fixed_number_of_queries(console_for, make_account, system):
    support = console_for("support")
    url = reverse("admin:accounts_account_changelist")
    make_account()
    with CaptureQueriesContext(connection) as few:
        assert support.get(url).status_code == 200
    for _ in range(6):
        account = make_account()
        exception_open(account=account, reason_code="unclear_setup_step", actor=system)
    with CaptureQueriesContext(connection) as many:
        response = support.get(url)
    assert response.status_code == 200
    assert len(many) == len(few)


def test_exception_list_has_a_fixed_number_of_queries(console_for, make_account, system):
    support = console_for("support")
    url = reverse("admin:accounts_opsexception_changelist")
    exception_open(account=make_account(), reason_code="unclear_setup_step", actor=system)
    with CaptureQueriesContext(connection) as few:
        assert support.get(url).status_code == 200
    for _ in range(6):
        exception_open(account=make_account(), reason_code="unclear_setup_step", actor=system)
    with CaptureQueriesContext(connection) as many:
        assert support.get(url).status_code == 200
    assert len(many) == len(few)


def test_service_tokens_page_never_shows_key_material(api_client_for, django_user_model):
    client = api_client_for("product")
    admin_user = django_user_model.objects.create_superuser("root", "root@example.com", "pw-for-tests")
    console = logged_in(admin_user)
    html = console.get(
        reverse("admin:opsconsole_servicetoken_change", args=[client.token.pk])
    ).content.decode()
    assert client.token.key_prefix in html
    assert client.token.key_hash not in html
    assert console.post(reverse("admin:opsconsole_servicetoken_add")).status_code == 403


def test_ops_lead_adds_and_edits_a_channel_through_the_services(console_for):
    ops_lead = console_for("ops_lead")
    form = {"code": "capterra", "name": "Capterra", "kind": "marketplace", "partner_name": ""}

    response = ops_lead.post(reverse("admin:accounts_channel_add"), {**form, "support_sla_minutes": ""})

    assert response.status_code == 302
    channel = Channel.objects.get(code="capterra")
    assert channel.history.get().history_user == ops_lead.user
    ops_lead.post(
        reverse("admin:accounts_channel_change", args=[channel.pk]),
        {**form, "code": "renamed", "name": "Capterra reviews", "support_sla_minutes": "90"},
    )
    channel.refresh_from_db()
    assert (channel.code, channel.name, channel.support_sla_minutes) == ("capterra", "Capterra reviews", 90)
    assert channel.history.latest().history_user == ops_lead.user


def test_a_duplicate_channel_code_is_a_form_error_not_a_500(console_for, channel):
    ops_lead = console_for("ops_lead")
    response = ops_lead.post(
        reverse("admin:accounts_channel_add"), {"code": channel.code, "name": "Again", "kind": "organic"}
    )
    assert response.status_code == 200
    assert Channel.objects.filter(code=channel.code).count() == 1


def test_support_cannot_add_channels(console_for):
    support = console_for("support")
    response = support.post(
        reverse("admin:accounts_channel_add"), {"code": "x", "name": "X", "kind": "organic"}
    )
    assert response.status_code == 403
    assert not Channel.objects.filter(code="x").exists()


def test_a_refused_channel_create_is_a_message_not_a_500(console_for, monkeypatch):
    def refuse(**kwargs):
        raise Conflict("channel_exists", "A channel with code 'late' already exists.")

    monkeypatch.setattr(catalogue, "channel_create", refuse)
    response = console_for("ops_lead").post(
        reverse("admin:accounts_channel_add"),
        {"code": "late", "name": "Late", "kind": "organic"},
        follow=True,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "already exists" in html and "was added successfully" not in html
    assert not Channel.objects.filter(code="late").exists()


@pytest.mark.django_db
def test_exception_list_opens_on_unresolved_work_most_overdue_first(console_for, make_account, system):
    later = exception_open(account=make_account(), reason_code="invite_expired", actor=system)
    overdue = exception_open(account=make_account(), reason_code="import_failed", actor=system)
    resolved = exception_open(account=make_account(), reason_code="invite_expired", actor=system)
    OpsException.objects.filter(pk=overdue.pk).update(respond_by=timezone.now() - timedelta(hours=3))
    exception_resolve(exception=resolved, note="done", actor=system)
    client = console_for("support")

    html = client.get(reverse("admin:accounts_opsexception_changelist")).content.decode()
    listed = [int(pk) for pk in dict.fromkeys(re.findall(r"/accounts/opsexception/(\d+)/change/", html))]
    assert listed == [overdue.pk, later.pk]
    assert "Unresolved (default)" in html

    everything = client.get(reverse("admin:accounts_opsexception_changelist"), {"status": "all"})
    assert f"/accounts/opsexception/{resolved.pk}/change/" in everything.content.decode()
