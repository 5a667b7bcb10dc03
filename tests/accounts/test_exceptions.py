"""Exceptions: one unresolved per (account, reason), response targets, resolution, history."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.choices import ExceptionStatus
from accounts.models import OpsException, ReasonCode
from accounts.services import exception_open, exception_resolve, exception_set_status
from opsconsole.errors import Conflict, ValidationFailed
from tests.helpers.race import run_together


def _insert(account, reason, status=ExceptionStatus.OPEN):
    now = timezone.now()
    return OpsException.objects.create(
        account=account,
        reason_code=reason,
        status=status,
        owner_team=reason.owner_team,
        target_response_minutes=60,
        respond_by=now + timedelta(hours=1),
        opened_at=now,
        resolved_at=now if status == ExceptionStatus.RESOLVED else None,
    )


@pytest.mark.django_db
def test_the_database_refuses_a_second_unresolved_exception_for_the_same_reason(account):
    reason = ReasonCode.objects.get(code="import_failed")
    _insert(account, reason)
    with pytest.raises(IntegrityError), transaction.atomic():
        _insert(account, reason, status=ExceptionStatus.WAITING_ON_CUSTOMER)


@pytest.mark.django_db
def test_resolved_exceptions_do_not_count_against_the_constraint(account):
    reason = ReasonCode.objects.get(code="import_failed")
    _insert(account, reason, status=ExceptionStatus.RESOLVED)
    _insert(account, reason, status=ExceptionStatus.RESOLVED)
    _insert(account, reason)
    _insert(account, ReasonCode.objects.get(code="token_expired"))  # another reason is another row
    assert OpsException.objects.filter(account=account).count() == 4


@pytest.mark.django_db
def test_opening_twice_returns_the_open_one(account, system):
    first = exception_open(account=account, reason_code="unclear_setup_step", actor=system)
    second = exception_open(account=account, reason_code="unclear_setup_step", actor=system)
    assert first.pk == second.pk


@pytest.mark.django_db
def test_an_unknown_reason_code_is_refused(account, system):
    with pytest.raises(ValidationFailed) as refused:
        exception_open(account=account, reason_code="no_such_reason", actor=system)
    assert refused.value.code == "unknown_reason_code"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_opens_make_one_exception(account, system):
    opened = run_together(
        4, lambda _: exception_open(account=account, reason_code="billing_mismatch", actor=system).pk
    )

    assert len(set(opened)) == 1
    assert OpsException.objects.filter(account=account).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("shape", "channel_sla", "reason", "expected"),
    [
        ("self_serve_team", None, "import_failed", 240),  # reason 240 < shape 480
        ("self_serve_team", None, "unclear_setup_step", 480),  # reason 480 = shape 480
        ("free_trial", None, "unclear_setup_step", 480),  # reason 480 < shape 1440
        ("sales_assisted_business", None, "unclear_setup_step", 240),  # shape 240 < reason 480
        ("enterprise", None, "import_failed", 60),  # enterprise shape: 60 min
        ("self_serve_team", 30, "import_failed", 30),  # the channel's contract is tightest
        ("enterprise", 90, "import_failed", 60),
    ],
)
def test_response_target_is_the_tightest_of_reason_shape_and_channel(
    make_account, make_channel, system, shape, channel_sla, reason, expected
):
    channel = make_channel(support_sla_minutes=channel_sla)
    account = make_account(shape=shape, channel=channel)

    exception = exception_open(account=account, reason_code=reason, actor=system)

    assert exception.target_response_minutes == expected
    assert exception.respond_by == exception.opened_at + timedelta(minutes=expected)
    assert exception.owner_team == ReasonCode.objects.get(code=reason).owner_team


@pytest.mark.django_db
@pytest.mark.parametrize("note", ["", "   "])
def test_resolving_needs_a_note(account, system, note):
    exception = exception_open(account=account, reason_code="unclear_setup_step", actor=system)
    with pytest.raises(ValidationFailed) as refused:
        exception_resolve(exception=exception, note=note, actor=system)
    assert refused.value.code == "resolution_note_required"
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.OPEN


@pytest.mark.django_db
def test_resolving_records_note_time_and_who(account, make_user, system):
    exception = exception_open(account=account, reason_code="unclear_setup_step", actor=system)
    support = make_user("support")

    exception_resolve(exception=exception, note="  Walked them through setup.  ", actor=support)

    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.RESOLVED
    assert exception.resolution_note == "Walked them through setup."
    assert exception.resolved_at is not None and exception.first_response_at is not None
    assert exception.resolved_by == support
    history = list(exception.history.order_by("history_date"))
    assert [h.history_user for h in history] == [system, support]
    with pytest.raises(Conflict):
        exception_resolve(exception=exception, note="again", actor=support)


@pytest.mark.django_db
@pytest.mark.parametrize("offset_hours, expected", [(2, "given"), (-5, "opened"), (1_000, "now")])
def test_work_recorded_after_the_fact_keeps_its_time_within_bounds(account, system, offset_hours, expected):
    exception = exception_open(account=account, reason_code="unclear_setup_step", actor=system)
    exception.opened_at = timezone.now() - timedelta(days=3)
    exception.save(update_fields=["opened_at"])
    given = exception.opened_at + timedelta(hours=offset_hours)
    before = timezone.now()

    exception_resolve(exception=exception, note="Done on a call.", actor=system, resolved_at=given)

    exception.refresh_from_db()
    assert exception.first_response_at == exception.resolved_at
    if expected == "given":
        assert exception.resolved_at == given
    elif expected == "opened":  # never before the exception opened
        assert exception.resolved_at == exception.opened_at
    else:  # never later than now
        assert before <= exception.resolved_at <= timezone.now()


@pytest.mark.django_db
def test_status_changes_go_through_the_working_states(account, make_user, system):
    exception = exception_open(account=account, reason_code="unclear_setup_step", actor=system)
    engineer = make_user("engineering")

    exception_set_status(exception=exception, status=ExceptionStatus.ESCALATED, actor=engineer)
    exception.refresh_from_db()
    first_response = exception.first_response_at
    assert exception.status == ExceptionStatus.ESCALATED and first_response is not None
    assert exception.history.latest().history_user == engineer

    exception_set_status(exception=exception, status=ExceptionStatus.IN_PROGRESS, actor=engineer)
    exception.refresh_from_db()
    assert exception.first_response_at == first_response  # the first response happens once


@pytest.mark.django_db
@pytest.mark.parametrize("status", [ExceptionStatus.RESOLVED, "closed", ""])
def test_set_status_refuses_resolved_and_unknown_states(account, system, status):
    exception = exception_open(account=account, reason_code="unclear_setup_step", actor=system)
    with pytest.raises(ValidationFailed):
        exception_set_status(exception=exception, status=status, actor=system)
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.OPEN


@pytest.mark.django_db
def test_a_resolved_exception_cannot_be_reopened_by_status(account, system):
    exception = exception_open(account=account, reason_code="unclear_setup_step", actor=system)
    exception_resolve(exception=exception, note="done", actor=system)
    with pytest.raises(Conflict):
        exception_set_status(exception=exception, status=ExceptionStatus.OPEN, actor=system)
