"""Celery task failures and retries, recorded by the tasks themselves: one receiver of Celery's
``task_failure`` and ``task_retry`` signals for every task of the app (connected in
``OpsConsoleConfig.ready``, so in web processes, where tasks run eagerly without a broker, and
in workers alike). Each report is a ``TaskFailure`` row, idempotent per (task id, attempt);
operational drag counts them per day (``reports.drag``).

Recording never hides the task's own error: when the row cannot be written (the database is
what failed), the receiver logs that and returns.
"""

import logging

from celery import signals

from opsconsole.history import system_user
from opsconsole.models import TaskFailureKind
from opsconsole.services import task_failure_record

# The failures are recorded by background work, attributed to this named system user.
ACTOR = "system:tasks"

logger = logging.getLogger("opsconsole.tasks")


def exception_class(exc) -> str:
    """The dotted class name of ``exc``; for an exception Celery could not pickle, the class it
    wraps."""
    module, name = getattr(exc, "exc_module", None), getattr(exc, "exc_cls_name", None)
    if module and name:
        return f"{module}.{name}"
    kind = type(exc)
    return f"{kind.__module__}.{kind.__qualname__}"


def _record(task, request, *, kind: str, exc, task_id: str | None = None, args=None, kwargs=None) -> None:
    task_id = task_id or getattr(request, "id", None) or ""
    try:
        task_failure_record(
            task_name=getattr(task, "name", "") or getattr(request, "task", "") or "",
            task_id=task_id,
            attempt=int(getattr(request, "retries", 0) or 0),
            kind=kind,
            exception_class=exception_class(exc) if exc is not None else "",
            message="" if exc is None else str(exc),
            args=getattr(request, "args", None) if args is None else args,
            kwargs=getattr(request, "kwargs", None) if kwargs is None else kwargs,
            actor=system_user(ACTOR),
        )
    except Exception:  # the report must not replace the task's own error
        logger.exception("Could not record the %s of task %s", kind, task_id)


def task_failed(sender=None, task_id=None, exception=None, args=None, kwargs=None, **extra) -> None:
    _record(
        sender,
        sender.request if sender is not None else None,
        kind=TaskFailureKind.FAILED,
        exc=exception,
        task_id=task_id,
        args=args,
        kwargs=kwargs,
    )


def task_retried(sender=None, request=None, reason=None, **extra) -> None:
    # ``reason`` is Celery's Retry; the error that made the task ask for it is ``reason.exc``.
    _record(sender, request, kind=TaskFailureKind.RETRIED, exc=getattr(reason, "exc", None) or reason)


def connect() -> None:
    signals.task_failure.connect(task_failed, weak=False, dispatch_uid="opsconsole-task-failure")
    signals.task_retry.connect(task_retried, weak=False, dispatch_uid="opsconsole-task-retry")
