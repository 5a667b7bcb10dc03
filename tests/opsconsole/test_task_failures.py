"""Celery task failures and retries, recorded by the tasks themselves (``opsconsole.task_failures``):
a real task failing eagerly and through the Redis broker, retries per attempt, one row per
(task id, attempt) enforced by the database, append-only, counted per day on operational drag
with its rows, and listed for ops leads only."""

import re
import time
from datetime import timedelta

import pytest
import structlog
from celery.exceptions import Retry
from django.db import DatabaseError, IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from opsconsole.celery import app
from opsconsole.models import TaskFailure, TaskFailureKind
from opsconsole.services import task_failure_record
from opsconsole.tasks import run_action_task
from reports.drag.selectors import drag_rows, operational_drag

pytestmark = pytest.mark.django_db


@app.task(name="tests.opsconsole.flaky", bind=True, max_retries=2, time_limit=30, soft_time_limit=20)
def flaky(self, succeed_on: int) -> int:
    if self.request.retries < succeed_on:
        raise self.retry(exc=ConnectionError(f"lost the line on attempt {self.request.retries}"), countdown=0)
    return self.request.retries


@app.task(name="tests.opsconsole.broken", time_limit=30, soft_time_limit=20)
def broken(token: str) -> None:
    raise ValueError(f"broken {token}")


def _window():
    today = timezone.now().date()
    return {"since": today - timedelta(days=29), "until": today + timedelta(days=1)}


def test_a_real_task_failing_eagerly_records_itself(make_user):
    actor = make_user("support")
    with pytest.raises(Exception) as raised:
        run_action_task.delay(
            name="resolve_exception",
            target_model="accounts.OpsException",
            target_id="999999999",
            actor_id=actor.pk,
            params={"note": "x"},
            idempotency_key="task-failure-1",
        )

    (row,) = TaskFailure.objects.all()
    assert (row.task_name, row.kind, row.attempt) == ("opsconsole.run_action", TaskFailureKind.FAILED, 0)
    assert row.exception_class.endswith("DoesNotExist") and type(raised.value).__name__ == "DoesNotExist"
    assert "does not exist" in row.message and "target_id='999999999'" in row.args_summary
    assert row.task_id


def test_a_retry_and_the_failure_past_max_retries_are_one_row_per_attempt():
    # Eagerly, Celery hands a retry back to the caller (it does not run the task again).
    with pytest.raises(Retry):
        flaky.delay(1)
    # The last attempt allowed (max_retries=2) asks again: its error is the task's failure.
    for _ in range(2):  # reported twice (a redelivery), stored once
        with pytest.raises(ConnectionError):
            flaky.apply(args=(5,), retries=2, task_id="flaky-last")

    rows = list(
        TaskFailure.objects.order_by("kind").values_list("task_name", "attempt", "kind", "exception_class")
    )
    assert rows == [
        ("tests.opsconsole.flaky", 2, TaskFailureKind.FAILED, "builtins.ConnectionError"),
        ("tests.opsconsole.flaky", 0, TaskFailureKind.RETRIED, "builtins.ConnectionError"),
    ]
    assert TaskFailure.objects.get(kind=TaskFailureKind.FAILED).task_id == "flaky-last"
    assert "lost the line on attempt 2" in TaskFailure.objects.get(kind=TaskFailureKind.FAILED).message


def test_a_task_called_as_a_function_records_nothing():
    with pytest.raises(ValueError):
        broken("direct")
    assert not TaskFailure.objects.exists()


def test_one_row_per_task_id_and_attempt_enforced_by_the_database(system):
    report = {
        "task_name": "x.y",
        "task_id": "t-1",
        "attempt": 0,
        "kind": TaskFailureKind.FAILED,
        "exception_class": "builtins.ValueError",
        "message": "first",
    }
    first = task_failure_record(**report, actor=system)
    again = task_failure_record(**{**report, "message": "second"}, actor=system)
    assert again.pk == first.pk and TaskFailure.objects.get().message == "first"
    with pytest.raises(IntegrityError), transaction.atomic():
        TaskFailure.objects.create(**report, occurred_at=timezone.now())
    with pytest.raises(DatabaseError), transaction.atomic():  # append-only in the database too
        TaskFailure.objects.filter(pk=first.pk).update(message="rewritten")
    with pytest.raises(ValueError):
        first.save()


def test_drag_counts_task_failures_per_day_with_their_rows(console_for):
    with pytest.raises(ValueError):
        broken.delay("a")
    with pytest.raises(ValueError):
        broken.delay("b")
    window = _window()

    days, _ = operational_drag(**window)

    today = {d.day: d for d in days}[timezone.now().date()]
    count, url = today.counts["task_failures"]
    assert count == 2 == drag_rows("task_failures", **window, day=timezone.now().date()).count()
    assert sum(d.counts["task_failures"][0] for d in days) == 2
    # A task names no account: a channel's panel counts every one, like reconciliation runs.
    html = console_for("ops_lead").get(url).content.decode()
    assert int(re.search(r'id="rows-total"><strong>(\d+)</strong>', html).group(1)) == 2
    assert "tests.opsconsole.broken" in html


def test_ops_leads_alone_list_them_under_admin(console_for):
    with pytest.raises(ValueError):
        broken.delay("listed")
    url = reverse("admin:opsconsole_taskfailure_changelist")
    lead = console_for("ops_lead")
    page = lead.get(url)
    assert page.status_code == 200 and b"tests.opsconsole.broken" in page.content
    assert url.encode() in lead.get(reverse("admin:index")).content
    for role in ("support", "billing", "engineering", "leadership"):
        client = console_for(role)
        assert client.get(url).status_code == 403, role
        assert url.encode() not in client.get(reverse("admin:index")).content, role


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_task_failing_in_a_worker_records_itself(celery_worker_on_redis):
    with structlog.contextvars.bound_contextvars(request_id="req-via-redis"):
        broken.delay("via-redis")  # the worker binds the request id the task was enqueued with
    flaky.delay(1)  # a worker runs the retry: attempt 0 asks again, attempt 1 succeeds

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and TaskFailure.objects.count() < 2:
        time.sleep(0.2)
    time.sleep(0.5)  # nothing more arrives (the retried run succeeds)
    assert set(TaskFailure.objects.values_list("task_name", "attempt", "kind")) == {
        ("tests.opsconsole.broken", 0, TaskFailureKind.FAILED),
        ("tests.opsconsole.flaky", 0, TaskFailureKind.RETRIED),
    }
    row = TaskFailure.objects.get(task_name="tests.opsconsole.broken")
    assert row.exception_class == "builtins.ValueError" and "via-redis" in row.args_summary
    assert row.request_id == "req-via-redis"
