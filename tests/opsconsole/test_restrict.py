"""One way to restrict: the model permission shows every row, guardian grants show theirs, and
rows whose access follows a parent (an exception its account, a run the account it acted on)
follow that parent's grants."""

import pytest
from django.contrib.auth.models import Permission
from guardian.shortcuts import assign_perm

from accounts.models import Account, OpsException
from opsconsole.actions.services import run_action
from opsconsole.models import ActionApproval, ActionRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner_manager(make_user):
    """A user with no role, given accounts one by one, and the permission to run one action."""
    user = make_user(None)
    user.user_permissions.add(Permission.objects.get(codename="run_resolve_exception"))
    return user


def test_a_role_sees_every_row(make_account, make_user, fail_import):
    exception = fail_import(make_account())
    support = make_user("support")
    assert Account.objects.restrict(support).count() == Account.objects.count()
    assert list(OpsException.objects.restrict(support)) == [exception]


def test_nobody_and_inactive_users_see_nothing(account, make_user):
    inactive = make_user("support", is_active=False)
    assert not Account.objects.restrict(None).exists()
    assert not Account.objects.restrict(inactive).exists()


def test_grants_open_an_account_its_exceptions_and_the_runs_on_it(
    make_account, make_user, fail_import, partner_manager
):
    mine, other = make_account(), make_account()
    my_exception, other_exception = fail_import(mine), fail_import(other)
    support = make_user("support")
    for exception in (my_exception, other_exception):
        run_action(
            name="resolve_exception",
            target=exception,
            actor=support,
            params={"note": "done"},
            evidence={"note": "n"},
            idempotency_key=f"k{exception.pk}",
        )
    assign_perm("accounts.view_account", partner_manager, mine)
    user = type(partner_manager).objects.get(pk=partner_manager.pk)

    assert list(Account.objects.restrict(user)) == [mine]
    assert list(OpsException.objects.restrict(user)) == [my_exception]
    assert [run.account for run in ActionRun.objects.restrict(user)] == [mine]
    assert OpsException.objects.allows(user, my_exception)
    assert not OpsException.objects.allows(user, other_exception)
    assert not ActionApproval.objects.restrict(user).exists()
