"""make run's periodic work (opsconsole/beat.py, manage.py run_beat): the beat schedule run
eagerly in-process, as celery beat would run it with a broker."""

import logging
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.management import CommandError, call_command

from opsconsole.beat import EagerBeat
from opsconsole.celery import app

ran: list[str] = []


@app.task(name="tests.opsconsole.beat_tick")
def beat_tick(label: str) -> str:
    ran.append(label)
    return label


@app.task(name="tests.opsconsole.beat_broken")
def beat_broken() -> None:
    raise RuntimeError("this job is broken")


T0 = datetime(2026, 11, 30, 9, 0, 30, tzinfo=UTC)


def _beat(schedule: dict) -> EagerBeat:
    ran.clear()
    return EagerBeat(schedule, app=app, now=T0)


def test_interval_jobs_run_at_start_then_every_interval():
    beat = _beat({"every-minute": {"task": "tests.opsconsole.beat_tick", "schedule": 60.0, "args": ("m",)}})

    assert beat.tick(T0)[0] == ["every-minute"]
    assert beat.tick(T0 + timedelta(seconds=30))[0] == []
    names, wait = beat.tick(T0 + timedelta(seconds=61))
    assert names == ["every-minute"]
    assert ran == ["m", "m"]
    assert 55 <= wait <= 60


def test_a_daily_crontab_waits_for_its_hour():
    beat = _beat({"daily": {"task": "tests.opsconsole.beat_tick", "schedule": crontab(minute=20, hour=0)}})
    beat.entries[0].args = ("daily",)

    assert beat.tick(T0)[0] == []
    assert beat.tick(T0 + timedelta(hours=14))[0] == []
    assert beat.tick(datetime(2026, 12, 1, 0, 21, tzinfo=UTC))[0] == ["daily"]
    assert ran == ["daily"]


def test_a_failing_job_does_not_stop_the_others(caplog):
    beat = _beat(
        {
            "broken": {"task": "tests.opsconsole.beat_broken", "schedule": 60.0},
            "fine": {"task": "tests.opsconsole.beat_tick", "schedule": 60.0, "args": ("fine",)},
            "unknown": {"task": "tests.opsconsole.no_such_task", "schedule": 60.0},
        }
    )
    with caplog.at_level(logging.ERROR, logger="opsconsole.beat"):
        beat.tick(T0)
    assert ran == ["fine"]
    assert "broken failed" in caplog.text and "no task tests.opsconsole.no_such_task" in caplog.text


def test_every_scheduled_task_is_registered_in_this_process():
    missing = [
        spec["task"] for spec in settings.CELERY_BEAT_SCHEDULE.values() if spec["task"] not in app.tasks
    ]
    assert missing == []


@pytest.mark.django_db
def test_run_beat_once_runs_the_due_jobs_and_summarises_alerts():
    out = StringIO()
    call_command("run_beat", "--once", stdout=out)
    text = out.getvalue()
    assert f"{len(settings.CELERY_BEAT_SCHEDULE)} scheduled jobs" in text
    ran_line = next(line for line in text.splitlines() if line.startswith("beat: ran "))
    names = set(ran_line.removeprefix("beat: ran ").split(", "))
    assert {"routing-sla-check", "outbox-sweep", "approvals-sla"} <= names
    # The daily snapshot waits for 00:20 UTC; every interval job ran.
    assert names == set(settings.CELERY_BEAT_SCHEDULE) - {"reports-metrics-snapshot"}


def test_run_beat_refuses_when_a_broker_does_the_work(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with pytest.raises(CommandError, match="celery -A opsconsole beat"):
        call_command("run_beat", "--once")


def test_an_eager_task_logs_no_kombu_hostname_warning(caplog):
    # Rebuild the producer pool, as the first task of a fresh process does.
    app._pool = None
    app.amqp._producer_pool = None
    with caplog.at_level(logging.WARNING, logger="kombu.connection"):
        # A real worker started earlier in this process (the broker tests) marks joins as
        # blocking; an eager result never blocks, so that guard does not apply here.
        assert beat_tick.delay("quiet").get(disable_sync_subtasks=False) == "quiet"
    assert "No hostname was supplied" not in caplog.text
