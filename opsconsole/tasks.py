"""Thin Celery tasks for the console's machinery. Each loads its rows and calls a service."""

from celery import shared_task
from django.apps import apps
from django.contrib.auth import get_user_model

from opsconsole import outbox
from opsconsole.actions import services as actions


@shared_task(name="opsconsole.outbox_deliver", acks_late=True, soft_time_limit=60, time_limit=90)
def outbox_deliver(message_id: str) -> None:
    retry_in = outbox.outbox_deliver_once(message_id)
    if retry_in is not None:
        outbox.outbox_schedule(message_id, countdown=retry_in)


@shared_task(name="opsconsole.outbox_sweep", soft_time_limit=120, time_limit=150)
def outbox_sweep() -> int:
    return outbox.outbox_sweep()


@shared_task(name="opsconsole.approvals_check_sla", soft_time_limit=120, time_limit=150)
def approvals_check_sla() -> dict:
    return {"expired": actions.approvals_expire(), "alerted": actions.approvals_alert_overdue()}


@shared_task(name="opsconsole.run_action", acks_late=True, soft_time_limit=300, time_limit=330)
def run_action_task(
    name: str,
    target_model: str,
    target_id: str,
    actor_id: int,
    params: dict,
    idempotency_key: str,
    evidence: dict | None = None,
) -> int:
    """Run an action from background work; the idempotency key makes a redelivery a no-op."""
    target = apps.get_model(target_model).objects.get(pk=target_id)
    actor = get_user_model().objects.get(pk=actor_id)
    outcome = actions.run_action(
        name=name,
        target=target,
        actor=actor,
        params=params,
        evidence=evidence or {},
        idempotency_key=idempotency_key,
        entry_point="celery",
    )
    return outcome.run.pk
