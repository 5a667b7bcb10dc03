"""The roles exist after migrate, each with the permissions its patterns give and no more."""

import pytest
from django.contrib.auth.models import Group, Permission

from opsconsole import roles
from opsconsole.actions import registry
from opsconsole.actions.permissions import action_permissions_create
from opsconsole.actions.registry import all_actions

pytestmark = pytest.mark.django_db


def perms_of(role):
    group = Group.objects.get(name=role)
    return {
        f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")
    }


def test_every_role_exists_after_migrate():
    assert set(Group.objects.filter(name__in=roles.ALL_ROLES).values_list("name", flat=True)) == set(
        roles.ALL_ROLES
    )


# (role, permission, granted). The refused cases matter as much as the granted ones.
MATRIX = [
    ("support", "accounts.view_account", True),
    ("support", "accounts.change_opsexception", True),
    ("support", "accounts.change_account", False),
    ("support", "accounts.add_account", False),
    ("support", "accounts.delete_account", False),
    ("support", "accounts.approve_account", False),
    ("support", "accounts.view_billing", False),
    ("support", "accounts.change_reasoncode", False),
    ("billing", "accounts.view_billing", True),
    ("billing", "accounts.change_account", False),
    ("billing", "accounts.approve_account", False),
    ("engineering", "accounts.view_accountevent", True),
    ("engineering", "accounts.change_account", False),
    ("engineering", "accounts.view_billing", False),
    ("ops_lead", "accounts.approve_account", True),
    ("ops_lead", "accounts.change_reasoncode", True),
    ("ops_lead", "accounts.change_channel", True),
    ("ops_lead", "accounts.view_billing", True),
    ("ops_lead", "accounts.change_account", False),
    ("ops_lead", "accounts.delete_account", False),
    ("ops_lead", "opsconsole.view_servicetoken", True),
    ("ops_lead", "opsconsole.change_servicetoken", False),
    ("product", "accounts.add_account", True),
    ("product", "accounts.add_accountevent", True),
    ("product", "accounts.view_opsexception", False),
    ("product", "accounts.change_account", False),
    ("product", "reports.view_dashboard", False),
    # The channel dashboard and the reports API: ops leads, leadership and analytics only.
    ("ops_lead", "reports.view_dashboard", True),
    ("leadership", "reports.view_dashboard", True),
    ("leadership", "accounts.view_account", True),
    ("leadership", "accounts.view_billing", False),
    ("leadership", "accounts.change_opsexception", False),
    ("leadership", "opsconsole.run_resolve_exception", False),
    ("leadership", "opsconsole.run_take_ticket", False),
    ("analytics", "reports.view_dashboard", True),
    ("analytics", "accounts.view_account", False),
    ("analytics", "accounts.add_account", False),
    ("support", "reports.view_dashboard", False),
    ("billing", "reports.view_dashboard", False),
    ("engineering", "reports.view_dashboard", False),
]


@pytest.mark.parametrize(("role", "permission", "granted"), MATRIX)
def test_role_permission_matrix(make_user, role, permission, granted):
    assert make_user(role).has_perm(permission) is granted


@pytest.mark.parametrize("role", roles.ALL_ROLES)
def test_no_role_may_write_history(role):
    assert not any(
        p.split(".")[1].startswith(("add_historical", "change_historical", "delete_historical"))
        for p in perms_of(role)
    )


@pytest.mark.parametrize("role", [r for r in roles.ALL_ROLES if r not in ("billing", "ops_lead")])
def test_billing_details_are_granted_by_name_only(role):
    assert "accounts.view_billing" not in perms_of(role)


def test_sync_is_idempotent_and_repairs_a_role():
    before = {role: perms_of(role) for role in roles.ALL_ROLES}
    support = Group.objects.get(name="support")
    support.permissions.add(Permission.objects.get(codename="change_account"))

    roles.sync_roles()
    roles.sync_roles()

    assert {role: perms_of(role) for role in roles.ALL_ROLES} == before


def test_a_registered_action_brings_its_permission_to_the_roles_it_names(monkeypatch, make_user):
    """No migration and no edit in opsconsole: the registry is enough."""

    support, engineering = roles.SUPPORT, roles.ENGINEERING

    class Ping(registry.Action):
        name = "ping_account"
        label = "Ping"
        target_model = "accounts.Account"
        roles = (support,)
        extra_permissions = {"ping_twice": ("Can ping again", (engineering,))}

        def perform(self, ctx):
            return {}

    monkeypatch.setitem(registry._REGISTRY, Ping.name, Ping())
    action_permissions_create()
    roles.sync_roles()

    assert make_user("support").has_perm("opsconsole.run_ping_account")
    assert not make_user("billing").has_perm("opsconsole.run_ping_account")
    assert make_user("engineering").has_perm("opsconsole.ping_twice")
    assert not make_user("support").has_perm("opsconsole.ping_twice")


def test_every_registered_action_has_its_permission_and_a_role_that_holds_it():

    for action in all_actions():
        assert action.roles, f"{action.name} names no role that may run it"
        holders = {role for role in roles.ALL_ROLES if action.permission in perms_of(role)}
        assert holders == set(action.roles), action.name
