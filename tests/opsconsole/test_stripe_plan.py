"""reassign_plan when Stripe owns the plan: against a real localstripe, through the SDK."""

import pytest

from accounts.models import Account
from opsconsole.actions.services import action_run_reverse, run_action
from opsconsole.models import ActionStatus

pytestmark = pytest.mark.django_db


def _subscription_plan(localstripe, subscription_id):
    return localstripe.get(f"/v1/subscriptions/{subscription_id}")["items"]["data"][0]["plan"]["id"]


def test_plan_change_updates_stripe_only_when_committed_and_reverses_there_too(
    localstripe, account, make_user
):
    customer = localstripe.create_customer(email=account.admin_email, account_external_id=account.external_id)
    localstripe.attach_card(customer["id"])
    subscription = localstripe.create_subscription(customer=customer["id"], plan="team")
    Account.objects.filter(pk=account.pk).update(
        plan_source="stripe", stripe_customer_id=customer["id"], stripe_subscription_id=subscription["id"]
    )
    billing = make_user("billing")

    preview = run_action(
        name="reassign_plan", target=account, actor=billing, params={"plan": "starter"}, dry_run=True
    )
    assert [c["operation"] for c in preview.preview["external_calls"]] == ["subscription_set_plan"]
    assert _subscription_plan(localstripe, subscription["id"]) == "team"  # the dry run sent nothing

    run = run_action(
        name="reassign_plan", target=account, actor=billing, preview_token=preview.preview_token
    ).run
    assert run.status == ActionStatus.SUCCEEDED
    assert run.external_commands[0]["performed"] is True
    assert _subscription_plan(localstripe, subscription["id"]) == "starter"

    reversal = action_run_reverse(run=run, actor=billing).run
    assert reversal.status == ActionStatus.SUCCEEDED
    assert _subscription_plan(localstripe, subscription["id"]) == "team"
    account.refresh_from_db()
    assert account.plan == "team"


def test_a_failed_stripe_call_rolls_back_the_plan_change(localstripe, account, make_user, settings):
    Account.objects.filter(pk=account.pk).update(plan_source="stripe", stripe_subscription_id="sub_missing")
    run = run_action(
        name="reassign_plan",
        target=account,
        actor=make_user("billing"),
        params={"plan": "starter"},
        idempotency_key="k",
    ).run
    assert run.status == ActionStatus.FAILED and run.error_code == "unexpected_error"
    (call,) = run.external_commands  # attempted, failed, and on the record
    assert call["system"] == "stripe" and call["performed"] is False and call["error"]
    account.refresh_from_db()
    assert account.plan == "team"
    assert not account.events.filter(type="plan.changed").exists()
