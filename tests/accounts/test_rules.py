"""The pure rules reads and writes share: functions of values, so no database here."""

import pytest

from accounts.models import Account, Channel, ReasonCode
from accounts.rules import (
    applicable_steps,
    duplicate_link_check,
    response_target_minutes,
    review_reason_code,
    step_failure_event_types,
)
from opsconsole.errors import ValidationFailed


def _account(shape="self_serve_team", flags=(), sla=None, pk=None):
    channel = Channel(code="web", name="Web", kind="organic", support_sla_minutes=sla)
    return Account(pk=pk, external_id=f"a{pk}", shape=shape, flags=list(flags), channel=channel)


@pytest.mark.parametrize(
    ("shape", "flags", "first_steps"),
    [
        ("free_trial", [], ("assign_plan", "create_workspace")),
        ("free_trial", ["identity_review"], ("approve", "assign_plan")),
        ("enterprise", [], ("approve", "assign_plan")),
        # An enterprise signup flagged for identity review still has one approval, not two.
        ("enterprise", ["identity_review"], ("approve", "assign_plan")),
    ],
)
def test_an_approval_leads_the_steps_of_an_account_under_review(shape, flags, first_steps):
    steps = applicable_steps(_account(shape, flags))

    assert steps[:2] == first_steps
    assert steps.count("approve") == (1 if "approve" in first_steps else 0)


@pytest.mark.parametrize(
    ("shape", "flags", "code"),
    [
        ("enterprise", [], "enterprise_review"),
        ("free_trial", ["identity_review"], "identity_review"),
        ("enterprise", ["identity_review"], "identity_review"),
    ],
)
def test_the_review_reason_says_why_the_account_waits(shape, flags, code):
    assert review_reason_code(_account(shape, flags)) == code


@pytest.mark.parametrize(
    ("step", "types"),
    [
        ("import_data", ["import.failed"]),
        ("invite_admin", ["invite.expired"]),
        ("assign_plan", []),
    ],
)
def test_a_steps_failure_events_come_from_the_event_vocabulary(step, types):
    assert step_failure_event_types(step) == types


@pytest.mark.parametrize(
    ("shape", "channel_sla", "reason_minutes", "expected"),
    [
        ("self_serve_team", None, 240, 240),  # the reason's default
        ("free_trial", None, 48 * 60, 24 * 60),  # the shape's ceiling
        ("enterprise", 30, 240, 30),  # the channel's contract
    ],
)
def test_the_response_target_is_the_tightest_promise(shape, channel_sla, reason_minutes, expected):
    reason = ReasonCode(code="x", target_response_minutes=reason_minutes)

    assert response_target_minutes(reason=reason, account=_account(shape, sla=channel_sla)) == expected


def test_an_account_cannot_be_linked_as_its_own_duplicate():
    with pytest.raises(ValidationFailed) as refused:
        duplicate_link_check(account=_account(pk=1), canonical=_account(pk=1))
    assert refused.value.code == "duplicate_of_itself"

    duplicate_link_check(account=_account(pk=1), canonical=_account(pk=2))
