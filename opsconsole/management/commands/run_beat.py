"""manage.py run_beat: the beat schedule run in this process, for ``make run`` (no broker).

``make run`` starts it beside the dev server and stops it with the server. With a broker,
run ``celery -A opsconsole beat`` instead (README, "Running it for real").
"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from opsconsole.alerts import alerts_counted
from opsconsole.beat import EagerBeat
from opsconsole.celery import app


class Command(BaseCommand):
    help = "Run CELERY_BEAT_SCHEDULE's tasks in this process as they fall due (eager mode only)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run what is due now, then stop.")

    def handle(self, *args, once, **options):
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            raise CommandError("A broker is configured (CELERY_BROKER_URL): run `celery -A opsconsole beat`.")
        beat = EagerBeat(settings.CELERY_BEAT_SCHEDULE, app=app, now=timezone.now())
        self.stdout.write(f"beat: {len(beat.entries)} scheduled jobs run in-process (eager mode)")
        try:
            while True:
                # The first SLA check of a fresh demo finds a hundred breaches: one line says so.
                with alerts_counted() as alerts:
                    ran, wait = beat.tick(timezone.now())
                if ran:
                    self.stdout.write(f"beat: ran {', '.join(ran)}")
                if alerts:
                    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(alerts.items()))
                    self.stdout.write(f"beat: alerts raised (ALERT_WEBHOOK_URL unset, not sent): {kinds}")
                if once:
                    return
                time.sleep(wait)
        except KeyboardInterrupt:
            return
