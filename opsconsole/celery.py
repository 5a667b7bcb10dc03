"""The Celery app. Without CELERY_BROKER_URL, tasks run eagerly in-process."""

import os

from celery import Celery
from django_structlog.celery.steps import DjangoStructLogInitStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsconsole.settings")

app = Celery("opsconsole")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Workers bind the request id a task was enqueued with (django-structlog's task headers).
app.steps["worker"].add(DjangoStructLogInitStep)
