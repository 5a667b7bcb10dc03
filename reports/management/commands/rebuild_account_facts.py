"""``manage.py rebuild_account_facts``: recompute every account's facts from the raw tables.

One set-based statement (``reports.facts.facts_rebuild``). Run it after loading accounts behind
the services' back, or after changing an action's declared handling minutes.
"""

import time

from django.core.management.base import BaseCommand

from reports.facts import facts_rebuild


class Command(BaseCommand):
    help = "Recompute reports.AccountFacts for every account from events, tickets, escalations and runs."

    def handle(self, *args, **options):
        started = time.perf_counter()
        rows = facts_rebuild()
        self.stdout.write(f"rebuild_account_facts: {rows} accounts in {time.perf_counter() - started:.1f} s")
