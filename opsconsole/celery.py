"""The Celery app. Without CELERY_BROKER_URL, tasks run eagerly in-process."""

import os

from celery import Celery
from django_structlog.celery.steps import DjangoStructLogInitStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsconsole.settings")

# Every task records its own failures and retries (opsconsole.task_failures).
app = Celery("opsconsole", task_cls="opsconsole.task_failures:RecordedTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Workers bind the request id a task was enqueued with (django-structlog's task headers).
app.steps["worker"].add(DjangoStructLogInitStep)
