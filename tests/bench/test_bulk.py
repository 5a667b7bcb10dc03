"""The bulk loader (COPY and set-based SQL) gives the state the services give, for one seed.

Both paths plan every account with ``bench.plans`` (one set of draws); the service path
applies the plans through ``account_create``, ``account_events_record``, the staff's services
and ticket intake, the bulk path COPYs them and derives the rest in SQL. Everything the
services derive is compared per account: activation, lifecycle, each provisioning step (status,
time, last event, blocking exception), each exception (reason, status, times, evidence, how it
was resolved), the timeline, the tickets and the reports' fact row.
"""

import os
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.choices import EventSource
from accounts.models import Account, AccountEvent, OpsException, ProvisioningStep
from accounts.services import EventInput
from bench import plans
from bench.bulk import bulk_generate
from bench.bulk_sql import LOADED_TABLES
from bench.management.commands.generate_data import _generate_slice
from bench.plans import TICKET_SOURCE, USAGE
from opsconsole.history import SYSTEM_SEEDER, system_user
from reports.models import AccountFacts
from routing.models import Ticket

PREFIX = "cmp"
SEED = 7
ACCOUNTS = int(os.environ.get("BULK_COMPARE_ACCOUNTS", "200"))
ANCHOR = datetime(2026, 11, 20, tzinfo=UTC)
DAYS = 60


class _Rollback(Exception):
    pass


def snapshot() -> dict:
    accounts = {a.pk: a for a in Account.objects.filter(external_id__startswith=f"{PREFIX}_")}
    state = {
        a.external_id: {
            "account": (a.shape, a.plan, a.channel.code, a.signed_up_at, a.activated_at, a.lifecycle_stage)
            + (a.onboarding_path, a.onboarding_path_reason, tuple(a.flags), a.partner),
            "steps": {},
            "exceptions": [],
            "events": set(),
            "tickets": set(),
        }
        for a in accounts.values()
    }

    def of(account_id):
        return state[accounts[account_id].external_id]

    for step in ProvisioningStep.objects.filter(account__in=accounts).select_related(
        "last_event", "blocking_exception__reason_code"
    ):
        blocking = step.blocking_exception
        of(step.account_id)["steps"][step.step] = (
            step.status,
            step.status_at,
            step.last_event.event_id if step.last_event else None,
            (blocking.reason_code.code, blocking.status) if blocking else None,
        )
    for e in OpsException.objects.filter(account__in=accounts).select_related(
        "reason_code", "opened_by_event", "resolved_by"
    ):
        by_hand = e.opened_by_event is None and e.summary.startswith("Raised by support")
        automatic = e.resolution_note.startswith("Resolved automatically")
        of(e.account_id)["exceptions"].append(
            (
                e.reason_code.code,
                e.status,
                e.owner_team,
                e.target_response_minutes,
                None if by_hand else (e.opened_at, e.respond_by),  # opened now, by a person
                e.opened_by_event.event_id if e.opened_by_event else None,
                e.summary,
                e.evidence,
                e.resolution_note,
                e.resolved_at if automatic else e.resolved_at is not None,  # staff resolve now
                e.first_response_at is not None,
                e.resolved_by.username if e.resolved_by else None,
            )
        )
    for row in state.values():
        row["exceptions"].sort(key=repr)
    # Not ``late``: the service path's intake records every event at load time, the bulk path
    # at the plan's delivery time (bench.plans.delivery_delay); each is checked on its own.
    for ev in AccountEvent.objects.filter(account__in=accounts).select_related("reason_code"):
        reason = ev.reason_code.code if ev.reason_code else None
        of(ev.account_id)["events"].add(
            (ev.event_id, ev.type, ev.source, ev.occurred_at, ev.error_code, ev.request_id, reason)
            + (ev.feature_area, repr(sorted(ev.payload.items())), ev.before_signup)
        )
    for t in Ticket.objects.filter(source=TICKET_SOURCE, account__in=accounts):
        of(t.account_id)["tickets"].add((t.external_id, t.created_at, t.requester_email, t.subject))
    fields = [f.attname for f in AccountFacts._meta.concrete_fields if f.attname != "account_id"]
    # Exceptions a person raised are opened now, on either path: a first staff touch that is
    # one of them is compared as such, not by its time.
    raised_now = {
        (e.account_id, e.opened_at)
        for e in OpsException.objects.filter(
            account__in=accounts, opened_by_event__isnull=True, summary__startswith="Raised by support"
        )
    }
    for facts in AccountFacts.objects.filter(account__in=accounts):
        of(facts.account_id)["facts"] = {
            name: getattr(facts, name) for name in fields if name != "channel_id"
        } | {"channel": accounts[facts.account_id].channel.code}
        if (facts.account_id, facts.first_touch_at) in raised_now:
            of(facts.account_id)["facts"]["first_touch_at"] = "raised by a person, now"
    return state


@pytest.mark.django_db
def test_bulk_load_derives_what_the_services_derive():
    try:
        with transaction.atomic():
            _generate_slice(SEED, 0, 1, ACCOUNTS, ANCHOR, PREFIX, DAYS, USAGE, True)
            by_services = snapshot()
            raise _Rollback
    except _Rollback:
        pass
    assert not Account.objects.filter(external_id__startswith=f"{PREFIX}_").exists()

    result = bulk_generate(
        seed=SEED,
        count=ACCOUNTS,
        anchor=ANCHOR,
        actor=system_user(SYSTEM_SEEDER),
        prefix=PREFIX,
        days=DAYS,
        usage=USAGE,
        tickets=True,
        workers=1,
        log=lambda line: None,
    )
    by_bulk = snapshot()

    assert result.created == ACCOUNTS
    assert len(by_services) == ACCOUNTS
    assert sorted(by_bulk) == sorted(by_services)
    different = [k for k in by_services if by_bulk[k] != by_services[k]]
    for key in different[:3]:
        for part in by_services[key]:
            assert by_bulk[key][part] == by_services[key][part], (key, part)
    assert not different

    # The data set exercises the rules compared: not a comparison of empty states.
    everything = list(by_services.values())
    statuses = {e[1] for s in everything for e in s["exceptions"]}
    assert {"open", "resolved", "in_progress"} <= statuses
    assert any(e[8].startswith("Resolved automatically") for s in everything for e in s["exceptions"])
    assert {st[0] for s in everything for st in s["steps"].values()} == {
        "pending",
        "in_progress",
        "succeeded",
        "failed",
    }
    assert any(st[3] for s in everything for st in s["steps"].values())  # a blocked step
    assert any(s["account"][4] for s in everything) and not all(s["account"][4] for s in everything)
    assert any(s["facts"]["tickets_7d"] for s in everything)
    touches = [s["facts"]["first_touch_at"] for s in everything]
    assert any(isinstance(t, datetime) for t in touches)  # the journey's columns are compared
    assert any(s["facts"]["workspace_at"] for s in everything)
    assert sum(len(s["events"]) for s in everything) > 15 * ACCOUNTS


@pytest.mark.django_db
def test_bulk_load_is_idempotent():
    actor = system_user(SYSTEM_SEEDER)
    args = {"seed": SEED, "anchor": ANCHOR, "actor": actor, "prefix": PREFIX, "days": DAYS, "workers": 1}
    first = bulk_generate(count=10, log=lambda s: None, **args)
    again = bulk_generate(count=15, log=lambda s: None, **args)
    assert (first.created, again.created, again.skipped) == (10, 5, 10)
    assert Account.objects.filter(external_id__startswith=f"{PREFIX}_").count() == 15
    assert AccountFacts.objects.filter(account__external_id__startswith=f"{PREFIX}_").count() == 15


def _index_catalogue() -> set[tuple]:
    """Every index and unique constraint of the bulk-loaded tables, as PostgreSQL defines them.
    Casts and parentheses are left out of the definitions: a rebuilt partial index deparses its
    ``status IN (...)`` with each literal cast rather than the array (the same predicate)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), c.contype "
            "FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid "
            "WHERE i.indrelid = ANY(%s::regclass[])",
            [list(LOADED_TABLES)],
        )
        rows = cursor.fetchall()
    return {(name, _without_casts(definition), contype) for name, definition, contype in rows}


def _without_casts(definition: str) -> str:
    return re.sub(r"::(character varying|text)(\[\])?|[() ]", "", definition)


@pytest.mark.django_db(transaction=True)
def test_bulk_load_rebuilds_every_index_and_constraint_it_dropped():
    # The rebuild runs on connections of its own beside the derivation: a committed database,
    # not a test transaction the builders could not see into.
    before = _index_catalogue()
    assert any(contype == "u" for *_, contype in before)  # unique constraints are among them
    result = bulk_generate(
        seed=SEED,
        count=40,
        anchor=ANCHOR,
        actor=system_user(SYSTEM_SEEDER),
        prefix=PREFIX,
        days=DAYS,
        workers=1,
        log=lambda line: None,
        drop_indexes_from=1,
    )
    assert result.created == 40
    assert {"indexes of events and tickets", "indexes of accounts"} <= set(result.timings)
    assert _index_catalogue() == before
    # The constraints hold again: a copy of a loaded event is refused.
    event = AccountEvent.objects.filter(account__external_id__startswith=f"{PREFIX}_").first()
    with pytest.raises(IntegrityError), transaction.atomic():
        AccountEvent.objects.create(
            event_id=event.event_id,
            account=event.account,
            channel_id=event.channel_id,
            type=event.type,
            occurred_at=event.occurred_at,
        )
    assert AccountFacts.objects.filter(account__external_id__startswith=f"{PREFIX}_").count() == 40


@pytest.mark.django_db
def test_bulk_loaded_events_carry_the_intakes_data_quality_flags(monkeypatch):
    # The plans hold no event before its signup, and few late ones (bench.plans.delivery_delay):
    # add both to some accounts' plans (an event two hours old cannot be a day late).
    planned = plans.plan_account
    now = timezone.now()

    def plan_with_edges(**kwargs):
        plan = planned(**kwargs)
        if kwargs["index"] % 3 == 0:
            early = plan.signed_up_at - timedelta(minutes=5)
            plan.events.append(EventInput(f"{plan.external_id}:early", "user.login", early))
            plan.events.append(
                EventInput(f"{plan.external_id}:fresh", "user.login", now - timedelta(hours=2))
            )
            plan.events.append(
                EventInput(f"{plan.external_id}:ops-early", "note", early, source=EventSource.OPS)
            )
        return plan

    monkeypatch.setattr(plans, "plan_account", plan_with_edges)
    bulk_generate(
        seed=SEED,
        count=30,
        anchor=ANCHOR,
        actor=system_user(SYSTEM_SEEDER),
        prefix=PREFIX,
        days=DAYS,
        tickets=False,
        workers=1,
        log=lambda line: None,
    )
    events = AccountEvent.objects.filter(account__external_id__startswith=f"{PREFIX}_").select_related(
        "account"
    )
    late_after = timedelta(hours=settings.REPORTS_LATE_EVENT_HOURS)
    flags = Counter()
    for e in events:
        product = e.source == EventSource.PRODUCT
        assert e.before_signup == (product and e.occurred_at < e.account.signed_up_at), e.event_id
        assert e.late == (product and e.recorded_at - e.occurred_at > late_after), e.event_id
        flags[(e.before_signup, e.late)] += 1
    # Each flag is set on some rows and not on others, and most events arrive on time.
    assert {before for before, _ in flags} == {late for _, late in flags} == {True, False}
    assert sum(n for (_, late), n in flags.items() if late) < sum(flags.values()) / 4
    assert events.filter(source=EventSource.SYSTEM, late=False).exists()  # account.created
