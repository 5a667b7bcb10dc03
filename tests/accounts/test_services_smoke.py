from datetime import timedelta

import pytest

from accounts.choices import StepStatus
from accounts.selectors import provisioning_status
from accounts.services import EventInput, account_events_record


@pytest.mark.django_db
def test_failed_import_blocks_then_success_clears(account, system):
    t0 = account.signed_up_at
    account_events_record(
        account=account,
        events=[EventInput("e1", "import.failed", t0 + timedelta(minutes=5), error_code="timeout")],
        actor=system,
    )
    status = provisioning_status(account)
    assert status.status == "action_required"
    assert status.blocking.reason_code == "import_failed"
    account_events_record(
        account=account,
        events=[EventInput("e2", "import.succeeded", t0 + timedelta(minutes=9))],
        actor=system,
    )
    status = provisioning_status(account)
    assert status.blocking is None
    assert {s["step"]: s["status"] for s in status.steps}["import_data"] == StepStatus.SUCCEEDED
    exc = account.exceptions.get()
    assert exc.status == "resolved" and "import.succeeded" in exc.resolution_note
    assert exc.history.first().history_user == system


@pytest.mark.django_db
def test_account_create_writes_history_for_account_and_steps(account, system):
    assert account.history.get().history_user == system
    steps = account.provisioning_steps.all()
    assert steps.count() == 5
    for step in steps:
        assert step.history.get().history_user == system
