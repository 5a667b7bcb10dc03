"""Dry runs, reviewed previews, approvals (four eyes) and reversals, with reassign_plan."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from accounts.models import Account
from accounts.services import account_plan_change, exception_open
from opsconsole.actions.services import (
    action_run_reverse,
    approval_decide,
    approvals_alert_overdue,
    approvals_expire,
    run_action,
)
from opsconsole.errors import ApplicationError, Conflict, PermissionRefused, ValidationFailed
from opsconsole.models import ActionApproval, ActionRun, ActionStatus, ApprovalStatus
from tests.helpers.race import run_together
from tests.opsconsole.conftest import transactional

pytestmark = pytest.mark.django_db


def database_snapshot() -> dict:
    """Every row of every table, so a test can prove nothing was written."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for model in apps.get_models()
        if model._meta.label != "sessions.Session"
    }


def _plan_change(account, actor, plan, **extra):
    return run_action(name="reassign_plan", target=account, actor=actor, params={"plan": plan}, **extra)


@transactional
def test_dry_run_changes_nothing_and_lists_stripe_and_entitlement_diff(
    make_account, make_user, receiver, settings
):
    settings.PRODUCT_WEBHOOK_URL = settings.ALERT_WEBHOOK_URL = receiver.url
    account = make_account(shape="self_serve_team")
    Account.objects.filter(pk=account.pk).update(
        plan_source="stripe", stripe_subscription_id="sub_123", mrr_cents=19_900
    )
    billing = make_user("billing")
    before = database_snapshot()
    outcome = _plan_change(account, billing, "business", dry_run=True)
    assert database_snapshot() == before
    assert receiver.requests == []
    preview = outcome.preview
    fields = {
        f["field"]: (f["before"], f["after"])
        for c in preview["changes"]
        if c["model"] == "accounts.account"
        for f in c["fields"]
    }
    assert fields["plan"] == ("team", "business")
    assert fields["mrr_cents"] == (19_900, 79_900)
    assert any(c["model"] == "accounts.accountevent" for c in preview["changes"])
    stripe_call = next(c for c in preview["external_calls"] if c["system"] == "stripe")
    assert stripe_call["payload"] == {"subscription": "sub_123", "plan": "business"}
    assert stripe_call["performed"] is False
    derived = {d["key"]: (d["before"], d["after"]) for d in preview["derived_changes"]}
    assert derived["feature:sso"] == (None, True)
    assert derived["limit:seats"] == (25, 100)
    assert "MRR changes by 600.00" in preview["needs_approval"]
    assert outcome.preview_token


def test_committing_a_reviewed_preview_runs_it_once(account, make_user):
    billing = make_user("billing")
    preview = _plan_change(account, billing, "starter", dry_run=True)
    committed = run_action(
        name="reassign_plan", target=account, actor=billing, preview_token=preview.preview_token
    )
    again = run_action(
        name="reassign_plan", target=account, actor=billing, preview_token=preview.preview_token
    )
    account.refresh_from_db()
    assert committed.run.status == ActionStatus.SUCCEEDED and account.plan == "starter"
    assert committed.run.preview["changes"] == preview.preview["changes"]
    assert again.duplicate and again.run.pk == committed.run.pk
    assert ActionRun.objects.count() == 1


def test_preview_of_a_changed_account_is_refused(account, make_user, system):

    billing = make_user("billing")
    preview = _plan_change(account, billing, "starter", dry_run=True)
    account_plan_change(account=account, plan="free", mrr_cents=0, actor=system)
    with pytest.raises(Conflict) as info:
        run_action(name="reassign_plan", target=account, actor=billing, preview_token=preview.preview_token)
    assert info.value.code == "state_changed"
    assert "preview again" in info.value.message
    account.refresh_from_db()
    assert account.plan == "free"


def test_preview_token_is_bound_to_its_user(account, make_user):
    preview = _plan_change(account, make_user("billing"), "starter", dry_run=True)
    with pytest.raises(ValidationFailed) as info:
        run_action(
            name="reassign_plan",
            target=account,
            actor=make_user("billing"),
            preview_token=preview.preview_token,
        )
    assert info.value.code == "preview_mismatch"


def _billing_and_lead(make_user):
    from django.contrib.auth.models import Group

    requester = make_user("billing")
    requester.groups.add(Group.objects.get(name="ops_lead"))  # may approve, but not their own
    return type(requester).objects.get(pk=requester.pk), make_user("ops_lead")


def test_enterprise_change_waits_for_approval_and_self_approval_is_refused(account, make_user):
    requester, lead = _billing_and_lead(make_user)
    run = _plan_change(account, requester, "enterprise", idempotency_key="k").run
    assert run.status == ActionStatus.AWAITING_APPROVAL
    approval = run.approval
    assert "enterprise" in approval.reason
    account.refresh_from_db()
    assert account.plan == "team"
    with pytest.raises(PermissionRefused) as info:
        approval_decide(approval=approval, approve=True, actor=requester)
    assert info.value.code == "self_approval"
    with pytest.raises(PermissionRefused):
        approval_decide(approval=approval, approve=True, actor=make_user("billing"))
    approval_decide(approval=approval, approve=True, note="ok", actor=lead)
    run.refresh_from_db()
    account.refresh_from_db()
    assert run.status == ActionStatus.SUCCEEDED and account.plan == "enterprise"
    with pytest.raises(Conflict) as info:
        approval_decide(approval=approval, approve=True, actor=make_user("ops_lead"))
    assert info.value.code == "approval_already_decided"
    assert account.history.filter(plan="enterprise").count() == 1


def test_database_refuses_self_approval(account, make_user):
    from django.db import IntegrityError, transaction

    requester, _ = _billing_and_lead(make_user)
    approval = _plan_change(account, requester, "enterprise", idempotency_key="k").run.approval
    approval.decided_by = requester
    with pytest.raises(IntegrityError), transaction.atomic():
        approval.save()


@transactional
def test_concurrent_approvals_run_the_action_once(account, make_user):
    requester = make_user("billing")
    leads = [make_user("ops_lead"), make_user("ops_lead")]
    approval = _plan_change(account, requester, "enterprise", idempotency_key="k").run.approval

    def approve(i):
        try:
            approval_decide(approval=approval, approve=True, actor=leads[i])
        except Conflict as exc:
            return exc.code
        return "approved"

    results = run_together(2, approve)
    assert sorted(results) == ["approval_already_decided", "approved"]
    assert Account.objects.get(pk=account.pk).history.filter(plan="enterprise").count() == 1
    assert ActionRun.objects.get().status == ActionStatus.SUCCEEDED


@transactional
def test_concurrent_submits_with_one_key_give_one_run(account, make_user):
    billing = make_user("billing")
    outcomes = run_together(
        3, lambda _: _plan_change(account, billing, "starter", idempotency_key="double-click")
    )
    assert len(outcomes) == 3
    assert len({o.run.pk for o in outcomes}) == 1
    assert sum(o.duplicate for o in outcomes) == 2
    assert ActionRun.objects.count() == 1
    assert Account.objects.get(pk=account.pk).history.filter(plan="starter").count() == 1


def test_rejection_and_expiry_refuse_the_run(account, make_user):
    requester, lead = _billing_and_lead(make_user)
    rejected = _plan_change(account, requester, "enterprise", idempotency_key="a").run
    approval_decide(approval=rejected.approval, approve=False, note="not agreed", actor=lead)
    rejected.refresh_from_db()
    assert rejected.status == ActionStatus.REFUSED and rejected.error_code == "approval_rejected"

    expiring = _plan_change(account, requester, "enterprise", idempotency_key="b").run
    ActionApproval.objects.filter(pk=expiring.approval.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    with pytest.raises(Conflict) as info:
        approval_decide(approval=expiring.approval, approve=True, actor=lead)
    assert info.value.code == "approval_expired"
    expiring.refresh_from_db()
    assert expiring.status == ActionStatus.REFUSED and expiring.approval.status == ApprovalStatus.EXPIRED
    account.refresh_from_db()
    assert account.plan == "team"


def test_a_second_request_while_one_waits_is_refused_until_it_is_decided(account, make_account, make_user):
    requester, lead = _billing_and_lead(make_user)
    first = _plan_change(account, requester, "enterprise", idempotency_key="a").run
    assert first.status == ActionStatus.AWAITING_APPROVAL

    # The preview says so before anyone confirms...
    with pytest.raises(Conflict) as info:
        _plan_change(account, make_user("billing"), "enterprise", dry_run=True)
    assert info.value.code == "approval_already_requested"
    assert f"Run #{first.pk} (reassign_plan by {requester.username})" in info.value.message
    # ...and a confirmed request is recorded as refused, leaving one request in the inbox.
    with pytest.raises(Conflict) as info:
        _plan_change(account, make_user("billing"), "enterprise", idempotency_key="b")
    assert info.value.extra == {"waiting_run": first.pk, "action_run": info.value.extra["action_run"]}
    second = ActionRun.objects.get(pk=info.value.extra["action_run"])
    assert (second.status, second.error_code) == (ActionStatus.REFUSED, "approval_already_requested")
    assert ActionApproval.objects.filter(status=ApprovalStatus.PENDING).count() == 1

    # The same action on another account is not held up.
    other = _plan_change(make_account(), requester, "enterprise", idempotency_key="other").run
    assert other.status == ActionStatus.AWAITING_APPROVAL

    approval_decide(approval=first.approval, approve=False, note="not yet", actor=lead)
    third = _plan_change(account, requester, "enterprise", idempotency_key="c").run
    assert third.status == ActionStatus.AWAITING_APPROVAL


def test_database_holds_one_waiting_request_per_action_and_target(account, make_user):
    from django.db import IntegrityError, transaction

    first = _plan_change(account, make_user("billing"), "enterprise", idempotency_key="a").run
    copy = ActionRun.objects.get(pk=first.pk)
    copy.pk, copy.idempotency_key = None, "copy"
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save(force_insert=True)


def test_an_expired_request_nobody_swept_does_not_block_a_new_one(account, make_user):
    requester = make_user("billing")
    stale = _plan_change(account, requester, "enterprise", idempotency_key="a").run
    ActionApproval.objects.filter(run=stale).update(expires_at=timezone.now() - timedelta(seconds=1))

    fresh = _plan_change(account, requester, "enterprise", idempotency_key="b").run
    assert fresh.status == ActionStatus.AWAITING_APPROVAL
    stale.refresh_from_db()
    assert (stale.status, stale.approval.status) == (ActionStatus.REFUSED, ApprovalStatus.EXPIRED)
    # The clock expired it, not the person whose request happened to notice.
    assert stale.approval.history.latest().history_user.username == "system:scheduler"


def test_expiry_sweep(account, make_user):
    run = _plan_change(account, make_user("billing"), "enterprise", idempotency_key="a").run
    assert approvals_expire(now=timezone.now() + timedelta(days=2)) == 1
    run.refresh_from_db()
    assert run.status == ActionStatus.REFUSED and run.approval.status == ApprovalStatus.EXPIRED
    assert run.history.latest().history_user.username == "system:scheduler"


@transactional
def test_overdue_approval_alerts_once(account, make_user, receiver, settings):
    settings.ALERT_WEBHOOK_URL = receiver.url
    run = _plan_change(account, make_user("billing"), "enterprise", idempotency_key="a").run
    later = timezone.now() + timedelta(hours=2)
    assert approvals_alert_overdue(now=later) == 1
    assert approvals_alert_overdue(now=later) == 0
    assert len(receiver.requests) == 1
    payload = receiver.requests[0]["json"]
    assert payload["opsconsole"]["kind"] == "approval_overdue"
    assert payload["opsconsole"]["fields"]["action_run"] == run.pk
    assert "Approval waiting" in payload["text"]


HISTORY_META = {"history_id", "history_date", "history_change_reason", "history_type", "history_user_id"}


def _state(record) -> dict:
    return {
        k: v
        for k, v in record.__dict__.items()
        if not k.startswith("_") and k not in HISTORY_META | {"updated_at"}
    }


def test_reversal_restores_the_exact_prior_state(account, make_user):
    requester, lead = _billing_and_lead(make_user)
    prior = account.history.first()
    run = _plan_change(account, requester, "enterprise", idempotency_key="k").run
    approval_decide(approval=run.approval, approve=True, actor=lead)
    account.refresh_from_db()
    assert account.plan == "enterprise" and account.mrr_cents == 400_000

    preview = action_run_reverse(run=run, actor=requester, dry_run=True)
    assert preview.preview["needs_approval"] is None
    reversal = action_run_reverse(run=run, actor=requester, preview_token=preview.preview_token).run
    assert reversal.status == ActionStatus.SUCCEEDED and reversal.reversal_of == run
    run.refresh_from_db()
    assert run.status == ActionStatus.REVERSED
    restored = account.history.first()
    assert _state(restored) == _state(prior)
    assert restored.history_user == requester

    with pytest.raises(Conflict) as info:
        action_run_reverse(run=run, actor=requester, idempotency_key="again")
    assert info.value.code == "already_reversed"
    assert ActionRun.objects.filter(reversal_of=run).count() == 1


def test_reversal_is_refused_when_the_account_moved_on(account, make_user, system):

    billing = make_user("billing")
    run = _plan_change(account, billing, "starter", idempotency_key="k").run
    account_plan_change(account=account, plan="free", mrr_cents=0, actor=system)
    with pytest.raises(Conflict) as info:
        action_run_reverse(run=run, actor=billing)
    assert info.value.code == "state_changed"


def test_mark_duplicate_needs_lead_approval_closes_exceptions_and_reverses(make_account, make_user, system):

    original, duplicate = make_account(), make_account()
    exception = exception_open(account=duplicate, reason_code="duplicate_account", actor=system)
    prior_account, prior_exception = duplicate.history.first(), exception.history.first()
    support, lead = make_user("support"), make_user("ops_lead")
    evidence = {"note": "same admin domain", "ticket": "https://help.example.com/t/42"}
    params = {"canonical": original.external_id}
    run = run_action(
        name="mark_duplicate",
        target=duplicate,
        actor=support,
        params=params,
        evidence=evidence,
        idempotency_key="k",
    ).run
    assert run.status == ActionStatus.AWAITING_APPROVAL and run.runbook.code == "duplicate-account"
    approval_decide(approval=run.approval, approve=True, actor=lead)
    duplicate.refresh_from_db()
    exception.refresh_from_db()
    assert duplicate.duplicate_of == original and exception.status == "resolved"
    assert duplicate.events.filter(type="account.marked_duplicate").exists()

    reversal = action_run_reverse(run=ActionRun.objects.get(pk=run.pk), actor=support).run
    assert reversal.status == ActionStatus.SUCCEEDED
    assert _state(duplicate.history.first()) == _state(prior_account)
    assert _state(exception.history.first()) == _state(prior_exception)
    assert duplicate.events.filter(type="account.duplicate_unmarked").exists()


def test_mark_duplicate_refuses_bad_targets(make_account, make_user):
    account = make_account()
    support = make_user("support")
    for canonical, code in ((account.external_id, "duplicate_of_itself"), ("nobody", "unknown_account")):
        with pytest.raises(ApplicationError) as info:
            run_action(
                name="mark_duplicate",
                target=account,
                actor=support,
                params={"canonical": canonical},
                idempotency_key=canonical,
            )
        assert info.value.code == code
