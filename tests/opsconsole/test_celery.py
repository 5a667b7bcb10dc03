import threading

import pytest

from opsconsole.celery import app

delivered: dict[str, str] = {}
arrived = threading.Event()


@app.task(name="tests.opsconsole.record_delivery", acks_late=True, time_limit=30, soft_time_limit=20)
def record_delivery(token: str) -> None:
    delivered[token] = threading.current_thread().name
    arrived.set()


def test_tasks_run_eagerly_in_process_without_a_broker():
    delivered.clear()
    record_delivery.delay("eager")

    assert delivered == {"eager": threading.current_thread().name}


@pytest.mark.redis
def test_a_worker_receives_tasks_through_redis(celery_worker_on_redis):
    delivered.clear()
    arrived.clear()
    record_delivery.delay("via-redis")

    assert arrived.wait(timeout=30), "the worker never received the task from Redis"
    assert "via-redis" in delivered
    assert delivered["via-redis"] != threading.current_thread().name
