"""Working an exception through guarded actions, and runbooks that match their buttons.

Every seeded runbook's allowed actions are offered on a matching exception to its owner role;
a fix run from the account page is the exception's first response and it waits for the success
event; billing does not move support's exceptions; a refused check is greyed with its reason."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.choices import ExceptionStatus
from accounts.services import EventInput, account_events_record, exception_open
from opsconsole.actions.registry import get_action
from opsconsole.actions.selectors import actions_offered
from opsconsole.actions.services import run_action
from opsconsole.errors import Conflict, PermissionRefused, ValidationFailed
from opsconsole.models import ActionRun, ActionStatus, Runbook
from opsconsole.runbooks import runbook_for_case
from tests.helpers.clients import logged_in
from tests.opsconsole.conftest import fail_import  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

WORKING = {"acknowledge_exception", "await_customer", "reassign_exception", "resolve_exception"}


def _event(account, type, system, minutes=1, **fields):
    account_events_record(
        account=account,
        events=[
            EventInput(
                f"{account.external_id}:{type}:{minutes}",
                type,
                account.signed_up_at + timedelta(minutes=minutes),
                **fields,
            )
        ],
        actor=system,
    )


def _matching_exception(runbook, make_account, system, fail_import):  # noqa: F811
    """An open exception this runbook governs, built as events would build it."""
    account = make_account(shape="self_serve_team")
    reason = runbook.reason_code.code
    if reason == "import_failed":
        exception = fail_import(account, (runbook.facts or {}).get("error_code", "schema_error"))
    elif reason == "invite_expired":
        _event(account, "invite.sent", system, 1)
        _event(account, "invite.expired", system, 2)
        exception = account.exceptions.get(reason_code__code=reason, status=ExceptionStatus.OPEN)
    else:
        exception = exception_open(
            account=account, reason_code=reason, evidence=dict(runbook.facts), actor=system
        )
    assert runbook_for_case(exception) == runbook, runbook.code
    return exception


def test_every_seeded_runbook_offers_its_allowed_actions(make_account, make_user, system, fail_import):  # noqa: F811
    runbooks = list(Runbook.objects.filter(active=True).select_related("reason_code"))
    assert len(runbooks) >= 8
    for runbook in runbooks:
        exception = _matching_exception(runbook, make_account, system, fail_import)
        user = make_user(runbook.owner_role)
        offered = {o.action.name: o for o in actions_offered(user, exception)}
        may = {name for name in runbook.allowed_actions if runbook.owner_role in get_action(name).roles}
        assert may <= set(offered), (runbook.code, sorted(may - set(offered)))
        refused = {name: o.refused for name, o in offered.items() if o.refused}
        assert not refused, (runbook.code, refused)
        # Nothing the runbook does not allow, beyond working the exception itself.
        assert set(offered) <= set(runbook.allowed_actions) | WORKING, (runbook.code, sorted(offered))


def test_the_exception_page_offers_account_fixes_of_its_runbook(console_for, make_account, system):
    account = make_account()
    _event(account, "invite.sent", system, 1)
    _event(account, "invite.expired", system, 2)
    exception = account.exceptions.get(reason_code__code="invite_expired")
    page = console_for("support").get(reverse("admin:accounts_opsexception_change", args=[exception.pk]))
    body = page.content.decode()
    assert 'data-action="resend_invite"' in body
    assert f"/opsconsole/actionrun/run/resend_invite/account/{account.pk}/" in body

    duplicate = make_account()
    dup = exception_open(account=duplicate, reason_code="duplicate_account", actor=system)
    body = (
        console_for("support")
        .get(reverse("admin:accounts_opsexception_change", args=[dup.pk]))
        .content.decode()
    )
    assert 'data-action="mark_duplicate"' in body


def test_resend_invite_from_the_account_page_is_the_first_response(make_account, make_user, system):
    account = make_account()
    _event(account, "invite.sent", system, 1)
    _event(account, "invite.expired", system, 2)
    exception = account.exceptions.get(reason_code__code="invite_expired")
    assert exception.first_response_at is None
    support = make_user("support")
    before = timezone.now()

    run = run_action(
        name="resend_invite",
        target=account,
        actor=support,
        evidence={"note": "email confirmed"},
        idempotency_key="k",
    ).run

    assert run.status == ActionStatus.SUCCEEDED and run.runbook.code == "invite-expired"
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.WAITING_ON_CUSTOMER
    assert exception.first_response_at >= before and not exception.is_overdue
    assert exception.history.latest().history_user == support
    assert any(c["model"] == "accounts.opsexception" for c in run.changes)  # on the run's record

    _event(account, "invite.accepted", system, 30)
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.RESOLVED


def _support_exception(account, system):
    return exception_open(account=account, reason_code="missing_permissions", actor=system)


@pytest.mark.parametrize(
    ("role", "allowed"), [("support", True), ("ops_lead", True), ("billing", False), ("engineering", False)]
)
def test_who_may_move_a_support_exception(make_account, make_user, system, role, allowed):
    exception = _support_exception(make_account(), system)
    user = make_user(role)
    call = lambda: run_action(  # noqa: E731
        name="acknowledge_exception",
        target=exception,
        actor=user,
        idempotency_key="k",
    )
    if allowed:
        assert call().run.status == ActionStatus.SUCCEEDED
        exception.refresh_from_db()
        assert exception.status == ExceptionStatus.IN_PROGRESS and exception.first_response_at
    else:
        with pytest.raises(PermissionRefused) as info:
            call()
        assert info.value.code == "not_your_exception" and "Support" in info.value.message
        exception.refresh_from_db()
        assert exception.status == ExceptionStatus.OPEN
        offered = {o.action.name: o for o in actions_offered(user, exception)}
        assert "Support" in offered["resolve_exception"].refused


def test_wait_then_reassign_with_a_reason(make_account, make_user, system):
    exception = _support_exception(make_account(), system)
    support, engineer = make_user("support"), make_user("engineering")
    run_action(
        name="await_customer",
        target=exception,
        actor=support,
        params={"note": "asked them to grant the admin role"},
        idempotency_key="w",
    )
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.WAITING_ON_CUSTOMER
    assert exception.history.latest().history_change_reason == "asked them to grant the admin role"

    run = run_action(
        name="reassign_exception",
        target=exception,
        actor=support,
        params={
            "team": "engineering",
            "owner": engineer.username,
            "reason": "role granted, setup still fails",
        },
        idempotency_key="r",
    ).run
    assert run.status == ActionStatus.SUCCEEDED
    exception.refresh_from_db()
    assert exception.owner_team == "engineering" and exception.owner_user == engineer
    assert exception.history.latest().history_change_reason == "role granted, setup still fails"
    # Now engineering's: support no longer moves it, the assignee does.
    with pytest.raises(PermissionRefused):
        run_action(
            name="acknowledge_exception",
            target=exception,
            actor=support,
            idempotency_key="a",
        )


def test_status_moves_ask_no_runbook_evidence_a_resolution_still_does(make_account, make_user, system):
    exception = _support_exception(make_account(), system)
    runbook = runbook_for_case(exception)
    assert runbook.evidence_required, "the test needs a runbook that asks for evidence"
    evidence_inputs = [f'name="evidence_{item["name"]}"' for item in runbook.evidence_required]
    support = make_user("support")
    client = logged_in(support)

    def form(name):
        url = reverse("admin:opsconsole_action_form", args=[name, "opsexception", exception.pk])
        page = client.get(url)
        assert page.status_code == 200, name
        return page.content.decode()

    for name in ("acknowledge_exception", "await_customer", "reassign_exception"):
        html = form(name)
        assert not [field for field in evidence_inputs if field in html], name
    assert 'name="param_reason"' in form("reassign_exception")
    assert all(field in form("resolve_exception") for field in evidence_inputs)

    run_action(name="acknowledge_exception", target=exception, actor=support, idempotency_key="a")
    run_action(
        name="reassign_exception",
        target=exception,
        actor=support,
        params={"team": "support", "reason": "back to the queue"},
        idempotency_key="r",
    )
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.IN_PROGRESS
    # The reason is still required: it is the reassignment's own parameter.
    with pytest.raises(ValidationFailed) as info:
        run_action(
            name="reassign_exception",
            target=exception,
            actor=support,
            params={"team": "engineering"},
            idempotency_key="r2",
        )
    assert info.value.code == "invalid_parameters" and "reason" in info.value.extra
    with pytest.raises(ValidationFailed) as info:
        run_action(
            name="resolve_exception",
            target=exception,
            actor=support,
            params={"note": "granted"},
            idempotency_key="s",
        )
    assert info.value.code == "evidence_required"


def test_reassign_to_someone_outside_the_team_is_refused(make_account, make_user, system):
    exception = _support_exception(make_account(), system)
    with pytest.raises(Exception) as info:
        run_action(
            name="reassign_exception",
            target=exception,
            actor=make_user("support"),
            params={"team": "engineering", "owner": make_user("billing").username, "reason": "x"},
            idempotency_key="r",
        )
    assert getattr(info.value, "code", "") == "owner_not_in_team"
    exception.refresh_from_db()
    assert exception.owner_team == "support"


def test_restart_is_greyed_after_the_one_allowed_restart(make_account, make_user, fail_import):  # noqa: F811
    exception = fail_import(make_account(), "timeout")
    support = make_user("support")
    before = {o.action.name: o for o in actions_offered(support, exception)}
    assert before["restart_import"].refused == ""
    run_action(
        name="restart_import", target=exception, actor=support, evidence={"note": "n"}, idempotency_key="k"
    )
    after = {o.action.name: o for o in actions_offered(support, exception)}
    assert "already restarted" in after["restart_import"].refused
    assert after["escalate_to_engineering"].refused == ""
    with pytest.raises(Conflict):
        run_action(
            name="restart_import",
            target=exception,
            actor=support,
            evidence={"note": "n"},
            idempotency_key="k2",
        )
    assert ActionRun.objects.filter(action="restart_import", status=ActionStatus.SUCCEEDED).count() == 1


def test_engineering_is_not_offered_escalate_to_engineering(make_account, make_user, fail_import):  # noqa: F811
    exception = fail_import(make_account(), "schema_error")
    offered = {o.action.name for o in actions_offered(make_user("engineering"), exception)}
    assert "escalate_to_engineering" not in offered
    assert "escalate_to_engineering" in {
        o.action.name for o in actions_offered(make_user("support"), exception)
    }
