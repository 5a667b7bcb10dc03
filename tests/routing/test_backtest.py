import pytest
from django.utils import timezone

from opsconsole.errors import Conflict
from routing import selectors, services
from routing.choices import BacktestStatus


def contains(value):
    return [{"field": "text", "op": "contains", "value": value}]


@pytest.mark.django_db
def test_backtest_counts_changed_assignments_per_draft_rule(
    activate_rules, make_queue, intake, system, django_capture_on_commit_callbacks
):
    billing, retention = make_queue("billing"), make_queue("retention")
    activate_rules(
        [{"key": "refunds", "queue": billing, "category": "billing", "conditions": contains("refund")}]
    )
    for subject in ("Refund please", "refund for March", "Cancel and refund", "How do I export?"):
        intake(subject=subject)

    draft = services.rule_set_draft_create(actor=system)
    services.rule_save(
        rule_set=draft,
        actor=system,
        key="cancellations",
        name="Cancellations",
        priority=5,
        match="all",
        conditions=contains("cancel"),
        category="cancellation",
        severity="sev2",
        queue=retention,
    )
    with django_capture_on_commit_callbacks(execute=True):
        backtest = services.backtest_request(rule_set=draft, actor=system)
    backtest.refresh_from_db()

    assert backtest.status == BacktestStatus.DONE
    assert backtest.baseline_version == selectors.active_rule_set().version
    assert (backtest.tickets_replayed, backtest.tickets_changed) == (4, 1)
    cancellations = backtest.per_rule["cancellations"]
    assert (cancellations["matched"], cancellations["changed"]) == (1, 1)
    sample = cancellations["samples"][0]
    assert sample["subject"] == "Cancel and refund"
    assert sample["before"]["queue"] == "billing" and sample["after"]["queue"] == "retention"
    assert sample["after"]["category"] == "cancellation"
    assert backtest.per_rule["refunds"] == {"name": "refunds", "matched": 2, "changed": 0, "samples": []}
    assert backtest.per_rule["catch-all"]["matched"] == 1


@pytest.mark.django_db
def test_backtest_ignores_tickets_older_than_the_window(intake, system):
    old = intake(subject="old")
    old.created_at = timezone.now() - timezone.timedelta(days=31)  # arrange: a ticket from last month
    old.save()
    intake(subject="new")
    draft = services.rule_set_draft_create(actor=system)
    backtest = services.backtest_request(rule_set=draft, actor=system)
    backtest = services.backtest_execute(backtest_id=backtest.pk, actor=system)
    assert backtest.tickets_replayed == 1
    again = services.backtest_execute(backtest_id=backtest.pk, actor=system)
    assert again.finished_at == backtest.finished_at  # a redelivered task does not run it twice


@pytest.mark.django_db
def test_the_active_set_is_not_backtested_against_itself(system):
    with pytest.raises(Conflict):
        services.backtest_request(rule_set=selectors.active_rule_set(), actor=system)
