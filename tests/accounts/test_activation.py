"""Activation: each shape's definition, met by events in any order, within its window."""

from datetime import timedelta

import pytest

from accounts.choices import LifecycleStage
from accounts.services import EventInput, account_events_record
from accounts.shapes import SHAPES

pytestmark = pytest.mark.django_db

ALL_SHAPES = sorted(SHAPES)


@pytest.fixture
def account_of(make_account, make_channel):
    channel = make_channel("organic", kind="organic")

    def _make(shape):
        return make_account(shape=shape, channel=channel)

    return _make


def _events(account, types, *, spacing: timedelta):
    return [
        EventInput(f"{account.external_id}:{i}", t, account.signed_up_at + spacing * (i + 1))
        for i, t in enumerate(types)
    ]


def _defining_events_within_window(account):
    """Every event the shape's definition needs, spread evenly inside its window."""
    definition = SHAPES[account.shape].activation
    spacing = definition.window / (len(definition.required_event_types) + 1)
    return _events(account, definition.required_event_types, spacing=spacing)


def test_each_shape_states_what_activation_means():
    for shape in SHAPES.values():
        assert shape.activation.required_event_types
        assert shape.activation.window > timedelta(0)
        assert shape.activation.text


@pytest.mark.parametrize("shape", ALL_SHAPES)
def test_activated_when_the_definition_is_met_within_the_window(account_of, system, shape):
    account = account_of(shape)
    events = _defining_events_within_window(account)

    account_events_record(account=account, events=events[:-1], actor=system)
    account.refresh_from_db()
    assert account.activated_at is None  # one defining event still missing

    account_events_record(account=account, events=events[-1:], actor=system)
    account.refresh_from_db()
    assert account.activated_at == events[-1].occurred_at  # the moment the last one happened
    assert account.lifecycle_stage == LifecycleStage.ACTIVATED


@pytest.mark.parametrize("shape", ALL_SHAPES)
def test_events_in_any_order_activate_at_the_latest_defining_event(account_of, system, shape):
    account = account_of(shape)
    events = _defining_events_within_window(account)

    for event in reversed(events):  # the newest arrives first, one per batch
        account_events_record(account=account, events=[event], actor=system)

    account.refresh_from_db()
    assert account.activated_at == max(e.occurred_at for e in events)


@pytest.mark.parametrize("shape", ALL_SHAPES)
def test_a_defining_event_outside_the_window_does_not_activate(account_of, system, shape):
    account = account_of(shape)
    definition = SHAPES[shape].activation
    types = definition.required_event_types
    late = EventInput(
        f"{account.external_id}:late",
        types[-1],
        account.signed_up_at + definition.window + timedelta(minutes=1),
    )
    early = _events(account, types[:-1], spacing=timedelta(minutes=5))

    account_events_record(account=account, events=[*early, late], actor=system)

    account.refresh_from_db()
    assert account.activated_at is None
    assert account.lifecycle_stage != LifecycleStage.ACTIVATED


def test_a_later_occurrence_does_not_move_activation(account_of, system):
    account = account_of("free_trial")
    first = _events(account, ("workspace.provisioned", "report.viewed"), spacing=timedelta(hours=1))
    account_events_record(account=account, events=first, actor=system)
    account.refresh_from_db()
    activated_at = account.activated_at

    account_events_record(
        account=account,
        events=[EventInput("again", "report.viewed", account.signed_up_at + timedelta(hours=5))],
        actor=system,
    )

    account.refresh_from_db()
    assert account.activated_at == activated_at


def test_a_late_event_dated_earlier_moves_activation_to_the_exact_time(account_of, system):
    """activated_at is the latest of the first occurrences (METRICS.md): an earlier first
    report view that reaches us late makes the workspace the latest first occurrence."""
    account = account_of("free_trial")
    first = _events(account, ("workspace.provisioned", "report.viewed"), spacing=timedelta(hours=1))
    account_events_record(account=account, events=first, actor=system)

    account_events_record(
        account=account,
        events=[EventInput("earlier", "report.viewed", account.signed_up_at + timedelta(minutes=1))],
        actor=system,
    )

    account.refresh_from_db()
    assert account.activated_at == account.signed_up_at + timedelta(hours=1)
    assert account.lifecycle_stage == LifecycleStage.ACTIVATED


def test_other_events_do_not_count(account_of, system):
    account = account_of("free_trial")
    noise = _events(account, ("user.login", "plan.assigned", "invite.sent"), spacing=timedelta(minutes=1))
    account_events_record(account=account, events=noise, actor=system)
    account.refresh_from_db()
    assert account.activated_at is None
