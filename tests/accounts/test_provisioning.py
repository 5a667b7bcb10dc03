"""Provisioning: the step state machine driven by events, and the exceptions failures open."""

from datetime import timedelta

import pytest

from accounts.choices import ExceptionStatus, LifecycleStage, ProvisioningStatus, StepStatus
from accounts.models import AccountEvent, OpsException, ProvisioningStep
from accounts.selectors import provisioning_status
from accounts.services import EventInput, account_approve, account_events_record
from opsconsole.errors import Conflict

pytestmark = pytest.mark.django_db


def record(account, actor, *events):
    """``events`` are (event_id, type, minutes after signup[, error_code])."""
    inputs = [
        EventInput(
            event_id=e[0],
            type=e[1],
            occurred_at=account.signed_up_at + timedelta(minutes=e[2]),
            error_code=e[3] if len(e) > 3 else "",
        )
        for e in events
    ]
    return account_events_record(account=account, events=inputs, actor=actor)


FULL_STEPS = {"assign_plan", "create_workspace", "invite_admin", "connect_integration", "import_data"}


def steps_of(account):
    return dict(ProvisioningStep.objects.filter(account=account).values_list("step", "status"))


@pytest.mark.parametrize(
    ("shape", "flags", "expected"),
    [
        ("free_trial", [], {"assign_plan", "create_workspace", "invite_admin"}),
        (
            "self_serve_team",
            [],
            {"assign_plan", "create_workspace", "invite_admin", "connect_integration", "import_data"},
        ),
        (
            "enterprise",
            [],
            {
                "approve",
                "assign_plan",
                "create_workspace",
                "invite_admin",
                "connect_integration",
                "import_data",
            },
        ),
        ("free_trial", ["identity_review"], {"approve", "assign_plan", "create_workspace", "invite_admin"}),
    ],
)
def test_a_new_account_has_the_steps_of_its_shape_all_pending(make_account, shape, flags, expected):
    account = make_account(shape=shape, flags=flags)
    steps = steps_of(account)
    assert set(steps) == expected
    assert set(steps.values()) == {StepStatus.PENDING}


def test_steps_move_with_events_until_ready(make_account, system):
    account = make_account(shape="free_trial")
    assert provisioning_status(account).status == ProvisioningStatus.PENDING

    record(account, system, ("e1", "plan.assigned", 1), ("e2", "invite.sent", 2))
    assert steps_of(account)["invite_admin"] == StepStatus.IN_PROGRESS
    assert provisioning_status(account).status == ProvisioningStatus.IN_PROGRESS
    account.refresh_from_db()
    assert account.lifecycle_stage == LifecycleStage.ONBOARDING

    record(account, system, ("e3", "workspace.provisioned", 3), ("e4", "invite.accepted", 30))
    assert set(steps_of(account).values()) == {StepStatus.SUCCEEDED}
    assert provisioning_status(account).status == ProvisioningStatus.READY


def test_step_history_is_attributed_to_the_actor(account, make_user):
    staff = make_user("ops_lead")
    record(account, staff, ("e1", "workspace.provisioned", 5))
    step = ProvisioningStep.objects.get(account=account, step="create_workspace")
    assert step.history.latest().history_user == staff
    assert step.history.earliest().history_type == "+"  # created with history, too


@pytest.mark.parametrize(
    ("event_type", "error_code", "reason_code", "step"),
    [
        ("import.failed", "", "import_failed", "import_data"),
        ("import.failed", "timeout", "import_failed", "import_data"),  # unknown code: the step's default
        ("import.failed", "missing_permissions", "missing_permissions", "import_data"),
        ("integration.failed", "token_expired", "token_expired", "connect_integration"),
        ("integration.failed", "oauth_denied", "integration_failed", "connect_integration"),
        ("invite.expired", "", "invite_expired", "invite_admin"),
        ("workspace.failed", "region_capacity", "workspace_failed", "create_workspace"),
    ],
)
def test_a_failure_opens_an_exception_with_the_mapped_reason_code(
    account, system, event_type, error_code, reason_code, step
):
    record(account, system, ("f1", event_type, 10, error_code))

    exception = OpsException.objects.get(account=account)
    assert exception.reason_code.code == reason_code
    assert exception.status == ExceptionStatus.OPEN
    assert exception.opened_at == account.signed_up_at + timedelta(minutes=10)
    assert exception.evidence["event_id"] == "f1"
    assert AccountEvent.objects.get(event_id="f1").reason_code.code == reason_code
    status = provisioning_status(account)
    assert status.status == ProvisioningStatus.ACTION_REQUIRED
    assert status.blocking.step == step
    assert status.blocking.reason_code == reason_code
    assert status.blocking.message == exception.reason_code.customer_message
    assert status.blocking.next_action == exception.reason_code.customer_next_action


def test_token_expired_tells_the_customer_to_reconnect(account, system):
    record(account, system, ("f1", "integration.failed", 10, "token_expired"))
    assert provisioning_status(account).blocking.message == (
        "Integration token expired; reconnect Google Workspace."
    )


def test_a_later_success_resolves_the_exception_with_a_note(account, system):
    record(account, system, ("f1", "integration.failed", 10, "token_expired"))
    record(account, system, ("s1", "integration.connected", 70))

    exception = OpsException.objects.get(account=account)
    assert exception.status == ExceptionStatus.RESOLVED
    assert "integration.connected" in exception.resolution_note and "s1" in exception.resolution_note
    # Time to resolve is measured to the fix, not to when the event reached us.
    assert exception.resolved_at == account.signed_up_at + timedelta(minutes=70)
    assert provisioning_status(account).blocking is None
    assert steps_of(account)["connect_integration"] == StepStatus.SUCCEEDED


def test_success_resolves_every_problem_of_the_step(account, system):
    record(account, system, ("f1", "integration.failed", 10, "token_expired"))
    record(account, system, ("f2", "integration.failed", 20, "missing_permissions"))
    assert OpsException.objects.filter(account=account, status=ExceptionStatus.OPEN).count() == 2

    record(account, system, ("s1", "integration.connected", 30))

    assert not OpsException.objects.filter(account=account).exclude(status=ExceptionStatus.RESOLVED).exists()


def test_a_repeated_failure_keeps_one_open_exception(account, system):
    record(account, system, ("f1", "import.failed", 10))
    record(account, system, ("f2", "import.failed", 20))
    assert OpsException.objects.filter(account=account).count() == 1


def test_a_failure_after_resolution_opens_a_new_exception(account, system):
    record(account, system, ("f1", "import.failed", 10), ("s1", "import.succeeded", 20))
    record(account, system, ("f2", "import.failed", 30))
    statuses = sorted(OpsException.objects.filter(account=account).values_list("status", flat=True))
    assert statuses == [ExceptionStatus.OPEN, ExceptionStatus.RESOLVED]


def test_an_older_event_never_moves_a_step_backwards(account, system):
    record(account, system, ("s1", "import.succeeded", 60))
    record(account, system, ("f1", "import.failed", 30), ("st", "import.started", 10))

    assert steps_of(account)["import_data"] == StepStatus.SUCCEEDED
    assert not OpsException.objects.filter(account=account).exists()
    assert provisioning_status(account).blocking is None
    step = ProvisioningStep.objects.get(account=account, step="import_data")
    assert step.last_event.event_id == "s1"


def test_events_in_one_batch_apply_in_time_order_whatever_the_order_sent(account, system):
    record(account, system, ("s1", "import.succeeded", 60), ("f1", "import.failed", 30))
    # The failure came first in time, so it opened an exception the success then resolved.
    assert steps_of(account)["import_data"] == StepStatus.SUCCEEDED
    assert OpsException.objects.get(account=account).status == ExceptionStatus.RESOLVED


def test_a_duplicate_event_has_one_effect(account, system):
    first = record(account, system, ("f1", "import.failed", 10), ("f1", "import.failed", 10))
    again = record(account, system, ("f1", "import.failed", 10))

    assert (first.accepted, first.duplicates) == (1, 1)
    assert (again.accepted, again.duplicates) == (0, 1)
    assert AccountEvent.objects.filter(event_id="f1").count() == 1
    assert OpsException.objects.filter(account=account).count() == 1


@pytest.fixture
def enterprise(make_account, make_channel):
    return make_account(shape="enterprise", channel=make_channel("outbound", kind="outbound"))


def test_enterprise_is_under_review_until_approved(enterprise, system, make_user):
    record(
        enterprise,
        system,
        ("p", "plan.assigned", 1),
        ("w", "workspace.provisioned", 2),
        ("i", "invite.accepted", 3),
        ("c", "integration.connected", 4),
        ("d", "import.succeeded", 5),
    )
    assert provisioning_status(enterprise).status == ProvisioningStatus.UNDER_REVIEW
    review = OpsException.objects.get(account=enterprise)
    assert review.reason_code.code == "enterprise_review" and review.status == ExceptionStatus.OPEN
    assert review.owner_team == "ops_lead"

    ops_lead = make_user("ops_lead")
    account_approve(account=enterprise, note="Contract signed", actor=ops_lead)

    assert provisioning_status(enterprise).status == ProvisioningStatus.READY
    review.refresh_from_db()
    assert review.status == ExceptionStatus.RESOLVED
    assert review.history.latest().history_user == ops_lead
    with pytest.raises(Conflict) as refused:
        account_approve(account=enterprise, actor=ops_lead)
    assert refused.value.code == "already_approved"


def test_identity_review_flag_holds_under_review_until_verified(make_account, system):
    account = make_account(shape="free_trial", flags=["identity_review"])
    record(account, system, ("p", "plan.assigned", 1), ("w", "workspace.provisioned", 2))
    assert provisioning_status(account).status == ProvisioningStatus.UNDER_REVIEW
    assert OpsException.objects.get(account=account).reason_code.code == "identity_review"

    record(account, system, ("v", "identity.verified", 30))

    assert provisioning_status(account).status == ProvisioningStatus.IN_PROGRESS
    assert OpsException.objects.get(account=account).status == ExceptionStatus.RESOLVED


def test_an_account_without_review_cannot_be_approved(account, make_user):
    with pytest.raises(Conflict) as refused:
        account_approve(account=account, actor=make_user("ops_lead"))
    assert refused.value.code == "approval_not_required"


def test_cancelled_before_ready_is_failed(account, system):
    record(account, system, ("w", "workspace.provisioned", 2), ("x", "subscription.cancelled", 90))
    account.refresh_from_db()
    assert account.lifecycle_stage == LifecycleStage.CHURNED
    assert provisioning_status(account).status == ProvisioningStatus.FAILED


def test_cancelled_after_ready_stays_ready(make_account, system):
    account = make_account(shape="free_trial")
    record(
        account,
        system,
        ("p", "plan.assigned", 1),
        ("w", "workspace.provisioned", 2),
        ("i", "invite.accepted", 3),
        ("x", "subscription.cancelled", 90),
    )
    assert provisioning_status(account).status == ProvisioningStatus.READY
