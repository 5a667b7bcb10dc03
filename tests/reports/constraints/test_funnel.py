"""The step-gap funnel on constructed journeys: reached counts, median and p90 gaps (linear
interpolation, as percentile_cont), and the step where staff first stepped in; and the one
statement that computes it against a plain-Python reading of the definition on random data."""

import contextlib
import random
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Account, AccountEvent, OpsException, StripeEvent
from accounts.services import EventInput, account_events_record
from accounts.shapes import JOURNEY_STEPS, SHAPES
from opsconsole.actions.services import run_action
from opsconsole.errors import ApplicationError
from opsconsole.history import SERVICE_USER_PREFIX, SYSTEM_USER_PREFIX
from opsconsole.models import ActionRun
from opsconsole.services import service_token_issue
from reports.facts import facts_rebuild
from reports.funnel.journey import CHANGE_STRIPE_TYPES
from reports.funnel.selectors import SETUP, WORKSPACE, funnel_accounts, journeys, step_funnel
from reports.models import AccountFacts
from routing.models import Escalation, Ticket
from routing.services import ticket_intake
from routing.services.escalations import escalation_create

pytestmark = pytest.mark.django_db
H = timedelta(hours=1)


def _events(account, system, *pairs):
    account_events_record(
        account=account,
        events=[
            EventInput(
                event_id=f"{account.external_id}:{t}:{n}", type=t, occurred_at=account.signed_up_at + at
            )
            for n, (t, at) in enumerate(pairs)
        ],
        actor=system,
    )


def test_reached_gaps_and_first_staff_touch(make_channel, make_account, system, window):
    ch = make_channel("funnel", kind="organic")
    t0 = timezone.now() - timedelta(days=2)
    a, b, c = (make_account(channel=ch, signed_up_at=t0) for _ in range(3))
    # a: workspace after 1 h, integration at 3 h, report at 4 h: activated at 4 h, no staff.
    _events(
        a, system, ("workspace.provisioned", H), ("integration.connected", 3 * H), ("report.viewed", 4 * H)
    )
    # b: workspace after 2 h, then the import fails at 5 h: an exception, staff's first touch.
    _events(b, system, ("workspace.provisioned", 2 * H), ("import.failed", 5 * H))
    # c: a ticket half an hour in, before any workspace.
    ticket_intake(
        source="zendesk",
        external_id="c-1",
        requester_email="x@example.com",
        subject="stuck",
        body="",
        account_external_id=c.external_id,
        received_at=t0 + H / 2,
        actor=system,
    )

    steps = {s.step: s for s in step_funnel(**window, channel="funnel")}

    assert list(steps) == list(JOURNEY_STEPS)
    assert steps[JOURNEY_STEPS[0]].reached == 3
    ws = steps[WORKSPACE]
    assert ws.reached == 2
    assert (ws.median_gap_h, ws.p90_gap_h) == (1.5, 1.9)  # gaps 1 h and 2 h
    assert steps[SETUP].reached == 1 and steps[SETUP].median_gap_h == 2.0  # 3 h - workspace at 1 h
    activation = steps["activation"]
    assert activation.reached == 1 and activation.median_gap_h == 1.0  # 4 h - integration at 3 h
    assert steps["support intake"].reached == 1
    # b was waiting on its import/integration step, c on its workspace.
    assert steps[SETUP].first_staff_touch == 1 and steps[WORKSPACE].first_staff_touch == 1
    assert steps[SETUP].first_staff_touch_share == round(1 / 3, 4)
    assert sum(s.first_staff_touch for s in steps.values()) == 2
    assert list(funnel_accounts("touch", step=SETUP, **window, channel="funnel")) == [b]
    assert set(funnel_accounts("reached", step=WORKSPACE, **window, channel="funnel")) == {a, b}


def test_a_late_event_dated_earlier_moves_the_funnel_from_the_stored_rows(
    make_channel, make_account, system, window
):
    ch = make_channel("late", kind="organic")
    account = make_account(channel=ch, signed_up_at=timezone.now() - timedelta(days=2))
    _events(account, system, ("workspace.provisioned", 5 * H))
    assert {s.step: s for s in step_funnel(**window, channel="late")}[WORKSPACE].median_gap_h == 5.0

    _events(account, system, ("user.login", H), ("workspace.provisioned", 2 * H))  # arrives late
    _events(account, system, ("user.login", H), ("report.viewed", H), ("workspace.provisioned", 9 * H))

    with CaptureQueriesContext(connection) as queries:
        steps = {s.step: s for s in step_funnel(**window, channel="late")}
    assert (steps[WORKSPACE].reached, steps[WORKSPACE].median_gap_h) == (1, 2.0)
    # One pass over the cohort's facts rows: no raw table is read.
    raw = [AccountEvent, Ticket, Escalation, OpsException, ActionRun, StripeEvent, Account]
    read = " ".join(q["sql"] for q in queries)
    assert AccountFacts._meta.db_table in read
    assert not [m for m in raw if f"{m._meta.db_table} " in read or f'"{m._meta.db_table}"' in read]


# --- The statement against a plain-Python reading of the same definition ----------------------

STEP_TYPES = {
    "identity verified or approved": ("account.approved", "identity.verified"),
    "workspace provisioned": ("workspace.provisioned",),
    "import or integration set up": ("import.succeeded", "integration.connected"),
    "plan assigned": ("plan.assigned",),
    "user invited": ("invite.sent", "invite.accepted"),
    "refund, cancellation or change": ("subscription.cancelled",),
}
NEEDS = {  # journey step -> the provisioning steps that make it apply to a shape
    "identity verified or approved": {"approve"},
    "workspace provisioned": {"create_workspace"},
    "import or integration set up": {"connect_integration", "import_data"},
    "plan assigned": {"assign_plan"},
    "user invited": {"invite_admin"},
}
TOUCHABLE = JOURNEY_STEPS[1:8]  # approval .. support intake


def _cont(values: list[float], fraction: float) -> float | None:
    """percentile_cont, written out: linear interpolation between the closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * fraction
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _by_hand(accounts) -> dict:
    """Each account's step times, gaps, first touch and its step, read row by row."""
    found = {}
    for account in accounts:
        at = {"created": account.signed_up_at}
        for step, types in STEP_TYPES.items():
            times = [e.occurred_at for e in account.events.all() if e.type in types]
            if step == "refund, cancellation or change":
                times += [s.created for s in account.stripe_events.filter(type__in=CHANGE_STRIPE_TYPES)]
            if times:
                at[step] = min(times)
        if account.activated_at:
            at["activation"] = account.activated_at
        tickets = [t.created_at for t in account.tickets.all()]
        if tickets:
            at["support intake"] = min(tickets)
        escalations = [x.created_at for x in account.escalations.all()]
        if escalations:
            at["escalation"] = min(escalations)
        people = [
            r.created_at
            for r in ActionRun.objects.filter(account=account).select_related("actor")
            if not r.actor.username.startswith((SYSTEM_USER_PREFIX, SERVICE_USER_PREFIX))
            and not hasattr(r.actor, "service_token")
        ]
        staff = people + tickets + [x.opened_at for x in account.exceptions.all()]
        touch = min(staff) if staff else None
        gaps = {}
        for i, step in enumerate(JOURNEY_STEPS[1:], start=1):
            when = at.get(step)
            if when is None or when < at["created"]:
                continue
            previous = max(at[s] for s in JOURNEY_STEPS[:i] if s in at and at[s] <= when)
            gaps[step] = (when - previous).total_seconds() / 3600
        touch_step = None
        if touch is not None:
            steps = SHAPES[account.shape].steps
            touch_step = next(
                (
                    s
                    for s in TOUCHABLE
                    if (s not in NEEDS or NEEDS[s] & set(steps)) and (s not in at or at[s] > touch)
                ),
                "support intake",
            )
        found[account.pk] = {"at": at, "gaps": gaps, "touch": touch, "touch_step": touch_step}
    return found


def test_the_statement_equals_a_plain_reading_on_random_journeys(
    make_channel, make_account, make_user, system, hit, window
):
    rng = random.Random(20261201)
    ch = make_channel("random", kind="partner")
    other = make_channel("elsewhere", kind="organic")
    support = make_user("support")
    bot = service_token_issue(name="funnel-bot", role="support", actor=system)[0].user
    now = timezone.now()
    types = [t for ts in STEP_TYPES.values() for t in ts] + ["report.viewed", "import.failed", "user.login"]
    shapes = ["free_trial", "self_serve_team", "sales_assisted_business", "enterprise"]
    accounts = []
    for n in range(36):
        signed = now - timedelta(days=rng.uniform(1, 20))
        account = make_account(channel=ch if n % 6 else other, shape=rng.choice(shapes), signed_up_at=signed)
        accounts.append(account)
        events = [
            EventInput(
                event_id=f"r{n}:{k}",
                type=rng.choice(types),
                occurred_at=signed + timedelta(minutes=rng.randint(-180, 60 * 24 * 4)),
            )
            for k in range(rng.randint(0, 9))
        ]
        if events:
            account_events_record(account=account, events=events, actor=system)
        if rng.random() < 0.3:
            ticket_intake(
                source="zendesk",
                external_id=f"r-{n}",
                requester_email="x@example.com",
                subject="help",
                body="",
                account_external_id=account.external_id,
                received_at=signed + timedelta(minutes=rng.randint(-60, 60 * 24 * 2)),
                actor=system,
            )
        if rng.random() < 0.25:
            exception = hit(account, "unclear_setup_step")
            if rng.random() < 0.5:
                run_action(
                    name="resolve_exception",
                    target=exception,
                    params={"note": "done"},
                    idempotency_key=f"res-{n}",
                    actor=support,
                )
            if rng.random() < 0.5:
                escalation_create(account=account, summary="look", actor=system)
        if rng.random() < 0.2:
            # A refund or dispute processed for the account (no service sets its account yet).
            StripeEvent.objects.create(
                stripe_id=f"evt_r{n}",
                type=rng.choice([*CHANGE_STRIPE_TYPES, "invoice.paid"]),
                created=signed + timedelta(minutes=rng.randint(-120, 60 * 24 * 5)),
                payload={},
                via="webhook",
                account=account,
            )
        if rng.random() < 0.2:
            with contextlib.suppress(ApplicationError):  # refused or not: a service user's run
                run_action(name="resend_invite", target=account, actor=bot, idempotency_key=f"bot-{n}")
    for n, account in enumerate(rng.sample(accounts, k=len(accounts) // 2)):
        # Late arrivals after the work above, often dated earlier than what came before.
        late = [
            EventInput(
                event_id=f"late{n}:{k}",
                type=rng.choice(types),
                occurred_at=account.signed_up_at + timedelta(minutes=rng.randint(-60, 60 * 24)),
            )
            for k in range(rng.randint(1, 4))
        ]
        account_events_record(account=account, events=late, actor=system)
    for account in accounts:
        account.refresh_from_db()
    cohort = Account.objects.filter(channel=ch).prefetch_related(
        "events", "tickets", "escalations", "exceptions"
    )
    truth = _by_hand(cohort)
    assert any(t["touch"] for t in truth.values()) and any(t["gaps"] for t in truth.values())

    steps = {s.step: s for s in step_funnel(**window, channel="random")}

    for step in JOURNEY_STEPS:
        gaps = [t["gaps"][step] for t in truth.values() if step in t["gaps"]]
        touched = {pk for pk, t in truth.items() if t["touch_step"] == step}
        reached = {pk for pk, t in truth.items() if step in t["at"]}
        expected = (
            len(reached),
            None if not gaps else round(_cont(gaps, 0.5), 2),
            None if not gaps else round(_cont(gaps, 0.9), 2),
            len(touched),
            round(len(touched) / len(truth), 4),
        )
        got = steps[step]
        assert (
            got.reached,
            got.median_gap_h,
            got.p90_gap_h,
            got.first_staff_touch,
            got.first_staff_touch_share,
        ) == expected, step
        assert (
            set(
                funnel_accounts("reached", step=step, **window, channel="random").values_list("pk", flat=True)
            )
            == reached
        )
        assert (
            set(funnel_accounts("touch", step=step, **window, channel="random").values_list("pk", flat=True))
            == touched
        )
    assert facts_rebuild() == AccountFacts.objects.count()  # the stored rows equal a rebuild's
    assert step_funnel(**window, channel="random") == list(steps.values())
    for journey in journeys(Account.objects.filter(channel=ch)):
        assert journey.at == truth[journey.account_id]["at"]
        assert (journey.touch, journey.touch_step) == (
            truth[journey.account_id]["touch"],
            truth[journey.account_id]["touch_step"],
        )
