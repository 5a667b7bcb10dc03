"""Attribution: history rows name the actor, and reading history stays cheap."""

import pytest

from accounts.models import Account, OpsException
from opsconsole.history import AuditedHistoryManager, acting_as


def test_the_history_manager_class_is_built_once():
    assert type(Account.history) is type(Account.history)
    assert issubclass(type(Account.history), AuditedHistoryManager)
    # One class serves every model; each manager still reads its own model's history.
    assert Account.history.model is not OpsException.history.model
    assert Account.history.model.__name__ == "HistoricalAccount"


@pytest.mark.django_db
def test_history_names_the_actor_of_the_service(make_account, make_user):
    staff = make_user("ops_lead")
    account = make_account(actor=staff)
    assert account.history.get().history_user == staff


@pytest.mark.django_db
def test_acting_as_attributes_writes_outside_services(account, make_user):
    staff = make_user("support")
    with acting_as(staff):
        account.name = "Renamed in a data fix"
        account.save()
    assert account.history.latest().history_user == staff
