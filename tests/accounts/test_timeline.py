"""The account's one timeline: events, actions, exceptions and field changes, newest first."""

from datetime import timedelta

import pytest

from accounts.services import EventInput, account_events_record, account_plan_change
from accounts.timeline import account_timeline
from opsconsole.actions.services import run_action
from tests.helpers.clients import logged_in

pytestmark = pytest.mark.django_db


def test_account_timeline_merges_events_actions_exceptions_and_changes(account, make_user, system):
    failed = EventInput(
        "import-failed-1",
        "import.failed",
        account.signed_up_at + timedelta(minutes=1),
        error_code="timeout",
        request_id="req-1",
        feature_area="imports",
    )
    account_events_record(account=account, events=[failed], actor=system)
    exception = account.exceptions.get(reason_code__code="import_failed", status="open")
    support = make_user("support")
    run_action(
        name="restart_import", target=exception, actor=support, evidence={"note": "n"}, idempotency_key="1"
    )
    run_action(
        name="reassign_plan",
        target=account,
        actor=make_user("billing"),
        params={"plan": "starter"},
        idempotency_key="2",
    )
    timeline = account_timeline(account)
    kinds = {e.kind for e in timeline}
    assert kinds == {"event", "action", "exception", "change"}
    assert [e.at for e in timeline] == sorted((e.at for e in timeline), reverse=True)
    change = next(e for e in timeline if e.kind == "change")
    assert "plan: team → starter" in change.detail
    page = logged_in(make_user("support")).get(
        f"/accounts/account/{account.pk}/change/", secure=True, follow=True
    )
    assert "Timeline" in page.content.decode() and "restart_import by" in page.content.decode()


def test_account_timeline_reads_only_the_newest_changes(make_account, system):
    account = make_account()
    plans = ["starter", "business", "starter", "business", "enterprise", "starter"]
    for plan in plans:
        account_plan_change(account=account, plan=plan, mrr_cents=100, actor=system)

    def changes(limit):
        return [e.detail for e in account_timeline(account, limit=limit) if e.kind == "change"]

    assert len(changes(50)) == len(plans)
    assert changes(50)[:2] == changes(4)[:2]
    assert "plan: enterprise → starter" in changes(2)[0]
