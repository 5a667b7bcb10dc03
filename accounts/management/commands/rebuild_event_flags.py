"""``manage.py rebuild_event_flags``: decide every event's data-quality flags again.

The intake decides ``AccountEvent.late`` with ``REPORTS_LATE_EVENT_HOURS`` as it stands when the
event is recorded. After the setting changes, the data-quality panel reads late events from
every event of its range (exact, but slow at scale) until this command has decided every flag
again with the new setting (``accounts/eventflags.py``).
"""

import time

from django.core.management.base import BaseCommand

from accounts.services.events import event_flags_rebuild
from opsconsole.history import SYSTEM_SCHEDULER, system_user


class Command(BaseCommand):
    help = "Decide every event's before_signup and late flags again (after REPORTS_LATE_EVENT_HOURS changed)."

    def handle(self, *args, **options):
        started = time.perf_counter()
        changed = event_flags_rebuild(actor=system_user(SYSTEM_SCHEDULER))
        self.stdout.write(
            f"rebuild_event_flags: {changed['late']} late and {changed['before_signup']} before-signup "
            f"flags changed in {time.perf_counter() - started:.1f} s"
        )
