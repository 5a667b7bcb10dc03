"""The main changelists at scale: a constant number of queries whatever the rows shown (no N+1),
no full COUNT(*), and searches that find by prefix and by contains.

Rows come from the bulk loader (``bench.bulk``: accounts with their timelines, steps,
exceptions and tickets, as the services would have made them), plus action runs and outbox
messages written directly.
"""

import re
import uuid
from datetime import UTC, datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Account, AccountEvent, OpsException
from bench.bulk import bulk_generate
from opsconsole.adminkit import EstimatedCountPaginator
from opsconsole.history import SYSTEM_SEEDER, system_user
from opsconsole.models import ActionRun, OutboxMessage
from routing.models import Ticket
from tests.helpers.clients import logged_in

ANCHOR = datetime(2026, 11, 20, tzinfo=UTC)
CHANGELISTS = {
    "accounts": "/accounts/account/",
    "exceptions": "/accounts/opsexception/",
    "tickets": "/routing/ticket/",
    "events": "/accounts/accountevent/",
    "action runs": "/opsconsole/actionrun/",
    "outbox": "/opsconsole/outboxmessage/",
}
_FULL_COUNT = re.compile(r"SELECT COUNT\(\*\)", re.IGNORECASE)


def load(count: int, user) -> None:
    """``count`` accounts (idempotent: the first ones stay), and one run and one outbox
    message for each."""
    bulk_generate(
        seed=3,
        count=count,
        anchor=ANCHOR,
        actor=system_user(SYSTEM_SEEDER),
        prefix="scale",
        days=30,
        workers=1,
    )
    account_type = ContentType.objects.get_for_model(Account)
    for account in Account.objects.filter(action_runs__isnull=True)[:count]:
        run = ActionRun.objects.create(
            action="reassign_plan",
            actor=user,
            target_type=account_type,
            target_id=str(account.pk),
            target_repr=account.name,
            account=account,
            entry_point="admin",
            idempotency_key=str(uuid.uuid4()),
            status="succeeded",
        )
        OutboxMessage.objects.create(
            command="plan.change", action_run=run, account=account, dedupe_key=run.pk
        )


def queries_of(client, url) -> list[dict]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, secure=True)
    assert response.status_code == 200, url
    return captured.captured_queries


@pytest.fixture
def admin_client(django_user_model):
    user = django_user_model.objects.create_superuser("scale-admin", "scale@example.com", "pw-for-tests-only")
    return logged_in(user), user


@pytest.mark.django_db
def test_main_changelists_query_the_same_for_10_and_100_rows_and_never_count_them_all(admin_client, settings):
    client, user = admin_client
    load(10, user)
    with_10 = {name: queries_of(client, url) for name, url in CHANGELISTS.items()}
    load(100, user)
    assert (
        Account.objects.count() >= 100 and Ticket.objects.count() > 10 and OpsException.objects.count() > 10
    )
    assert AccountEvent.objects.count() > 1000
    with_100 = {name: queries_of(client, url) for name, url in CHANGELISTS.items()}
    for name in CHANGELISTS:
        assert len(with_100[name]) == len(with_10[name]), (name, [q["sql"][:120] for q in with_100[name]])
        full = [
            q["sql"] for q in with_100[name] if _FULL_COUNT.search(q["sql"]) and " LIMIT " not in q["sql"]
        ]
        assert not full, (name, full)


@pytest.mark.django_db
def test_searches_find_by_id_prefix_email_prefix_and_name(admin_client):
    client, user = admin_client
    load(30, user)
    account = Account.objects.get(external_id="scale_000017")
    word = account.name.split()[1]
    for term in ("scale_00001", account.admin_email.upper()[:8], word.lower()):
        page = client.get(f"/accounts/account/?q={term}", secure=True).content.decode()
        assert account.external_id in page, term
    page = client.get("/accounts/account/?q=scale_00002", secure=True).content.decode()
    assert "scale_000021" in page and "scale_000017" not in page
    # A related field: the account's exceptions and events by its id's prefix.
    exception = OpsException.objects.filter(account__external_id__startswith="scale_").first()
    page = client.get(f"/accounts/opsexception/?q={exception.account.external_id}", secure=True)
    assert f"/accounts/opsexception/{exception.pk}/change/" in page.content.decode()
    event = AccountEvent.objects.filter(account=account).first()
    page = client.get("/accounts/accountevent/?q=scale_000017", secure=True).content.decode()
    assert event.type in page and "scale_000018" not in page


@pytest.mark.django_db
def test_the_paginator_counts_small_lists_exactly_and_estimates_big_ones(admin_client):
    _, user = admin_client
    load(20, user)
    events = AccountEvent.objects.all()
    assert EstimatedCountPaginator(events, 100).count == events.count()  # small: exact
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE accounts_accountevent")
    EstimatedCountPaginator.EXACT_BELOW, saved = 10, EstimatedCountPaginator.EXACT_BELOW
    try:
        estimated = EstimatedCountPaginator(events, 100).count
    finally:
        EstimatedCountPaginator.EXACT_BELOW = saved
    assert estimated == pytest.approx(events.count(), rel=0.2)
