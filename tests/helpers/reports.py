"""A randomized company for the reports tests, built through the services as people and systems
would: signups (some without a channel), events in random order and batches (late ones, ones
dated before the signup, ones exactly on a window's edge, redelivered ones), tickets with the
help desk's own times, escalations, exceptions resolved by people and by systems, and guarded
action runs by people, service users and system users (refused, approved, reversed).

``build_company(seed)`` returns what it built; the tests compute the truth from the raw rows.
"""

import contextlib
import itertools
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import Group

from accounts.choices import ExceptionStatus
from accounts.models import Account, Channel, OpsException
from accounts.services import (
    EventInput,
    account_create,
    account_events_record_batch,
    exception_resolve,
)
from accounts.shapes import PLANS, SHAPES
from opsconsole.actions.services import action_run_reverse, approval_decide, run_action
from opsconsole.errors import ApplicationError
from opsconsole.history import system_user
from opsconsole.models import ActionStatus
from opsconsole.services import service_token_issue
from routing.models import TRIAGE_QUEUE, Queue, Ticket
from routing.services import (
    escalation_create,
    queue_access_grant,
    ticket_intake,
    ticket_reassign,
    ticket_solve,
)

H = timedelta(hours=1)
D = timedelta(days=1)
TINY = timedelta(microseconds=1)
# Where events land relative to the signup: before it, and exactly on and just past each edge.
EVENT_OFFSETS = [-2 * H, 0 * H, H, 24 * H - TINY, 24 * H, 24 * H + TINY, 72 * H, 72 * H + TINY]
EVENT_OFFSETS += [7 * D, 14 * D, 23 * D - TINY, 23 * D, 25 * D, 30 * D, 30 * D + TINY, 31 * D]
TICKET_OFFSETS = [-H, 0 * H, 3 * D, 7 * D, 7 * D + TINY, 10 * D]
EVENT_TYPES = [
    *{t for shape in SHAPES.values() for t in shape.activation.required_event_types},
    "workspace.failed",
    "invite.expired",
    "integration.failed",
    "import.failed",
    "user.login",
    "report.viewed",
    "first_value.reached",
    "invite.sent",
    "plan.assigned",
]


@dataclass
class Company:
    now: datetime
    channels: dict[str, Channel]
    accounts: list[Account] = field(default_factory=list)
    people: dict[str, object] = field(default_factory=dict)
    # Ids of what it builds: from 1 for each company, so a seed always builds the same company.
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))


def _user(make_user, role, username):
    return make_user(role, username=username)


def _signups(rng: random.Random, now: datetime) -> list[datetime]:
    """Signup times: random ones, and ones exactly on a day's edge or a window's edge at ``now``."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    special = [
        midnight - 20 * D,
        midnight - 20 * D - TINY,
        midnight - 7 * D,
        now - 24 * H,
        now - 72 * H,
        now - 7 * D,
        now - 30 * D,
        now - 30 * D + TINY,
    ]
    randoms = [now - timedelta(seconds=rng.uniform(0, 50 * 86400)) for _ in range(16)]
    return special + randoms


def build_company(seed: int, *, make_user, system) -> Company:
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    channels = {
        code: Channel.objects.create(code=code, name=code.title(), kind=kind)
        for code, kind in (("web", "paid_search"), ("partner", "partner"), ("organic", "organic"))
    }
    channels["quiet"] = Channel.objects.create(code="quiet", name="Quiet", kind="events")  # no signups
    support = _user(make_user, "support", f"agent{seed}")
    lead = _user(make_user, "ops_lead", f"lead{seed}")
    bot_token, _ = service_token_issue(name=f"helpdesk-{seed}", role="support", actor=system)
    autofix = system_user(f"system:autofix{seed}")
    autofix.is_superuser = autofix.is_active = True  # a system user allowed to act (an autofix bot)
    autofix.save()
    autofix.groups.add(Group.objects.get(name="support"))
    company = Company(now=now, channels=channels, people={"support": support, "lead": lead})
    company.people.update(bot=bot_token.user, autofix=autofix)

    for signed_up_at in _signups(rng, now):
        n = next(company.ids)
        shape = rng.choice(sorted(SHAPES))
        account = account_create(
            external_id=f"r{seed}_{n}",
            name=f"Company {n}",
            admin_email=f"admin{n}@c{seed}-{n}.example.com",
            shape=shape,
            plan=rng.choice([None, *sorted(PLANS)]),
            channel=rng.choice(
                [None, channels["web"], channels["web"], channels["partner"], channels["organic"]]
            ),
            signed_up_at=signed_up_at,
            actor=system,
        )
        company.accounts.append(account)

    _record_events(rng, company, system)
    _tickets(rng, company, system)
    _people_work(rng, company)
    _record_events(rng, company, system, late=True)  # late arrivals, after the work above
    return company


def _record_events(rng: random.Random, company: Company, system, *, late: bool = False) -> None:
    """Random events for every account, shuffled across accounts and sent in random batches;
    some are redeliveries of an event id already sent (with another time: the first wins)."""
    events = []
    for account in company.accounts:
        for _ in range(rng.randint(0, 6 if late else 9)):
            offset = rng.choice(EVENT_OFFSETS) if rng.random() < 0.6 else timedelta(days=rng.uniform(-1, 35))
            event_type = rng.choice(EVENT_TYPES)
            error = rng.choice(["", "timeout", "schema_mismatch"]) if event_type.endswith(".failed") else ""
            event = EventInput(
                f"ev{next(company.ids)}", event_type, account.signed_up_at + offset, error_code=error
            )
            events.append((account, event))
        if rng.random() < 0.5:  # the whole activation, within a day, within the window, or past it
            activation = SHAPES[account.shape].activation
            reach = rng.choice([timedelta(hours=23), activation.window, activation.window * 1.3])
            for event_type in activation.required_event_types:
                at = account.signed_up_at + reach * rng.random()
                events.append((account, EventInput(f"ev{next(company.ids)}", event_type, at)))
    for account, event in rng.sample(events, k=len(events) // 8):
        copy = EventInput(
            event.event_id, rng.choice(EVENT_TYPES), event.occurred_at - rng.choice([H, 10 * D])
        )
        events.append((account, copy))
    rng.shuffle(events)
    while events:
        size = rng.randint(1, 12)
        batch, events = events[:size], events[size:]
        account_events_record_batch(events=batch, actor=system)


def _tickets(rng: random.Random, company: Company, system) -> None:
    support, lead = company.people["support"], company.people["lead"]
    triage = Queue.objects.get(code=TRIAGE_QUEUE)
    granted = False
    for i, account in enumerate(rng.sample(company.accounts, k=len(company.accounts) * 2 // 3)):
        if not granted and i > 4:  # later tickets find an owner in triage at intake
            queue_access_grant(queue=triage, user=support, actor=system)
            granted = True
        created_at = account.signed_up_at + rng.choice(TICKET_OFFSETS)
        if created_at > company.now:
            continue
        matched = rng.choice(["external_id", "email", "none"])
        ticket, _ = ticket_intake(
            source="helpdesk",
            external_id=f"t{next(company.ids)}",
            requester_email=account.admin_email if matched != "none" else f"who{i}@nowhere.example.org",
            subject="Help",
            body="It does not work.",
            account_external_id=account.external_id if matched == "external_id" else None,
            received_at=created_at,
            actor=system,
        )
        roll = rng.random()
        if roll < 0.2:
            ticket_reassign(ticket=ticket, queue=triage, owner=lead, reason="lead takes it", actor=lead)
        elif roll < 0.4:
            ticket_solve(ticket=Ticket.objects.get(pk=ticket.pk), final_category="billing", actor=lead)


def _people_work(rng: random.Random, company: Company) -> None:
    """Escalations, resolutions and action runs by people and by machines."""
    people = company.people
    for account in rng.sample(company.accounts, k=len(company.accounts) // 2):
        open_exceptions = list(
            OpsException.objects.filter(account=account).exclude(status=ExceptionStatus.RESOLVED)
        )
        roll = rng.random()
        if roll < 0.45:
            escalation_create(account=account, summary="It crashes", actor=people["support"])
        elif roll < 0.6 and open_exceptions:
            # An exception with a runbook goes to ops: not an engineering escalation.
            escalation_create(
                account=account, summary="Known", source_exception=open_exceptions[0], actor=people["support"]
            )
        if open_exceptions and rng.random() < 0.7:
            resolver = rng.choice([people["support"], people["bot"], people["autofix"]])
            exception_resolve(exception=open_exceptions[-1], note="Fixed.", actor=resolver)
        actor = rng.choice([people["support"], people["support"], people["bot"], people["autofix"]])
        with contextlib.suppress(ApplicationError):  # refused (invite accepted): recorded, not counted
            run_action(
                name="resend_invite", target=account, actor=actor, idempotency_key=f"k{next(company.ids)}"
            )
    # A duplicate approved by a lead, and one approved and then reversed.
    pairs = rng.sample(company.accounts, k=4)
    for (duplicate, canonical), reverse in zip([pairs[:2], pairs[2:]], [False, True], strict=True):
        run = run_action(
            name="mark_duplicate",
            target=duplicate,
            actor=people["support"],
            params={"canonical": canonical.external_id},
            idempotency_key=f"k{next(company.ids)}",
        ).run
        assert run.status == ActionStatus.AWAITING_APPROVAL
        approval_decide(approval=run.approval, approve=True, actor=people["lead"])
        if reverse:
            run.refresh_from_db()
            action_run_reverse(run=run, actor=people["support"])
