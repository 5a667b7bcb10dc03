"""The stored duplicate-workspace candidate flag (``AccountFacts.namesake_candidate``) equals
its definition, computed here independently, after every write that can move it: a signup,
a mark, the reversal of a mark; a rebuild changes nothing; two signups of one name at once
still flag the second."""

import random
import threading
import time

import pytest
from django.db import transaction

from accounts.models import Account
from accounts.services import account_mark_duplicate
from opsconsole.actions.services import action_run_reverse, approval_decide, run_action
from opsconsole.bulk import update_rows_with_history
from opsconsole.history import acting_as
from reports.facts import facts_rebuild
from reports.models import AccountFacts
from tests.helpers.race import run_together


def _truth() -> dict[int, bool]:
    """Each account: not marked, and an unmarked account of a lower id has its name and admin
    email domain, case aside."""
    accounts = Account.objects.order_by("pk").values("pk", "name", "admin_email", "duplicate_of_id")
    seen_unmarked: set[tuple[str, str]] = set()
    found = {}
    for a in accounts:
        key = (a["name"].lower(), a["admin_email"].split("@", 1)[1].lower())
        unmarked = a["duplicate_of_id"] is None
        found[a["pk"]] = unmarked and key in seen_unmarked
        if unmarked:
            seen_unmarked.add(key)
    return found


def _stored() -> dict[int, bool]:
    return dict(AccountFacts.objects.values_list("account_id", "namesake_candidate"))


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_flag_follows_signups_marks_and_reversals(seed, make_account, make_user, system):
    rng = random.Random(seed)
    names, domains = ("Acme", "acme", "ACME ", "Globex"), ("acme.io", "ACME.io", "globex.com")
    accounts = []
    for n in range(14):
        local = rng.choice(("ops", "Admin", "it"))
        accounts.append(make_account(name=rng.choice(names), admin_email=f"{local}{n}@{rng.choice(domains)}"))
        assert _stored() == _truth()
    assert any(_truth().values())  # the draw made candidates to follow

    marked = rng.sample(accounts, 4)
    for account in marked[:3]:
        canonical = rng.choice([a for a in accounts if a not in marked])
        account_mark_duplicate(account=account, canonical=canonical, actor=system)
        assert _stored() == _truth()

    # A mark through the guarded action, approved, then reversed: the account is unmarked again.
    support, lead = make_user("support"), make_user("ops_lead")
    canonical = next(a for a in accounts if a not in marked)
    run = run_action(
        name="mark_duplicate",
        target=marked[3],
        actor=support,
        params={"canonical": canonical.external_id},
        idempotency_key=f"dup-{seed}",
    ).run
    approval_decide(approval=run.approval, approve=True, actor=lead)
    assert Account.objects.get(pk=marked[3].pk).duplicate_of_id == canonical.pk
    assert _stored() == _truth()
    run.refresh_from_db()
    action_run_reverse(run=run, actor=support)
    assert Account.objects.get(pk=marked[3].pk).duplicate_of_id is None
    assert _stored() == _truth()

    before = _stored()
    facts_rebuild()
    assert _stored() == before


@pytest.mark.django_db
def test_marking_the_first_of_two_namesakes_clears_the_second(make_account, system):
    first = make_account(name="Initech", admin_email="bill@initech.com")
    second = make_account(name="INITECH", admin_email="peter@Initech.com")
    other = make_account(name="Initrode", admin_email="a@initech.com")
    assert _stored()[second.pk] is True and _stored()[first.pk] is False and _stored()[other.pk] is False
    account_mark_duplicate(account=first, canonical=other, actor=system)
    assert _stored()[second.pk] is False  # its only earlier namesake is marked now


# serialized_rollback: the flush after a transactional test would drop the rows the migrations
# seed that later tests rely on.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_signups_of_one_name_at_once_flag_the_second(make_account):
    make_account()  # the system user, channel and caches, outside the race
    first_created = threading.Event()

    def sign_up(i: int) -> int:
        if i == 0:
            with transaction.atomic():
                account = make_account(name="Hooli", admin_email="gavin@hooli.com")
                first_created.set()
                time.sleep(0.5)  # the second signs up meanwhile, before this one commits
            return account.pk
        assert first_created.wait(10)
        return make_account(name="hooli", admin_email="richard@hooli.com").pk

    first, second = run_together(2, sign_up)
    assert first < second
    assert _stored()[second] is True and _stored()[first] is False


@pytest.mark.django_db
def test_bulk_marks_a_rebuild_and_a_deletion_keep_the_flags(make_account, system):
    first = make_account(name="Pied Piper", admin_email="richard@piedpiper.com")
    second = make_account(name="pied piper", admin_email="dinesh@PiedPiper.com")
    third = make_account(name="PIED PIPER", admin_email="gilfoyle@piedpiper.com")
    assert _stored() == _truth() and _stored()[second.pk] and _stored()[third.pk]

    row = Account.objects.get(pk=second.pk)
    row.duplicate_of = first
    with acting_as(system):
        update_rows_with_history([row], ["duplicate_of"])  # a bulk mark
    assert _stored() == _truth() and not _stored()[second.pk] and _stored()[third.pk]

    AccountFacts.objects.update(namesake_candidate=False)  # drifted, as after a load behind the services
    facts_rebuild()
    assert _stored() == _truth() and _stored()[third.pk]

    Account.objects.filter(pk=second.pk).update(duplicate_of=None)  # not through the services:
    facts_rebuild()  # ... so rebuilt, as the README says
    Account.objects.get(pk=first.pk).delete()  # the original goes: the next one is the first now
    assert _stored() == _truth() and not _stored()[second.pk] and _stored()[third.pk]
