"""The enforcement path: run_action with resolve_exception and restart_import."""

import pytest

import accounts.actions
from accounts.services import EventInput, account_events_record
from opsconsole.actions.registry import Action, register
from opsconsole.actions.services import run_action
from opsconsole.errors import ApplicationError, Conflict, PermissionRefused, ValidationFailed
from opsconsole.models import ActionRun, ActionStatus, OutboxMessage
from opsconsole.tasks import run_action_task
from routing.models import Escalation
from tests.helpers.billing import stored_stripe_event

pytestmark = pytest.mark.django_db


def test_resolve_exception_records_a_run_with_the_field_changes(account, fail_import, make_user):
    exception = fail_import(account)
    support = make_user("support")
    outcome = run_action(
        name="resolve_exception",
        target=exception,
        actor=support,
        params={"note": "Customer re-uploaded the file."},
        evidence={"note": "Checked the upload log."},
        idempotency_key="k1",
    )
    run = outcome.run
    exception.refresh_from_db()
    assert exception.status == "resolved"
    assert run.status == ActionStatus.SUCCEEDED
    assert run.actor == support and run.account == account
    assert run.runbook.code == "import-timeout"
    assert run.evidence == {"note": "Checked the upload log."}
    change = next(c for c in run.changes if c["model"] == "accounts.opsexception")
    fields = {f["field"]: (f["before"], f["after"]) for f in change["fields"]}
    assert fields["status"] == ("open", "resolved")
    assert run.before_state[f"accounts.opsexception:{exception.pk}"]["status"] == "open"
    assert run.after_state[f"accounts.opsexception:{exception.pk}"]["status"] == "resolved"
    assert exception.history.first().history_user == support


def test_resolution_note_is_required(account, fail_import, make_user):
    exception = fail_import(account)
    with pytest.raises(ValidationFailed) as info:
        run_action(
            name="resolve_exception",
            target=exception,
            actor=make_user("support"),
            params={"note": ""},
            evidence={"note": "x"},
            idempotency_key="k",
        )
    assert info.value.code == "invalid_parameters" and "note" in info.value.extra
    assert not ActionRun.objects.exists()


def test_runbook_evidence_is_required(account, fail_import, make_user):
    exception = fail_import(account)
    with pytest.raises(ValidationFailed) as info:
        run_action(name="restart_import", target=exception, actor=make_user("support"), idempotency_key="k")
    assert info.value.code == "evidence_required" and "note" in info.value.extra


def test_support_restarts_once_then_is_refused_with_escalation_offered(account, fail_import, make_user):
    exception = fail_import(account, "timeout")
    support = make_user("support")
    first = run_action(
        name="restart_import",
        target=exception,
        actor=support,
        evidence={"note": "timeout"},
        idempotency_key="a",
    ).run
    assert first.status == ActionStatus.SUCCEEDED
    message = OutboxMessage.objects.get(action_run=first)
    assert message.command == "import.restart" and message.account == account
    assert first.external_commands[0]["system"] == "product"
    assert first.external_commands[0]["payload"]["command_id"] == str(message.pk)
    with pytest.raises(Conflict) as info:
        run_action(
            name="restart_import",
            target=exception,
            actor=support,
            evidence={"note": "again"},
            idempotency_key="b",
        )
    assert info.value.code == "restart_limit_reached"
    assert info.value.extra["offer"] == "escalate_to_engineering"
    refused = ActionRun.objects.get(pk=info.value.extra["action_run"])
    assert refused.status == ActionStatus.REFUSED and refused.error_code == "restart_limit_reached"
    assert OutboxMessage.objects.count() == 1
    # Engineering may restart it again.
    again = run_action(
        name="restart_import",
        target=exception,
        actor=make_user("engineering"),
        evidence={"note": "retrying after fix"},
        idempotency_key="c",
    ).run
    assert again.status == ActionStatus.SUCCEEDED


def test_schema_error_is_not_restartable(account, fail_import, make_user):
    exception = fail_import(account, "schema_error")
    with pytest.raises(Conflict) as info:
        run_action(
            name="restart_import",
            target=exception,
            actor=make_user("support"),
            evidence={"note": "n"},
            idempotency_key="a",
        )
    # The general import runbook does not allow restarts at all.
    assert info.value.code == "not_allowed_by_runbook"


def test_same_key_twice_gives_one_run(account, fail_import, make_user):
    exception = fail_import(account)
    support = make_user("support")
    kwargs = {
        "name": "restart_import",
        "target": exception,
        "actor": support,
        "evidence": {"note": "n"},
        "idempotency_key": "same",
    }
    first = run_action(**kwargs)
    second = run_action(**kwargs)
    assert second.duplicate and second.run.pk == first.run.pk
    assert ActionRun.objects.count() == 1 and OutboxMessage.objects.count() == 1


def test_action_run_cannot_be_edited_or_deleted(resolved_run):
    run = resolved_run
    run.params = {"note": "rewritten"}
    with pytest.raises(ValueError):
        run.save()
    with pytest.raises(ValueError):
        run.delete()


def test_database_refuses_changes_to_a_run(resolved_run):
    from django.db import DatabaseError, connection, transaction

    run = resolved_run
    for sql in (
        "UPDATE opsconsole_actionrun SET params = '{}' WHERE id = %s",
        "DELETE FROM opsconsole_actionrun WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [run.pk])
    assert ActionRun.objects.get(pk=run.pk).params == {"note": "done"}


def test_role_without_permission_is_refused_and_recorded(account, fail_import, make_user):
    exception = fail_import(account)
    billing = make_user("billing")
    with pytest.raises(PermissionRefused):
        run_action(
            name="restart_import",
            target=exception,
            actor=billing,
            evidence={"note": "n"},
            idempotency_key="k",
        )
    run = ActionRun.objects.get()
    assert run.status == ActionStatus.REFUSED and run.error_code == "action_not_permitted"
    assert not OutboxMessage.objects.exists()


def test_refused_restart_then_escalation_carries_telemetry(account, fail_import, make_user):
    from datetime import timedelta

    logins = [
        EventInput(f"login-{n}", "user.login", account.signed_up_at + timedelta(seconds=n)) for n in range(4)
    ]
    account_events_record(account=account, events=logins, actor=account.events.first().recorded_by)
    exception = fail_import(account, "timeout")
    support = make_user("support")
    run_action(
        name="restart_import", target=exception, actor=support, evidence={"note": "n"}, idempotency_key="1"
    )
    with pytest.raises(Conflict) as info:
        run_action(
            name="restart_import",
            target=exception,
            actor=support,
            evidence={"note": "n"},
            idempotency_key="2",
        )
    assert info.value.extra["offer"] == "escalate_to_engineering"

    run = run_action(
        name=info.value.extra["offer"],
        target=exception,
        actor=support,
        params={"summary": "Import keeps timing out after a restart"},
        evidence={"note": "restarted once, failed again"},
        idempotency_key="3",
    ).run
    assert run.status == ActionStatus.SUCCEEDED
    escalation = Escalation.objects.get(pk=run.result["escalation"])
    # The runbook's stop rule ran out: engineering, even though import_failed has a runbook.
    assert escalation.kind == "engineering" and escalation.queue.code == "engineering-triage"
    telemetry = escalation.telemetry
    assert telemetry["account"] == account.external_id and telemetry["plan"] == account.plan
    assert telemetry["error_code"] == "timeout" and telemetry["request_id"].startswith("req-")
    assert telemetry["feature_area"] == "imports"
    assert len(telemetry["last_events"]) == 5
    assert {"import.failed", "import.restart_requested"} <= {e["type"] for e in telemetry["last_events"]}
    exception.refresh_from_db()
    assert exception.status == "escalated"


def test_replay_webhook_reprocesses_and_reports_whether_state_changed(account, make_user):
    customer = {"id": "cus_1", "object": "customer", "metadata": {"account_external_id": account.external_id}}
    stored_stripe_event("evt_1", "customer.created", customer)
    billing = make_user("billing")
    first = run_action(
        name="replay_webhook",
        target=account,
        actor=billing,
        params={"stripe_event": "evt_1"},
        idempotency_key="1",
    ).run
    account.refresh_from_db()
    assert account.stripe_customer_id == "cus_1"
    assert first.result["changed_state"] is True and "accounts.account" in first.result["changed"]
    again = run_action(
        name="replay_webhook",
        target=account,
        actor=billing,
        params={"stripe_event": "evt_1"},
        idempotency_key="2",
    ).run
    assert again.status == ActionStatus.SUCCEEDED and again.result["changed_state"] is False
    with pytest.raises(ValidationFailed):
        run_action(
            name="replay_webhook",
            target=account,
            actor=billing,
            params={"stripe_event": "evt_x"},
            idempotency_key="3",
        )


def test_celery_entry_point_goes_through_run_action_and_is_idempotent(account, fail_import, make_user):

    exception = fail_import(account)
    support = make_user("support")
    target = ("accounts.OpsException", str(exception.pk))
    args = ("resolve_exception", *target, support.pk, {"note": "auto"}, "job-1", {"note": "n"})
    first = run_action_task.apply(args=args).get()
    second = run_action_task.apply(args=args).get()
    assert first == second
    run = ActionRun.objects.get()
    assert run.entry_point == "celery" and run.status == ActionStatus.SUCCEEDED
    # The same path refuses a role without the permission.
    with pytest.raises(PermissionRefused):
        run_action_task.apply(
            args=("restart_import", *target, make_user("billing").pk, {}, "job-2", {"note": "n"})
        )


def test_resend_invite_emits_a_command_and_is_refused_once_accepted(account, make_user, system):
    from datetime import timedelta

    support = make_user("support")
    run = run_action(name="resend_invite", target=account, actor=support, idempotency_key="1").run
    message = OutboxMessage.objects.get(action_run=run)
    assert message.command == "invite.resend" and message.payload == {"email": account.admin_email}
    accepted = EventInput("invite-accepted", "invite.accepted", account.signed_up_at + timedelta(hours=1))
    account_events_record(account=account, events=[accepted], actor=system)
    with pytest.raises(Conflict) as info:
        run_action(name="resend_invite", target=account, actor=support, idempotency_key="2")
    assert info.value.code == "invite_already_accepted"
    assert OutboxMessage.objects.count() == 1


def test_a_broken_preview_is_a_clear_refusal_not_a_crash(account, fail_import, make_user, monkeypatch):

    def broken(**kwargs):
        raise RuntimeError("timeline unavailable")

    monkeypatch.setattr(accounts.actions, "account_event_note", broken)
    with pytest.raises(ApplicationError) as info:
        run_action(
            name="restart_import",
            target=fail_import(account),
            actor=make_user("support"),
            evidence={"note": "n"},
            dry_run=True,
        )
    assert info.value.code == "dry_run_failed" and info.value.status == 422
    assert not ActionRun.objects.exists() and not OutboxMessage.objects.exists()


def test_an_action_without_an_effect_cannot_be_registered():

    class NoEffect(Action):
        name = "no_effect"
        label = "No effect"
        target_model = "accounts.Account"

    with pytest.raises(TypeError, match="perform"):
        register(NoEffect)


@pytest.mark.parametrize(
    "attempt",
    [
        {"preview_token": "forged"},  # 400 preview_invalid to someone who may run it
        {},  # a live run with no Idempotency-Key: 400 idempotency_key_required
    ],
)
def test_a_role_without_permission_hears_403_before_any_other_refusal(
    attempt, account, fail_import, make_user
):
    exception = fail_import(account)
    with pytest.raises(PermissionRefused):
        run_action(
            name="restart_import",
            target=exception,
            actor=make_user("billing"),
            evidence={"note": "n"},
            **attempt,
        )
    with pytest.raises(ValidationFailed):  # the same attempt by someone who may run it
        run_action(
            name="restart_import",
            target=exception,
            actor=make_user("support"),
            evidence={"note": "n"},
            **attempt,
        )
