"""The page-at-a-time writers: one statement for many rows, history per row, same rules as
the ORM (unique constraints, column lengths)."""

import uuid

import pytest
from django.db import DataError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Account, AccountEvent
from opsconsole.bulk import insert_rows, update_rows_with_history
from opsconsole.history import SYSTEM_RECONCILER, acting_as, system_user


def timeline_row(account, event_id):
    return AccountEvent(
        event_id=event_id,
        account=account,
        channel_id=account.channel_id,
        source="stripe",
        type="billing.synced_from_stripe",
        occurred_at=timezone.now(),
        payload={"changes": {"plan": {"from": None, "to": "team"}}, "quote": 'it\'s "x"'},
        intake_id=uuid.uuid4(),
    )


@pytest.mark.django_db
def test_update_writes_each_row_and_one_history_row_each_by_the_actor(make_account):
    accounts = [make_account() for _ in range(3)]
    reconciler = system_user(SYSTEM_RECONCILER)
    for n, account in enumerate(accounts):
        account.stripe_customer_id = f"cus_bulk_{n}"
        account.mrr_cents = 1000 * (n + 1)
        account.name = "not written: not a listed field"

    with acting_as(reconciler), CaptureQueriesContext(connection) as queries:
        update_rows_with_history(accounts, ["stripe_customer_id", "mrr_cents"])

    # One UPDATE of the rows and one INSERT of their history rows; the reports' facts copy the
    # MRR in one more statement of their own (a rows_updated receiver).
    own = [q["sql"] for q in queries.captured_queries if "reports_accountfacts" not in q["sql"]]
    assert len(own) == 2 and len(queries.captured_queries) == 3
    for n, account in enumerate(accounts):
        stored = Account.objects.get(pk=account.pk)
        assert (stored.stripe_customer_id, stored.mrr_cents) == (f"cus_bulk_{n}", 1000 * (n + 1))
        assert stored.name != "not written: not a listed field"
        latest = stored.history.first()
        assert latest.history_type == "~" and latest.history_user == reconciler
        assert (latest.stripe_customer_id, latest.mrr_cents, latest.name) == (
            stored.stripe_customer_id,
            stored.mrr_cents,
            stored.name,
        )


@pytest.mark.django_db
def test_update_refuses_an_over_long_value_instead_of_truncating_it(make_account):
    accounts = [make_account() for _ in range(2)]
    accounts[1].stripe_customer_id = "c" * 500

    with pytest.raises(DataError), transaction.atomic():
        update_rows_with_history(accounts, ["stripe_customer_id"])

    assert not Account.objects.filter(stripe_customer_id__startswith="ccc").exists()


@pytest.mark.django_db
def test_insert_skips_rows_a_unique_constraint_turns_away(make_account):
    account = make_account()
    insert_rows([timeline_row(account, "bulk:1")], ignore_conflicts=True)

    with CaptureQueriesContext(connection) as queries:
        insert_rows([timeline_row(account, "bulk:1"), timeline_row(account, "bulk:2")], ignore_conflicts=True)

    assert len(queries.captured_queries) == 1
    stored = AccountEvent.objects.filter(event_id__startswith="bulk:").order_by("event_id")
    assert [e.event_id for e in stored] == ["bulk:1", "bulk:2"]
    assert stored[1].payload["quote"] == 'it\'s "x"' and stored[1].recorded_at is not None
