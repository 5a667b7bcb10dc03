"""Backtests: replay the last days of tickets through a draft rule set and through the active
one, and count per draft rule the tickets whose assignment would change."""

from datetime import timedelta

from celery import current_app
from django.db import transaction
from django.utils import timezone

from opsconsole.errors import Conflict
from opsconsole.history import service
from routing import engine
from routing.choices import BacktestStatus, RuleSetStatus
from routing.models import Backtest, RuleSet, Ticket
from routing.selectors.setup import active_rule_set, compiled_rules

BACKTEST_DAYS = 30
BACKTEST_SAMPLES_PER_RULE = 5
# The task (routing/tasks.py) calls the services here, so they queue it by its registered name
# rather than import it. ``send_task`` would do that too, but it ignores eager mode (no broker:
# ``make run`` and the tests); the registered task's ``delay`` honours it.
BACKTEST_RUN = "routing.backtest_run"


@service
def backtest_request(*, rule_set: RuleSet, actor, days: int = BACKTEST_DAYS) -> Backtest:
    """Queue a replay of the last ``days`` of tickets through ``rule_set``."""
    if rule_set.status == RuleSetStatus.ACTIVE:
        raise Conflict(
            "backtest_active_set", "Backtest a draft against the active set, not the active set itself."
        )
    now = timezone.now()
    backtest = Backtest.objects.create(
        rule_set=rule_set,
        rule_set_revision=rule_set.revision,
        window_start=now - timedelta(days=days),
        window_end=now,
        requested_by=actor,
    )
    transaction.on_commit(lambda: current_app.tasks[BACKTEST_RUN].delay(backtest.pk))
    return backtest


def _assignment(match: engine.Match) -> dict:
    out = match.rule.outputs
    return {
        "rule": match.rule.key,
        "category": out["category"],
        "severity": out["severity"],
        "queue": out["queue"],
        "owner": out["owner"],
    }


@service
def backtest_execute(*, backtest_id: int, actor) -> Backtest:
    """Replay each ticket's stored context through the draft and through the active set, and
    count, per draft rule, the tickets whose assignment would change. Runs once per backtest."""
    backtest = Backtest.objects.select_for_update().select_related("rule_set").get(pk=backtest_id)
    if backtest.status != BacktestStatus.PENDING:
        return backtest
    active = active_rule_set()
    try:
        draft_rules = compiled_rules(backtest.rule_set)
    except engine.RuleInvalid as exc:
        backtest.status = BacktestStatus.FAILED
        backtest.error = str(exc)
        backtest.finished_at = timezone.now()
        backtest.save()
        return backtest
    active_rules = compiled_rules(active)
    per_rule: dict[str, dict] = {
        r.spec.key: {"name": r.spec.name, "matched": 0, "changed": 0, "samples": []}
        for r in draft_rules.rules
    }
    replayed = changed = 0
    tickets = (
        Ticket.objects.filter(created_at__gte=backtest.window_start, created_at__lt=backtest.window_end)
        .order_by("created_at")
        .values_list("pk", "source", "external_id", "subject", "context")
    )
    for pk, source, external_id, subject, context in tickets.iterator(chunk_size=2000):
        replayed += 1
        before = _assignment(engine.route(active_rules, context))
        after_match = engine.route(draft_rules, context)
        after = _assignment(after_match)
        entry = per_rule[after_match.rule.key]
        entry["matched"] += 1
        if {k: v for k, v in before.items() if k != "rule"} != {
            k: v for k, v in after.items() if k != "rule"
        }:
            changed += 1
            entry["changed"] += 1
            if len(entry["samples"]) < BACKTEST_SAMPLES_PER_RULE:
                entry["samples"].append(
                    {
                        "ticket_id": pk,
                        "ticket": f"{source}:{external_id}",
                        "subject": subject[:120],
                        "before": before,
                        "after": after,
                    }
                )
    backtest.baseline_version = active.version
    backtest.tickets_replayed = replayed
    backtest.tickets_changed = changed
    backtest.per_rule = per_rule
    backtest.status = BacktestStatus.DONE
    backtest.finished_at = timezone.now()
    backtest.save()
    return backtest
