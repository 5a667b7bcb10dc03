"""Celery task failures and retries, recorded by the tasks themselves: ``RecordedTask`` is the
app's task class (``opsconsole.celery``), so every task declared with ``@shared_task`` or
``@app.task`` reports, from the one place its body runs, each exception it ends with: a
``Retry`` (the task asked to run again) as *retried*, anything else as *failed*. That place is
the same in a worker and in an eager run (no broker: ``make run``, the tests), where Celery
propagates the error before its ``task_failure`` signal or ``on_failure`` would run.

Each report is a ``TaskFailure`` row, idempotent per (task id, attempt); operational drag
counts them per day (``reports.drag``). Not recorded: a task called as a plain function (no
task id), ``Ignore`` and ``Reject``, and a worker killed under the task (hard time limit, lost
worker), since the body never gets to report. Recording never hides the task's own error:
when the row cannot be written (the database may be what failed), it is logged and the
error goes on.
"""

import logging

from celery import Task
from celery.exceptions import Ignore, Reject, Retry

# The failures are recorded by background work, attributed to this named system user.
ACTOR = "system:tasks"
FAILED, RETRIED = "failed", "retried"  # opsconsole.models.TaskFailureKind

logger = logging.getLogger("opsconsole.tasks")


def exception_class(exc) -> str:
    """The dotted class name of ``exc``; for an exception Celery could not pickle, the class it
    wraps."""
    module, name = getattr(exc, "exc_module", None), getattr(exc, "exc_cls_name", None)
    if module and name:
        return f"{module}.{name}"
    kind = type(exc)
    return f"{kind.__module__}.{kind.__qualname__}"


def record(task, request, *, kind: str, exc, args, kwargs) -> None:
    """Store one report of ``task`` at ``request``'s attempt; log, never raise, on failure."""
    # late import: the task class loads with the Celery app, before Django's models are ready.
    from opsconsole.history import system_user
    from opsconsole.services import task_failure_record

    try:
        task_failure_record(
            task_name=task.name or "",
            task_id=request.id,
            attempt=int(request.retries or 0),
            kind=kind,
            exception_class=exception_class(exc),
            message=str(exc),
            args=args,
            kwargs=kwargs,
            actor=system_user(ACTOR),
        )
    except Exception:  # the report must not replace the task's own error
        logger.exception("Could not record the %s of task %s %s", kind, task.name, request.id)


class RecordedTask(Task):
    """The app's task class: a task that ends with an exception records it (module docstring)."""

    def __call__(self, *args, **kwargs):
        request = self.request  # the run's request (id, retries), pushed by the tracer
        try:
            return super().__call__(*args, **kwargs)
        except (Ignore, Reject):
            raise
        except Retry as retry:
            if request.id:
                record(self, request, kind=RETRIED, exc=retry.exc or retry, args=args, kwargs=kwargs)
            raise
        except Exception as exc:
            if request.id:
                record(self, request, kind=FAILED, exc=exc, args=args, kwargs=kwargs)
            raise
