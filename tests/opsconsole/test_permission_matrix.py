"""Role x action x object: who may run which guarded action on what, refused cases included.

The actions come from the registry, so every registered action is tried by every role: a new
action fails here until it has a case below and its roles are written into ALLOWED (the
expectation, written apart from the roles the action declares). Each case goes through
run_action as a dry run, so allowed cases change nothing; a refused role gets
PermissionRefused before any precondition is looked at.
"""

import pytest
from django.contrib.auth.models import Group
from guardian.shortcuts import assign_perm

from accounts.choices import BillingStatus, DriftKind, SystemOfRecord
from accounts.models import OpsException
from opsconsole import roles
from opsconsole.actions.registry import all_actions
from opsconsole.actions.services import run_action
from opsconsole.errors import ApplicationError, PermissionRefused
from routing.models import KnownIssue
from routing.services import ticket_intake
from tests.helpers.billing import open_drift, reconcile, reconcile_crm, stored_stripe_event
from tests.helpers.tickets import TICKET_ACTIONS, ticket_ready_for

pytestmark = pytest.mark.django_db

BILLING_FIXES = {
    "adopt_stripe_value",
    "end_product_billing",
    "merge_stripe_customers",
    "link_stripe_customer",
}
# Known issues: support links tickets; only engineering and ops leads close them.
CLOSE_KNOWN_ISSUE = {"mark_known_issue_fixed", "mark_known_issue_wont_fix"}
LINK_KNOWN_ISSUE = "link_ticket_to_known_issue"
# Every operator role may work an exception (the owner team, the assignee or an ops lead: that
# object rule is tested in tests/accounts/test_exception_actions.py; here the user is the
# assignee, so only the role's permission can refuse).
EXCEPTION_WORK = {"acknowledge_exception", "await_customer", "reassign_exception", "resolve_exception"}
# Every staff role may work a ticket (TICKET_ACTIONS): the queue grant decides which.
ALLOWED = {
    "support": {
        "restart_import",
        "resend_invite",
        "mark_duplicate",
        "escalate_to_engineering",
        LINK_KNOWN_ISSUE,
        *EXCEPTION_WORK,
        *TICKET_ACTIONS,
    },
    "billing": {
        "reassign_plan",
        "replay_webhook",
        "push_to_crm",
        "escalate_to_engineering",
        *EXCEPTION_WORK,
        *BILLING_FIXES,
        *TICKET_ACTIONS,
    },
    # Engineering is where escalations go: it is not offered escalate_to_engineering.
    "engineering": {
        "restart_import",
        "replay_webhook",
        *EXCEPTION_WORK,
        LINK_KNOWN_ISSUE,
        *CLOSE_KNOWN_ISSUE,
        *TICKET_ACTIONS,
    },
    "ops_lead": {
        "push_to_crm",
        "escalate_to_engineering",
        *EXCEPTION_WORK,
        LINK_KNOWN_ISSUE,
        *CLOSE_KNOWN_ISSUE,
        *TICKET_ACTIONS,
    },
    # Reads reports and gates; even granted a queue, it works no ticket.
    "leadership": set(),
    "product": set(),
    "analytics": set(),
    None: set(),
}
ACTIONS = [action.name for action in all_actions()]


def test_every_role_is_in_the_matrix():
    assert set(ALLOWED) == {*roles.ALL_ROLES, None}


# --- One case per action: its target and input, on a state where the action applies --------


def _restart_import(fixture, account):
    return fixture("fail_import")(account, "timeout"), {}, {"note": "n"}


def _resolve_exception(fixture, account):
    return fixture("fail_import")(account, "timeout"), {"note": "done"}, {"note": "n"}


def _working(params):
    def _case(fixture, account):
        return fixture("fail_import")(account, "timeout"), params, {"note": "n"}

    return _case


def _escalate_to_engineering(fixture, account):
    return fixture("fail_import")(account, "timeout"), {"summary": "look"}, {"note": "n"}


def _mark_duplicate(fixture, account):
    return account, {"canonical": fixture("make_account")().external_id}, {}


def _replay_webhook(fixture, account):
    customer = {"id": "cus_m", "metadata": {"account_external_id": account.external_id}}
    stored_stripe_event("evt_matrix", "customer.created", customer)
    return account, {"stripe_event": "evt_matrix"}, {}


def _push_to_crm(fixture, account):
    fixture("hubspot").add_company(account, plan="enterprise", stage="opportunity")
    reconcile_crm()
    return account.billing_drift.get(status="open", kind="crm_plan_mismatch").exception, {}, {}


def _paying_customer(localstripe, account, *, link=True) -> str:
    customer = localstripe.create_customer(email=account.admin_email, account_external_id=account.external_id)
    localstripe.attach_card(customer["id"])
    localstripe.create_subscription(customer=customer["id"], plan="team")
    if link:
        account.stripe_customer_id = customer["id"]
        account.save()
    return customer["id"]


def _drift_exception(kind, account):
    reconcile()
    return open_drift(kind).get(subject=account.external_id).exception


def _adopt_stripe_value(fixture, account):
    _paying_customer(fixture("localstripe"), account)
    account.billing_status_source = SystemOfRecord.PRODUCT
    account.billing_status = BillingStatus.CANCELED
    account.save()
    return _drift_exception(DriftKind.BILLING_STATUS, account), {"note": "paid"}, {}


def _end_product_billing(fixture, account):
    fixture("localstripe")
    account.billing_status = BillingStatus.ACTIVE
    account.save()
    return _drift_exception(DriftKind.NO_SUBSCRIPTION, account), {"note": "gone"}, {}


def _merge_stripe_customers(fixture, account):
    localstripe = fixture("localstripe")
    kept = _paying_customer(localstripe, account)
    localstripe.create_customer(email="second@example.com", account_external_id=account.external_id)
    exception = _drift_exception(DriftKind.DUPLICATE_CUSTOMER, account)
    return exception, {"keep": kept, "note": "made twice"}, {}


def _link_stripe_customer(fixture, account):
    stray = fixture("localstripe").create_customer(email="stray@example.com")
    reconcile()
    return account, {"customer": stray["id"], "note": "same company"}, {}


def _ticket_case(name):
    """A ticket of ``account`` where ``name`` applies, in a queue every staff role is granted, so
    only the action permission can refuse."""

    def _case(fixture, account):
        system = fixture("system")
        ticket, _ = ticket_intake(
            source="matrix",
            external_id=name,
            account_external_id=account.external_id,
            requester_email="someone@customer.example",
            subject="Help",
            body="",
            actor=system,
        )
        for role in roles.STAFF_ROLES:
            assign_perm("routing.work_queue", Group.objects.get(name=role), ticket.queue)
        ticket = ticket_ready_for(name, ticket, actor=fixture("make_user")("ops_lead"))
        return ticket, TICKET_ACTIONS[name], {}

    return _case


def _known_issue_case(name):
    def _case(fixture, account):
        system = fixture("system")
        issue = KnownIssue.objects.create(title="Imports time out", error_codes=["import_timeout"])
        ticket, _ = ticket_intake(
            source="matrix",
            external_id=name,
            account_external_id=account.external_id,
            requester_email="someone@customer.example",
            subject="Import stuck",
            body="",
            actor=system,
        )
        for role in roles.STAFF_ROLES:
            assign_perm("routing.work_queue", Group.objects.get(name=role), ticket.queue)
        params = {
            LINK_KNOWN_ISSUE: {"ticket": ticket.pk},
            "mark_known_issue_fixed": {"release": "2026.12.1"},
            "mark_known_issue_wont_fix": {},
        }[name]
        return issue, params, {}

    return _case


CASES = {
    "restart_import": _restart_import,
    "resend_invite": lambda fixture, account: (account, {}, {}),
    "reassign_plan": lambda fixture, account: (account, {"plan": "starter"}, {}),
    "replay_webhook": _replay_webhook,
    "mark_duplicate": _mark_duplicate,
    "resolve_exception": _resolve_exception,
    "acknowledge_exception": _working({}),
    "await_customer": _working({"note": "asked them to reconnect"}),
    "reassign_exception": _working({"team": "engineering", "reason": "needs a look"}),
    "escalate_to_engineering": _escalate_to_engineering,
    "push_to_crm": _push_to_crm,
    "adopt_stripe_value": _adopt_stripe_value,
    "end_product_billing": _end_product_billing,
    "merge_stripe_customers": _merge_stripe_customers,
    "link_stripe_customer": _link_stripe_customer,
    **{name: _ticket_case(name) for name in TICKET_ACTIONS},
    **{name: _known_issue_case(name) for name in (LINK_KNOWN_ISSUE, *CLOSE_KNOWN_ISSUE)},
}


@pytest.fixture
def case(request, account):
    """``case(name)``: the target, parameters and evidence of one action, built only for it."""

    def _build(name):
        if name not in CASES:
            pytest.fail(f"{name} is registered but has no case here: add one, and its roles to ALLOWED.")
        return CASES[name](request.getfixturevalue, account)

    return _build


def _attempt(name, case, user):
    target, params, evidence = case(name)
    if isinstance(target, OpsException) and name in EXCEPTION_WORK:
        # The assignee may work it whatever their team: only the role's permission decides here.
        OpsException.objects.filter(pk=target.pk).update(owner_user=user)
        target.refresh_from_db()
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
