"""The gates walk-through for ``seed_demo``: one channel ramping on a signed proceed, with its
stop rules evaluated over the last days (their charts have history); the partner channel's gate
failing with evidence, a signed harden decision with fixes, and its hardening cycle.

Runs after every other seeder (gates is the top layer, a walk-through), on the snapshots it
writes itself. Idempotent: a channel that has a live plan is left alone.
"""

import random
from datetime import timedelta

from django.contrib.auth import get_user_model

from accounts.demo import demo_anchor
from accounts.models import Account, Channel
from gates.choices import Outcome
from gates.models import RampPlan
from gates.selectors import evaluation_tally, live_plan
from gates.services import (
    candidate_move_add,
    cycle_constraint_ship,
    decision_draft,
    decision_sign,
    ramp_day_simulate,
    ramp_plan_create,
    review_evaluate,
    review_open,
    stop_rules_evaluate,
)
from opsconsole.history import SYSTEM_SCHEDULER, system_user
from reports.services import metric_snapshots_write

RAMPING_CHANNEL = "organic"
PARTNER_CHANNEL = "northwind-partners"
SNAPSHOT_DAYS = 45  # the ramp (14 days) and its 28-day baseline, and a little more
RAMP_DAYS = 14
HISTORY_DAYS = 7
# A small company: a few accounts a day per channel, so the demo rules ask for 3.
DEMO_MIN_SAMPLE = 3
# The ramp so far: half as many more signups a day on the ramping channel as it had in the
# 4 weeks before (the 1.5x step), this share of them activating.
RAMP_EXTRA_SHARE = 0.5
RAMP_ACTIVATION = 0.5


def _user(username: str):
    return get_user_model().objects.get(username=username)


def seed_demo(*, rng: random.Random, actor, stdout) -> None:
    anchor = demo_anchor()
    today = anchor.date()
    lead, owner = _user("ops_lead"), _user("leadership")
    channels = {c.code: c for c in Channel.objects.filter(code__in=(RAMPING_CHANNEL, PARTNER_CHANNEL))}
    if len(channels) < 2:
        stdout.write("gates: the demo channels are missing; nothing to do")
        return
    ramping = live_plan(channels[RAMPING_CHANNEL]) is None
    if ramping:  # the ramp's extra signups (the step is 1.5x), before the snapshots read them
        extra = round(
            RAMP_EXTRA_SHARE * _daily_signups(channels[RAMPING_CHANNEL], today - timedelta(days=RAMP_DAYS))
        )
        for days_ago in range(RAMP_DAYS, 0, -1):
            ramp_day_simulate(
                channel=channels[RAMPING_CHANNEL],
                day=today - timedelta(days=days_ago),
                signups=extra,
                activation=RAMP_ACTIVATION,
                shape="self_serve_team",  # (the rehearsal's default shape is free_trial: no overlap)
                actor=actor,
            )
    metric_snapshots_write(since=today - timedelta(days=SNAPSHOT_DAYS), until=today, now=anchor, actor=actor)
    if ramping:
        _ramping(channels[RAMPING_CHANNEL], lead=lead, owner=owner, anchor=anchor)
    if live_plan(channels[PARTNER_CHANNEL]) is None:
        _partner(channels[PARTNER_CHANNEL], lead=lead, owner=owner, anchor=anchor)
    for code, channel in channels.items():
        plan = live_plan(channel)
        stdout.write(f"gates: {code} ramp {plan.status}")


def _daily_signups(channel, ramp_start) -> float:
    """The channel's signups a day over the 4 weeks before the ramp."""
    since = ramp_start - timedelta(days=28)
    count = Account.objects.filter(
        channel=channel, signed_up_at__date__gte=since, signed_up_at__date__lt=ramp_start
    ).count()
    return count / 28


def _plan(channel, *, lead, owner, weekly: int, activation: float) -> RampPlan:
    """A plan with the default stop rules, tuned to a small company's daily cohorts: 3 mature
    accounts make a day, and the built-in growth rule trips when tickets grow more than three
    times as fast as signups (a day's tickets are few: one more ticket is a large step)."""
    plan = ramp_plan_create(
        channel=channel,
        weekly_signups=weekly,
        steps=[
            {"label": "1.5x now", "multiplier": 1.5},
            {"label": "3x after review", "multiplier": 3},
            {"label": "5x for the board target", "multiplier": 5},
        ],
        executive_owner=owner,
        targets={
            "target_activation": activation,
            "target_tickets_per_100": 40.0,
            "target_provisioning_failure": 0.25,
            "target_escalations_per_100": 10.0,
        },
        actor=lead,
    )
    plan.stop_rules.update(min_sample=DEMO_MIN_SAMPLE)
    plan.stop_rules.filter(builtin=True).update(threshold=2.0)
    return plan


def _ramping(channel, *, lead, owner, anchor) -> None:
    plan = _plan(channel, lead=lead, owner=owner, weekly=45, activation=0.25)
    review = review_open(plan=plan, held_on=(anchor - timedelta(days=RAMP_DAYS + 1)).date(), actor=lead)
    review_evaluate(review=review, now=anchor - timedelta(days=RAMP_DAYS + 1), actor=lead)
    decision = decision_draft(
        review=review,
        outcome=Outcome.PROCEED,
        rationale="Four of six checks pass; organic signups activate well. Ramp to 1.5x with the "
        "stop rules on, and review again before 3x.",
        attendees=["Dana Whitfield (CEO)", "Ops lead", "Head of Support", "Eng manager"],
        expected_volume=90,
        next_step="1.5x now",
        review_date=(anchor + timedelta(days=7)).date(),
        actor=lead,
    )
    decision_sign(decision=decision, now=anchor - timedelta(days=RAMP_DAYS), actor=owner)
    RampPlan.objects.filter(pk=plan.pk).update(ramp_started_on=(anchor - timedelta(days=RAMP_DAYS)).date())
    scheduler = system_user(SYSTEM_SCHEDULER)
    for days_ago in range(HISTORY_DAYS, -1, -1):
        stop_rules_evaluate(plan=plan, now=anchor - timedelta(days=days_ago), actor=scheduler)


def _partner(channel, *, lead, owner, anchor) -> None:
    plan = _plan(channel, lead=lead, owner=owner, weekly=80, activation=0.3)
    review = review_open(plan=plan, held_on=(anchor - timedelta(days=6)).date(), actor=lead)
    evaluation = review_evaluate(review=review, now=anchor, actor=lead)
    tally = evaluation_tally(evaluation)
    support, engineer = _user("support"), _user("engineering")
    decision = decision_draft(
        review=review,
        outcome=Outcome.HARDEN,
        rationale=f"{tally['passed']} of 6 checks pass: provisioning fails on the partner's imports and "
        "onboarding needs staff. Harden for 30 days before any ramp.",
        attendees=["Dana Whitfield (CEO)", "Ops lead", "Northwind partner manager", "Eng manager"],
        expected_volume=240,
        fixes=[
            {
                "reason_code": "import_failed",
                "owner": engineer,
                "due_date": (anchor + timedelta(days=21)).date(),
                "success_metric": "provisioning_failure_rate below 25%",
            },
            {
                "reason_code": "integration_failed",
                "owner": support,
                "due_date": (anchor + timedelta(days=14)).date(),
                "success_metric": "tickets_per_100 below 40",
            },
        ],
        actor=lead,
    )
    decision_sign(decision=decision, technical_owner=engineer, operations_owner=lead, actor=owner)
    cycle = decision.cycle
    for title, scores, cost in (
        ("Validate the partner's CSV export before import", (5, 4, 4, 5), 2),
        ("Retry imports with the partner's date format", (4, 5, 5, 3), 1),
        ("Managed onboarding for Northwind's enterprise signups", (3, 3, 4, 2), 4),
        ("Self-serve reconnect flow for expired integrations", (3, 4, 3, 4), 3),
    ):
        candidate_move_add(
            cycle=cycle,
            title=title,
            cost_rank=cost,
            business_impact=scores[0],
            evidence_strength=scores[1],
            execution_confidence=scores[2],
            strategic_timing=scores[3],
            actor=lead,
        )
    first = cycle.constraints.order_by("cost_rank").first()
    if first is not None:
        cycle_constraint_ship(
            constraint=first, shipped_on=(anchor - timedelta(days=5)).date(), actor=engineer
        )
