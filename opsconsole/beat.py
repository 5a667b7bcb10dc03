"""The beat schedule without a broker: ``make run``'s periodic work.

In production ``celery beat`` sends ``CELERY_BEAT_SCHEDULE``'s tasks to the broker and workers
run them. ``make run`` has no broker (tasks run eagerly), so ``manage.py run_beat`` (a second
process that ``make run`` starts beside the dev server and stops with it) keeps the same
schedule and runs each due task in its own process: SLA breaches, escalations, approval
expiry and outbox retries happen in the demo as they would in production.

The schedule is Celery's own (``celery.schedules``: a number of seconds or a ``crontab``), so
an entry is due exactly when ``celery beat`` would run it. Interval entries also run once at
start, so a fresh demo shows its breaches without waiting a minute.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from celery import Celery
from celery.schedules import BaseSchedule, crontab, schedule

logger = logging.getLogger("opsconsole.beat")


@dataclass
class Entry:
    name: str
    task: str
    schedule: BaseSchedule
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    last_run_at: datetime | None = None


def entries_from(beat_schedule: dict, *, app: Celery, now: datetime) -> list[Entry]:
    """``CELERY_BEAT_SCHEDULE`` as entries. An interval entry has never run (due at once); a
    crontab entry counts from ``now``, so a daily job waits for its hour as in production."""
    entries = []
    for name, spec in beat_schedule.items():
        every = spec["schedule"]
        if isinstance(every, BaseSchedule):
            every.app = app
            sched, last = every, (now if isinstance(every, crontab) else None)
        else:
            seconds = every.total_seconds() if isinstance(every, timedelta) else float(every)
            sched, last = schedule(timedelta(seconds=seconds), app=app), None
        entries.append(
            Entry(name, spec["task"], sched, tuple(spec.get("args", ())), dict(spec.get("kwargs", {})), last)
        )
    return entries


class EagerBeat:
    """Runs the due entries of a schedule in this process, one after another. Time is what
    ``tick`` is given, so a test can move it."""

    def __init__(self, beat_schedule: dict, *, app: Celery, now: datetime):
        self.app = app
        self.now = now
        self.entries = entries_from(beat_schedule, app=app, now=now)
        for entry in self.entries:
            entry.schedule.nowfun = lambda: self.now

    def tick(self, now: datetime) -> tuple[list[str], float]:
        """Run every entry due at ``now``. Returns the names run and the seconds until the
        next entry is due."""
        self.now = now
        ran, wait = [], 60.0
        for entry in self.entries:
            if entry.last_run_at is None or entry.schedule.is_due(entry.last_run_at)[0]:
                self.run(entry)
                entry.last_run_at = now
                ran.append(entry.name)
            wait = min(wait, entry.schedule.remaining_estimate(entry.last_run_at).total_seconds())
        return ran, max(wait, 1.0)

    def run(self, entry: Entry) -> None:
        task = self.app.tasks.get(entry.task)
        if task is None:
            logger.error("beat: no task %s is registered (entry %s)", entry.task, entry.name)
            return
        try:
            result = task.apply(entry.args, entry.kwargs, throw=True)
        except Exception:
            # One failing job must not stop the others; the next tick tries it again.
            logger.exception("beat: %s failed", entry.name)
            return
        logger.info("beat: %s -> %s", entry.name, result.result)
