"""Fixtures for the gates tests: an executive owner, an ops lead, a ramp plan, snapshot rows."""

from datetime import UTC, date, datetime, timedelta

import pytest

from accounts.services import EventInput, account_events_record
from gates.choices import Outcome
from gates.services import decision_draft, decision_sign, ramp_plan_create, review_open
from reports.metrics import METRICS
from reports.models import MetricSnapshot
from routing.services import ticket_intake
from tests.opsconsole.conftest import alert_receiver  # noqa: F401  (a fixture: a local Slack)

TARGETS = {
    "target_activation": 0.5,
    "target_tickets_per_100": 30.0,
    "target_provisioning_failure": 0.1,
    "target_escalations_per_100": 5.0,
}
STEPS = [{"label": "1.5x now", "multiplier": 1.5}, {"label": "3x after review", "multiplier": 3}]
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def owner(make_user):
    return make_user("leadership")


@pytest.fixture
def ops_lead(make_user):
    return make_user("ops_lead")


@pytest.fixture
def make_plan(channel, owner, ops_lead):
    def _make(**fields):
        fields.setdefault("channel", channel)
        fields.setdefault("weekly_signups", 200)
        fields.setdefault("steps", STEPS)
        fields.setdefault("executive_owner", owner)
        fields.setdefault("targets", TARGETS)
        return ramp_plan_create(**fields, actor=fields.pop("actor", ops_lead))

    return _make


@pytest.fixture
def plan(make_plan):
    return make_plan()


@pytest.fixture
def snapshot(channel):
    """``snapshot("activation_24h", day, numerator, denominator, complete=True)``: one row as
    reports writes it (value computed as the metric's definition does)."""

    def _write(metric, day: date, numerator, denominator, *, complete=True, channel_=None, computed_at=NOW):
        scale = 100 if metric in ("tickets_per_100", "escalations_per_100") else 1
        value = round(scale * numerator / denominator, 4) if denominator else None
        return MetricSnapshot.objects.create(
            metric=metric,
            channel=channel_ or channel,
            period=day,
            value=value,
            numerator=numerator,
            denominator=denominator,
            complete=complete,
            pending=0 if complete else 5,
            version=METRICS[metric].version,
            computed_at=computed_at,
        )

    return _write


def days_before(day: date, n: int) -> list[date]:
    """The n days before ``day``, oldest first."""
    return [day - timedelta(days=i) for i in range(n, 0, -1)]


FREE_TRIAL_OK = ["plan.assigned", "workspace.provisioned", "invite.sent", "invite.accepted", "report.viewed"]


@pytest.fixture
def signup(make_account, system):
    """``signup(at, events=[...], touched=False)``: a free-trial account signed up at ``at``
    whose events follow within hours; ``touched``: a ticket before activation (a staff touch)."""
    counter = iter(range(10**6))

    def _make(at: datetime, *, events=FREE_TRIAL_OK, touched=False, **fields):
        account = make_account(shape="free_trial", signed_up_at=at, **fields)
        if touched:  # a ticket half an hour after signup, before any activation event
            ticket_intake(
                source="zendesk",
                external_id=f"t-{account.external_id}",
                requester_email=account.admin_email,
                subject="Stuck",
                body="Cannot get started",
                account_external_id=account.external_id,
                received_at=at + timedelta(minutes=30),
                actor=system,
            )
        account_events_record(
            account=account,
            events=[
                EventInput(event_id=f"ev-{next(counter)}", type=t, occurred_at=at + timedelta(hours=1 + i))
                for i, t in enumerate(events)
            ],
            actor=system,
        )
        return account

    return _make


def sign_proceed(plan, owner, *, review_date: date):
    """A signed proceed on a new review of ``plan``: the plan ramps from today."""
    review = review_open(plan=plan, actor=owner)
    decision = decision_draft(
        review=review,
        outcome=Outcome.PROCEED,
        rationale="Ready.",
        attendees=["Dana"],
        expected_volume=300,
        next_step="1.5x now",
        review_date=review_date,
        actor=owner,
    )
    return decision_sign(decision=decision, actor=owner)
