"""``manage.py metrics_snapshot [--date YYYY-MM-DD]``: write the metric snapshots.

Without ``--date``, what the daily beat task writes: the last SNAPSHOT_LOOKBACK_DAYS signup
days. With it, that one signup day. Idempotent: a rerun updates the rows whose numbers moved.
"""

from datetime import datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from opsconsole.errors import ApplicationError
from opsconsole.history import system_user
from reports.services import metric_snapshots_run, snapshot_periods

# Snapshots written from a shell are attributed to this named system user in the history.
ACTOR = "system:cli"


class Command(BaseCommand):
    help = "Write the metric snapshots of one signup day, or of the recent days the daily task covers."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD: the signup day (UTC) to snapshot")

    def handle(self, *args, **options):
        now = timezone.now()
        day = options.get("date")
        if day:
            try:
                since = datetime.strptime(day, "%Y-%m-%d").date()
            except ValueError as exc:
                raise CommandError(f"--date must be YYYY-MM-DD, not {day!r}.") from exc
            until = since + timedelta(days=1)
        else:
            since, until = snapshot_periods(now.date())
        try:
            written = metric_snapshots_run(since=since, until=until, now=now, actor=system_user(ACTOR))
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} ({exc.code})") from exc
        last = until - timedelta(days=1)
        span = since.isoformat() + (f" to {last.isoformat()}" if last != since else "")
        self.stdout.write(f"metrics_snapshot: {written} snapshot rows written or changed for {span}")
