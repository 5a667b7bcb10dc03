"""Per-account facts: kept current by the lower layers' signals, in their transactions, and equal
to a rebuild from the raw tables."""

import random
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Account, StripeEvent
from accounts.services import (
    EventInput,
    account_events_record,
    account_events_record_batch,
    account_mark_duplicate,
    account_plan_change,
    exception_resolve,
)
from opsconsole.actions.registry import handling_minutes_of
from opsconsole.actions.services import action_run_reverse, approval_decide, run_action
from opsconsole.bulk import update_rows_with_history
from opsconsole.errors import ApplicationError
from opsconsole.history import acting_as, system_user
from opsconsole.models import ActionRun, ActionStatus
from opsconsole.services import service_token_issue
from reports.facts import facts_rebuild, is_person
from reports.funnel.journey import CHANGE_STRIPE_TYPES, STEP_EVENTS, STEP_FIELDS, TOUCH_FIELD
from reports.models import AccountFacts
from routing.services import escalation_create, ticket_intake
from tests.helpers.reports import build_company

pytestmark = pytest.mark.django_db

H, D = timedelta(hours=1), timedelta(days=1)


def _facts():
    return {row["account_id"]: row for row in AccountFacts.objects.values()}


def _facts_of(account):
    return AccountFacts.objects.get(pk=account.pk)


def _mark_duplicate(account, canonical, actor, *, key: str):
    return run_action(
        name="mark_duplicate",
        target=account,
        actor=actor,
        params={"canonical": canonical.external_id},
        idempotency_key=key,
    ).run


def _events(account, system, *items):
    events = [EventInput(event_id, kind, account.signed_up_at + offset) for event_id, kind, offset in items]
    account_events_record(account=account, events=events, actor=system)


JOURNEY_FIELDS = [*(f for f in STEP_FIELDS.values() if f != "signed_up_at"), TOUCH_FIELD]


def _journey_work(seed: int, company, system) -> None:
    """Every journey step's events (in random batches, late ones dated earlier than what came
    before), refunds and disputes processed for accounts, a person's run awaiting approval."""
    rng = random.Random(seed)
    types = [t for step_types in STEP_EVENTS.values() for t in step_types]
    for round_ in range(2):  # the second round arrives after the first, often dated earlier
        batch = []
        for account in rng.sample(company.accounts, k=len(company.accounts) * 2 // 3):
            for k in range(rng.randint(1, 4)):
                at = account.signed_up_at + timedelta(hours=rng.uniform(-3, 24 * 12) / (1 + 3 * round_))
                batch.append(
                    (account, EventInput(f"j{seed}-{round_}-{account.pk}-{k}", rng.choice(types), at))
                )
        rng.shuffle(batch)
        while batch:
            size = rng.randint(1, 10)
            account_events_record_batch(events=batch[:size], actor=system)
            batch = batch[size:]
    for n, account in enumerate(rng.sample(company.accounts, k=6)):
        # A refund or dispute processed for the account (no service sets its account yet).
        StripeEvent.objects.create(
            stripe_id=f"evt_{seed}_{n}",
            type=rng.choice([*CHANGE_STRIPE_TYPES, "invoice.paid"]),
            created=account.signed_up_at + timedelta(hours=rng.uniform(-5, 24 * 20)),
            payload={},
            via="webhook",
            account=account,
        )
    marked = set(Account.objects.filter(duplicate_of__isnull=False).values_list("pk", "duplicate_of_id"))
    apart = [a for a in company.accounts if not any(a.pk in pair for pair in marked)]
    run = run_action(
        name="mark_duplicate",
        target=apart[0],
        actor=company.people["support"],
        params={"canonical": apart[1].external_id},
        idempotency_key=f"awaiting-{seed}",
    ).run
    assert run.status == ActionStatus.AWAITING_APPROVAL  # a person's touch, though it has not run


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_facts_equal_a_rebuild_from_raw_data(seed, make_user, system):
    company = build_company(seed, make_user=make_user, system=system)
    _journey_work(seed, company, system)
    incremental = _facts()
    assert incremental  # one row per account, written as each account was created
    for name in JOURNEY_FIELDS:  # the journey's columns are exercised, not all empty
        assert any(row[name] is not None for row in incremental.values()), name

    written = facts_rebuild()

    assert written == len(incremental)
    assert _facts() == incremental


def test_a_rebuild_creates_missing_rows_and_repairs_drifted_ones(make_account, system):
    account, other = make_account(), make_account()
    _events(account, system, ("f1", "import.failed", 2 * H))
    AccountFacts.objects.filter(pk=account.pk).update(first_failure_at=None, tickets_7d=9)
    AccountFacts.objects.filter(pk=other.pk).delete()

    assert facts_rebuild(account_ids=[account.pk, other.pk]) == 2

    assert _facts_of(account).first_failure_at == account.signed_up_at + 2 * H
    assert _facts_of(account).tickets_7d == 0
    assert _facts_of(other).signed_up_at == other.signed_up_at


def test_a_rebuild_writes_new_rows_in_signup_order(make_account):
    # A bulk load creates accounts in any signup order; the rows a rebuild writes lie in signup
    # order, as the services' would, so a cohort's rows share pages.
    now = timezone.now()
    accounts = [make_account(signed_up_at=now - D * days) for days in (3, 9, 1, 7, 5)]
    table = AccountFacts._meta.db_table
    with connection.cursor() as cursor:
        # A fresh, empty heap (rolled back with the test): the free space earlier tests' rows
        # left in the table's pages would place new rows out of their insertion order.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no foreign-key check left pending
        cursor.execute(f"TRUNCATE {table}")

    facts_rebuild()

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT account_id FROM {table} ORDER BY ctid")
        physical = [row[0] for row in cursor.fetchall()]
    assert physical == [a.pk for a in sorted(accounts, key=lambda a: a.signed_up_at)]


def test_a_late_journey_event_dated_earlier_moves_the_steps_first_time_back(make_account, system):
    account = make_account()
    _events(account, system, ("w1", "workspace.provisioned", 5 * H), ("i1", "invite.sent", 30 * H))
    assert _facts_of(account).workspace_at == account.signed_up_at + 5 * H

    # Late, out of order: an earlier workspace event and a later one in the same batch.
    _events(
        account,
        system,
        ("w2", "workspace.provisioned", 2 * H),
        ("w3", "workspace.provisioned", H / 2 + 9 * H),
    )
    _events(account, system, ("w4", "workspace.provisioned", 3 * H), ("i2", "invite.accepted", 20 * H))

    facts = _facts_of(account)
    assert facts.workspace_at == account.signed_up_at + 2 * H
    assert facts.invited_at == account.signed_up_at + 20 * H  # either invite event reaches the step
    assert facts_rebuild(account_ids=[account.pk]) == 1
    assert _facts_of(account).workspace_at == facts.workspace_at


def test_the_first_staff_touch_is_the_earliest_exception_ticket_or_persons_run(
    make_account, make_user, system
):
    account = make_account(signed_up_at=timezone.now() - 5 * D)
    bot, _ = service_token_issue(name="touch-bot", role="support", actor=system)
    run_action(name="resend_invite", target=account, actor=bot.user, idempotency_key="bot")
    assert _facts_of(account).first_touch_at is None  # a service user's run is no staff touch

    run = run_action(name="resend_invite", target=account, actor=make_user("support"), idempotency_key="p")
    assert _facts_of(account).first_touch_at == ActionRun.objects.get(pk=run.run.pk).created_at

    ticket, _ = ticket_intake(
        source="desk",
        external_id="early",
        requester_email=account.admin_email,
        subject="help",
        body="",
        account_external_id=account.external_id,
        received_at=account.signed_up_at + 2 * H,  # the help desk's own time, long before the run
        actor=system,
    )
    facts = _facts_of(account)
    assert facts.first_ticket_at == facts.first_touch_at == account.signed_up_at + 2 * H

    _events(account, system, ("f", "import.failed", H))  # opens an exception dated at the event
    ticket_intake(
        source="desk",
        external_id="later",
        requester_email=account.admin_email,
        subject="again",
        body="",
        account_external_id=account.external_id,
        received_at=account.signed_up_at + 3 * H,  # arrives last, dated after the others
        actor=system,
    )
    assert _facts_of(account).first_touch_at == account.signed_up_at + H
    assert _facts_of(account).first_ticket_at == account.signed_up_at + 2 * H


def test_a_late_failure_dated_earlier_moves_first_failure_back(make_account, system):
    account = make_account()
    _events(account, system, ("late-1", "integration.failed", 80 * H))
    assert _facts_of(account).first_failure_at == account.signed_up_at + 80 * H

    _events(account, system, ("late-2", "workspace.failed", 3 * H), ("late-3", "invite.expired", 90 * H))

    assert _facts_of(account).first_failure_at == account.signed_up_at + 3 * H


@pytest.mark.parametrize(
    ("offset", "retained"),
    [
        (23 * D - timedelta(microseconds=1), False),
        (23 * D, True),
        (30 * D, True),
        (30 * D + timedelta(microseconds=1), False),
    ],
)
def test_retention_counts_a_return_between_day_23_and_day_30_inclusive(
    make_account, system, offset, retained
):
    account = make_account()
    _events(account, system, ("login", "user.login", offset))
    assert _facts_of(account).retained_30d is retained


def test_tickets_count_up_to_seven_days_after_signup_with_no_lower_bound(make_account, system):
    account = make_account(signed_up_at=timezone.now() - 20 * D)
    for n, offset in enumerate([-H, 7 * D, 7 * D + timedelta(microseconds=1)]):
        ticket_intake(
            source="desk",
            external_id=f"t{n}",
            requester_email=account.admin_email,
            subject="help",
            body="",
            account_external_id=account.external_id,
            received_at=account.signed_up_at + offset,
            actor=system,
        )
    assert _facts_of(account).tickets_7d == 2


def test_engineering_escalations_count_within_thirty_days_ops_ones_do_not(make_account, fail_import, system):
    recent = make_account()
    old = make_account(signed_up_at=recent.signed_up_at - 31 * D)
    escalation_create(account=recent, summary="crash", actor=system)
    escalation_create(account=old, summary="crash", actor=system)
    exception = fail_import(recent)  # import_failed has a runbook: its escalation goes to ops
    escalation_create(account=recent, summary="import", source_exception=exception, actor=system)

    assert _facts_of(recent).escalations_30d == 1
    assert _facts_of(old).escalations_30d == 0


def test_staff_minutes_count_people_only(make_account, fail_import, make_user, system):
    account = make_account()
    support = make_user("support")
    bot, _ = service_token_issue(name="desk-bot", role="support", actor=system)
    machine = system_user("system:autofix")
    machine.is_superuser = machine.is_active = True  # a system user allowed to act (an autofix bot)
    machine.save()
    for n, actor in enumerate([support, bot.user, machine]):
        run_action(name="resend_invite", target=account, actor=actor, idempotency_key=f"r{n}")
    assert _facts_of(account).manual_minutes_30d == 5  # resend_invite declares 5; one person ran it

    exception_resolve(exception=fail_import(account), note="fixed", actor=support)  # import_failed: 20
    exception_resolve(exception=fail_import(account), note="fixed", actor=bot.user)
    assert _facts_of(account).manual_minutes_30d == 25


def test_refused_runs_count_nothing_failed_runs_count(make_account, make_user, system, monkeypatch):
    account = make_account()
    support = make_user("support")
    _events(account, system, ("accepted", "invite.accepted", H))
    with pytest.raises(ApplicationError):  # the invite was accepted: refused
        run_action(name="resend_invite", target=account, actor=support, idempotency_key="refused")
    assert ActionRun.objects.get().status == ActionStatus.REFUSED
    assert _facts_of(account).manual_minutes_30d == 0

    def broken(self, ctx):
        raise RuntimeError("product unreachable")

    monkeypatch.setattr("accounts.actions.MarkDuplicate.perform", broken)
    monkeypatch.setattr("accounts.actions.MarkDuplicate.approval_reason", lambda self, ctx: None)
    run = _mark_duplicate(account, make_account(), support, key="broken")
    assert run.status == ActionStatus.FAILED
    assert _facts_of(account).manual_minutes_30d == 10  # the person did the work; it broke


def test_a_resolution_a_reversal_undid_counts_only_if_a_person_resolves_it_again(
    make_account, fail_import, make_user, system
):
    account, canonical = make_account(), make_account()
    support, lead = make_user("support"), make_user("ops_lead")
    exception = fail_import(account)  # import_failed: 20 minutes when a person resolves it
    run = _mark_duplicate(account, canonical, support, key="dup")
    approval_decide(approval=run.approval, approve=True, actor=lead)  # closes the exception
    exception.refresh_from_db()
    assert exception.status == "resolved" and _facts_of(account).manual_minutes_30d == 10 + 20
    run.refresh_from_db()
    action_run_reverse(run=run, actor=support)  # the exception is open again
    exception.refresh_from_db()
    assert exception.status != "resolved"
    exception_resolve(exception=exception, note="the retry went through", actor=system)

    people_runs = ActionRun.objects.filter(account=account, actor=support).exclude(status="refused")
    staff_minutes = sum(handling_minutes_of(r.action) for r in people_runs)
    assert staff_minutes >= 10  # the run and its reversal were people's work
    assert _facts_of(account).manual_minutes_30d == staff_minutes  # not the machine's resolution
    before = _facts()
    facts_rebuild()
    assert _facts() == before


def test_work_after_the_window_counts_nothing(make_account, make_user):
    account = make_account(signed_up_at=timezone.now() - 31 * D)
    run_action(name="resend_invite", target=account, actor=make_user("support"), idempotency_key="late")
    assert _facts_of(account).manual_minutes_30d == 0


def test_a_write_moves_the_facts_with_one_update_by_primary_key(make_account, system):
    account = make_account()
    table = AccountFacts._meta.db_table
    with CaptureQueriesContext(connection) as queries:
        _events(
            account, system, ("a", "import.failed", H), ("b", "user.login", 25 * D), ("c", "report.viewed", H)
        )
    writes = [q["sql"] for q in queries if table in q["sql"]]
    # The events' changes in one UPDATE, and one for the exception the failed import opened
    # (the journey's first staff touch); nothing read first.
    assert len(writes) == 2
    assert all(w.startswith("UPDATE") and f'"{table}"."account_id" = ' in w for w in writes)


def test_people_are_not_system_or_service_users(make_user, system):
    token, _ = service_token_issue(name="svc", role="analytics", actor=system)
    assert is_person(make_user("support"))
    assert not is_person(system)
    assert not is_person(token.user)
    assert not is_person(None)


def test_the_copies_follow_every_save_of_the_account(make_account, make_user, system):
    account, canonical = make_account(shape="free_trial"), make_account()
    assert (_facts_of(account).plan, _facts_of(account).is_duplicate) == ("free", False)
    assert _facts_of(account).activation_due_at == account.signed_up_at + 72 * H

    account_plan_change(account=account, plan="team", mrr_cents=19900, actor=system)
    account_mark_duplicate(account=account, canonical=canonical, actor=make_user("support"))
    _events(account, system, ("w", "workspace.provisioned", H), ("r", "report.viewed", 2 * H))

    facts = _facts_of(account)
    assert (facts.plan, facts.mrr_cents, facts.is_duplicate) == ("team", 19900, True)
    assert (facts.time_to_value, facts.activated_24h) == (2 * H, True)
    before = _facts()
    facts_rebuild()
    assert _facts() == before


def test_a_bulk_update_of_accounts_moves_the_copies(make_account, system):
    accounts = [make_account(), make_account()]
    rows = list(Account.objects.filter(pk__in=[a.pk for a in accounts]))
    for row in rows:
        row.plan, row.mrr_cents = "enterprise", 400_000
    with acting_as(system):
        update_rows_with_history(rows, ["plan", "mrr_cents"])
    assert {(_facts_of(a).plan, _facts_of(a).mrr_cents) for a in accounts} == {("enterprise", 400_000)}
