"""Role x action x object: who may run which guarded action on what, refused cases included.

Each case goes through run_action (as a dry run, so allowed cases change nothing): a refused
role gets PermissionRefused before any precondition is looked at.
"""

import pytest
from guardian.shortcuts import assign_perm

from opsconsole.actions.services import run_action
from opsconsole.errors import ApplicationError, PermissionRefused

pytestmark = pytest.mark.django_db

ALLOWED = {
    "support": {
        "restart_import",
        "resend_invite",
        "mark_duplicate",
        "resolve_exception",
        "escalate_to_engineering",
    },
    "billing": {
        "reassign_plan",
        "replay_webhook",
        "push_to_crm",
        "resolve_exception",
        "escalate_to_engineering",
    },
    "engineering": {"restart_import", "replay_webhook", "resolve_exception", "escalate_to_engineering"},
    "ops_lead": {"push_to_crm", "resolve_exception", "escalate_to_engineering"},
    "product": set(),
    None: set(),
}
ACTIONS = [
    "restart_import",
    "resend_invite",
    "reassign_plan",
    "replay_webhook",
    "mark_duplicate",
    "resolve_exception",
    "escalate_to_engineering",
    "push_to_crm",
]


@pytest.fixture
def case(account, make_account, fail_import, hubspot):
    """The target and input of each action, on a state where the action can apply."""
    from tests.helpers.billing import reconcile_crm
    from tests.opsconsole.test_actions import _stored_event

    exception = fail_import(account, "timeout")
    hubspot.add_company(account, plan="enterprise", stage="opportunity")
    reconcile_crm()
    crm_drift = account.billing_drift.get(status="open", kind="crm_plan_mismatch")
    canonical = make_account()
    customer = {"id": "cus_m", "metadata": {"account_external_id": account.external_id}}
    _stored_event("evt_matrix", "customer.created", customer)
    return {
        "restart_import": (exception, {}, {"note": "n"}),
        "resend_invite": (account, {}, {}),
        "reassign_plan": (account, {"plan": "starter"}, {}),
        "replay_webhook": (account, {"stripe_event": "evt_matrix"}, {}),
        "mark_duplicate": (account, {"canonical": canonical.external_id}, {}),
        "resolve_exception": (exception, {"note": "done"}, {"note": "n"}),
        "escalate_to_engineering": (exception, {"summary": "look"}, {"note": "n"}),
        "push_to_crm": (crm_drift.exception, {}, {}),
    }


def _attempt(name, case, user):
    target, params, evidence = case[name]
    return run_action(name=name, target=target, actor=user, params=params, evidence=evidence, dry_run=True)


@pytest.mark.parametrize("role", list(ALLOWED))
@pytest.mark.parametrize("name", ACTIONS)
def test_role_action_matrix(role, name, case, make_user):
    user = make_user(role)
    if name in ALLOWED[role]:
        try:
            outcome = _attempt(name, case, user)
        except ApplicationError as exc:  # pragma: no cover - the failure message is the point
            # Every case is set up so the action applies: any refusal here is a regression.
            pytest.fail(f"{role} was refused {name}: {exc.code}: {exc.message}")
        assert outcome.preview["action"] == name
    else:
        with pytest.raises(PermissionRefused) as info:
            _attempt(name, case, user)
        assert info.value.code == "action_not_permitted"


def test_object_level_access_follows_account_visibility(make_account, make_user):
    """A user with the action permission but no global view of accounts may act only on the
    accounts granted to them one by one (guardian)."""
    from django.contrib.auth.models import Permission

    mine, other = make_account(), make_account()
    user = make_user(None)
    user.user_permissions.add(Permission.objects.get(codename="run_reassign_plan"))
    assign_perm("accounts.view_account", user, mine)
    user = type(user).objects.get(pk=user.pk)
    preview = run_action(
        name="reassign_plan", target=mine, actor=user, params={"plan": "starter"}, dry_run=True
    )
    assert preview.preview["action"] == "reassign_plan"
    with pytest.raises(PermissionRefused) as info:
        run_action(name="reassign_plan", target=other, actor=user, params={"plan": "starter"}, dry_run=True)
    assert "access to this account" in info.value.message


def test_inactive_user_is_refused(account, make_user):
    user = make_user("billing")
    user.is_active = False
    user.save()
    with pytest.raises(PermissionRefused):
        run_action(name="reassign_plan", target=account, actor=user, params={"plan": "starter"}, dry_run=True)
