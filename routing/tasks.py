"""Thin Celery tasks for routing; each is safe to run twice.

Tasks call services; a service that queues a task names it (``routing.backtest_run``) instead
of importing this module, so nothing cycles.
"""

from celery import shared_task
from django.utils import timezone

from opsconsole.history import SYSTEM_SCHEDULER, system_user
from routing.selectors.tickets import tickets_past_due
from routing.services.backtests import BACKTEST_RUN, backtest_execute
from routing.services.sla import sla_breach_record


@shared_task(name="routing.sla_check", acks_late=True, time_limit=55, soft_time_limit=50)
def sla_check() -> int:
    """Every minute: record each newly missed SLA target once (the breach row's unique key)."""
    now = timezone.now()
    actor = system_user(SYSTEM_SCHEDULER)
    return sum(
        sla_breach_record(ticket_id=ticket_id, target=target, now=now, actor=actor)
        for ticket_id, target in tickets_past_due(now=now)
    )


@shared_task(name=BACKTEST_RUN, acks_late=True, time_limit=30 * 60, soft_time_limit=29 * 60)
def backtest_run(backtest_id: int) -> str:
    """Run a requested backtest; a second delivery finds it done and returns."""
    backtest = backtest_execute(backtest_id=backtest_id, actor=system_user(SYSTEM_SCHEDULER))
    return backtest.status
