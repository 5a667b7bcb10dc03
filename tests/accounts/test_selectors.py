"""Reads for the console and the API: what each selector returns, and to whom."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.choices import ExceptionStatus
from accounts.models import OpsException
from accounts.selectors import (
    account_last_event,
    account_lookup,
    accounts_visible_by_external_id,
    accounts_with_open_counts,
    exceptions_by_overdue,
    provisioning_step_of,
    provisioning_step_times,
)
from accounts.services import (
    EventInput,
    account_events_record,
    exception_open,
    exception_resolve,
    exception_set_status,
)

pytestmark = pytest.mark.django_db


def _record(account, actor, event_id, type_, at, error_code=""):
    account_events_record(
        account=account, events=[EventInput(event_id, type_, at, error_code=error_code)], actor=actor
    )


def test_the_account_list_counts_only_unresolved_exceptions(make_account, make_user, system):
    busy, quiet = make_account(), make_account()
    exception_open(account=busy, reason_code="unclear_setup_step", actor=system)
    done = exception_open(account=busy, reason_code="duplicate_account", actor=system)
    exception_resolve(exception=done, note="Kept the other one.", actor=system)

    counts = dict(accounts_with_open_counts(make_user("support")).values_list("pk", "open_exception_count"))

    assert counts[busy.pk] == 1
    assert counts[quiet.pk] == 0
    assert not accounts_with_open_counts(make_user(None)).exists()


def test_accounts_by_external_id_leave_out_unknown_and_hidden_ones(make_account, make_user):
    account = make_account()

    found = accounts_visible_by_external_id(
        user=make_user("support"), external_ids={account.external_id, "no-such-account"}
    )

    assert found == {account.external_id: account}
    assert accounts_visible_by_external_id(user=make_user(None), external_ids={account.external_id}) == {}


def test_overdue_is_one_rule_for_querysets_and_for_one_row(make_account, system):
    now = timezone.now()
    late = make_account(signed_up_at=now - timedelta(days=5))
    _record(late, system, "late-import", "import.failed", now - timedelta(days=4))
    fresh = make_account()
    exception_open(account=fresh, reason_code="unclear_setup_step", actor=system)
    answered = make_account(signed_up_at=now - timedelta(days=5))
    _record(answered, system, "old-invite", "invite.expired", now - timedelta(days=4))
    resolved = exception_resolve(
        exception=answered.exceptions.get(), note="Sent a new invitation.", actor=system
    )
    assert resolved.status == ExceptionStatus.RESOLVED  # past its target, but nobody waits now
    responded = make_account(signed_up_at=now - timedelta(days=5))
    _record(responded, system, "late-invite", "invite.expired", now - timedelta(days=4))
    acknowledged = exception_set_status(
        exception=responded.exceptions.get(), status=ExceptionStatus.IN_PROGRESS, actor=system
    )
    assert acknowledged.first_response_at  # answered late: the response clock has stopped

    exceptions = OpsException.objects.all()
    overdue = set(exceptions_by_overdue(exceptions, overdue=True))
    within = set(exceptions_by_overdue(exceptions, overdue=False))

    assert overdue == {late.exceptions.get()}
    assert within == {fresh.exceptions.get(), resolved, acknowledged}
    assert all(e.is_overdue for e in overdue) and not any(e.is_overdue for e in within)


def test_step_times_are_the_events_times_not_when_we_processed_them(make_account, system):
    account = make_account(signed_up_at=timezone.now() - timedelta(days=2))
    provisioned_at = account.signed_up_at + timedelta(minutes=7)
    _record(account, system, "ws", "workspace.provisioned", provisioned_at)

    times = provisioning_step_times(account)

    assert times["create_workspace"] == provisioned_at
    assert times["invite_admin"] is None


def test_lookups_an_action_needs(make_account, system):
    account = make_account()
    t0 = account.signed_up_at
    _record(account, system, "imp-1", "import.failed", t0 + timedelta(minutes=5), error_code="timeout")
    _record(account, system, "imp-2", "import.failed", t0 + timedelta(minutes=9), error_code="rate_limited")

    assert account_last_event(account=account, type="import.failed").event_id == "imp-2"
    assert account_last_event(account=account, type="workspace.failed") is None
    assert provisioning_step_of(account=account, step="import_data").status == "failed"
    assert provisioning_step_of(account=account, step="approve") is None
    assert account_lookup(external_id=account.external_id) == account
    assert account_lookup(external_id="no-such-account") is None
