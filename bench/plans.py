"""Benchmark data, planned once for both loaders: the service path (``generate_data``) and the
bulk path (``generate_data --bulk``, ``bench.bulk``).

An account's plan is ``accounts.demo.plan_account`` (channel, shape, journey, failures, staff
work), plus what a benchmark needs on top: more product activity (logins over the account's
first weeks, so the timeline holds about 20 events per account) and help-desk tickets. The
extras come from a stream of their own (``seed``, prefix, index, "bench"), so the demo's draws
are untouched, and both loaders read the very same plan.
"""

import random
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from accounts import demo
from accounts.demo import AccountPlan

# Extra logins per account: uniform in 0..2*USAGE (mean USAGE) over its first 45 days; with the
# journey, about 20 events per account (fewer for the newest, whose weeks are still ahead).
USAGE = 20
# Tickets per account: weights of 0, 1, 2 and 3 tickets (mean 1.0).
TICKET_COUNT_WEIGHTS = (40, 30, 20, 10)
TICKET_SOURCE = "bench-gen"
# When the product delivered an event: most within two minutes of it happening, and
# LATE_PER_10K of every 10,000 after a retry queue drained, one to four days late. A loader
# that stamped every event with the load's own time would make nearly all of them late, which
# no production intake sees (and which the data-quality panel's late check would then read).
LATE_PER_10K = 300
_TICKET_TOPICS = (
    ("import_failed", "imports", "Our CSV import failed"),
    ("token_expired", "integrations", "Google Workspace disconnected"),
    ("", "billing", "Question about our invoice"),
    ("", "", "How do I invite my team?"),
    ("missing_permissions", "integrations", "Permission error when connecting"),
    ("", "reports", "Report shows no data"),
)


def delivery_delay(event_id: str) -> timedelta:
    """How long after it happened event ``event_id`` reached the intake; drawn from the id, so
    a load gives the same rows with any number of workers."""
    roll = zlib.crc32(event_id.encode())
    if roll % 10_000 < LATE_PER_10K:
        return timedelta(hours=24, seconds=1 + (roll >> 14) % (72 * 3600))
    return timedelta(seconds=(roll >> 14) % 120)


@dataclass(frozen=True)
class TicketPlan:
    external_id: str
    received_at: datetime
    requester_email: str
    subject: str
    body: str
    error_code: str
    feature_area: str


def plan_account(
    *, seed: int, index: int, anchor: datetime, prefix: str, days: int, usage: int = USAGE
) -> AccountPlan:
    """The demo's plan for account ``index`` with ``usage`` more logins on average."""
    plan = demo.plan_account(seed=seed, index=index, anchor=anchor, prefix=prefix, days=days)
    if usage:
        rng = random.Random(f"{seed}:{prefix}:{index}:bench")
        timeline = demo._Timeline(plan, rng, anchor)
        for _ in range(rng.randint(0, 2 * usage)):
            timeline.add("user.login", plan.signed_up_at + timeline.hours(2, 24 * 45))
    return plan


def planner(usage: int):
    """``plan_account`` with ``usage`` fixed, in the shape ``demo.generate_accounts`` calls."""

    def plan(*, seed, index, anchor, prefix, days):
        return plan_account(seed=seed, index=index, anchor=anchor, prefix=prefix, days=days, usage=usage)

    return plan


def plan_tickets(*, seed: int, index: int, plan: AccountPlan, anchor: datetime) -> list[TicketPlan]:
    """The help-desk tickets account ``index`` sends (none after the anchor)."""
    rng = random.Random(f"{seed}:{plan.external_id}:tickets")
    count = rng.choices(range(len(TICKET_COUNT_WEIGHTS)), weights=TICKET_COUNT_WEIGHTS)[0]
    tickets = []
    for n in range(count):
        # Most tickets come in the first days, while the account is being set up.
        at = plan.signed_up_at + timedelta(hours=rng.expovariate(1 / 96))
        error_code, area, subject = rng.choice(_TICKET_TOPICS)
        if at > anchor:
            continue
        tickets.append(
            TicketPlan(
                external_id=f"{plan.external_id}:t{n}",
                received_at=at,
                requester_email=plan.admin_email,
                subject=subject,
                body=f"{plan.name}: {subject.lower()}. Can you help?",
                error_code=error_code,
                feature_area=area,
            )
        )
    return tickets
