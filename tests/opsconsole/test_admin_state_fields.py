"""No admin change form saves a state field: for every registered ModelAdmin and every role,
the form the admin would build has no field of the model's declared state (an account's
lifecycle, billing and plan; an exception's status and owner; a ticket's status, queue and
owner; any field named ``status``), and POSTing state to the change pages changes nothing.
State moves through guarded actions and services, which record who and why (invariant 2)."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from accounts.choices import ExceptionStatus
from opsconsole import roles
from routing.services import ticket_intake
from tests.opsconsole.conftest import fail_import  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

# The state of each model staff work on: what only actions and services may change.
STATE_FIELDS = {
    "accounts.account": {
        "lifecycle_stage",
        "billing_status",
        "plan",
        "mrr_cents",
        "duplicate_of",
        "activated_at",
        "onboarding_path",
        "trial_ends_at",
        "stripe_customer_id",
        "stripe_subscription_id",
    },
    "accounts.opsexception": {
        "status",
        "owner_team",
        "owner_user",
        "first_response_at",
        "resolved_at",
        "resolved_by",
        "resolution_note",
        "respond_by",
    },
    "routing.ticket": {"status", "queue", "owner", "category", "severity", "final_category"},
}


def state_fields(model) -> set[str]:
    """The declared state of ``model``, plus every field that names a status on any model."""
    names = {f.name for f in model._meta.concrete_fields}
    declared = STATE_FIELDS.get(model._meta.label_lower, set())
    assert declared <= names, (model._meta.label, declared - names)  # no typo hides a field
    return declared | {n for n in names if n == "status" or n.endswith("_status") or n == "lifecycle_stage"}


@pytest.fixture
def some_of_everything(account, fail_import, system):  # noqa: F811
    fail_import(account, "timeout")
    ticket, _ = ticket_intake(
        source="audit",
        external_id="t1",
        account_external_id=account.external_id,
        requester_email="someone@customer.example",
        subject="Help",
        body="",
        actor=system,
    )
    return account, ticket


def _request(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def test_every_declared_model_is_in_the_admin():
    registered = {model._meta.label_lower for model in admin.site._registry}
    assert set(STATE_FIELDS) <= registered


@pytest.mark.parametrize("role", [*roles.STAFF_ROLES, "superuser"])
def test_no_admin_form_can_save_a_state_field(role, make_user, django_user_model, some_of_everything):
    if role == "superuser":
        user = django_user_model.objects.create_superuser("root", "root@example.com", "pw-for-tests-only")
    else:
        user = make_user(role)
    request = _request(user)
    offenders = []
    for model, model_admin in admin.site._registry.items():
        state = state_fields(model)
        if not state:
            continue
        obj = model._default_manager.first()
        forms = []
        if obj is not None and model_admin.has_change_permission(request, obj):
            forms.append(("change", obj))
        if model_admin.has_add_permission(request):
            forms.append(("add", None))
        for kind, instance in forms:
            form = model_admin.get_form(request, instance, change=instance is not None)
            editable = set(form.base_fields) & state
            if editable:
                offenders.append(f"{model._meta.label} {kind} form: {sorted(editable)}")
    assert not offenders, offenders


@pytest.mark.parametrize("role", roles.OPERATOR_ROLES)
def test_posting_state_to_the_change_pages_changes_nothing(role, console_for, some_of_everything):
    account, ticket = some_of_everything
    exception = account.exceptions.get()
    client = console_for(role)
    attempts = [
        (
            "accounts",
            "opsexception",
            exception,
            {"status": ExceptionStatus.ESCALATED, "owner_team": "billing"},
        ),
        (
            "accounts",
            "account",
            account,
            {"lifecycle_stage": "churned", "plan": "enterprise", "mrr_cents": 1},
        ),
        ("routing", "ticket", ticket, {"status": "solved", "severity": "sev1"}),
    ]
    for app_label, model_name, obj, data in attempts:
        model = apps.get_model(app_label, model_name)
        before = {f: getattr(model.objects.get(pk=obj.pk), f) for f in data}
        response = client.post(reverse(f"admin:{app_label}_{model_name}_change", args=[obj.pk]), data)
        assert response.status_code == 403, (model_name, response.status_code)
        after = {f: getattr(model.objects.get(pk=obj.pk), f) for f in data}
        assert after == before, model_name
