"""manage.py seed_demo [--seed N] [--console-url URL] [options the seeders declare]: deterministic,
idempotent demo data.

Runs every app's registered demo seeder (``opsconsole.demo``) in layer order; the apps
register them from their ready(), so this command names none of them.
"""

import random
import time

from django.core.management.base import BaseCommand
from django.db import connection

from opsconsole import demo
from opsconsole.alerts import alerts_counted
from opsconsole.history import SYSTEM_SEEDER, system_user

CONSOLE_URL = "http://127.0.0.1:8000/"


def use_write_ahead_log():
    """On the embedded SQLite database, a write-ahead log makes each commit a cheap append
    (seeding 2,000 accounts takes a third less time) and lets the console read while seeding.
    The mode is stored in the database file, so the dev server keeps it."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=WAL")


class Command(BaseCommand):
    help = "Create the demo company (channels, accounts, events, exceptions, staff). Safe to rerun."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026, help="Same seed, same data.")
        parser.add_argument(
            "--console-url",
            default=CONSOLE_URL,
            help="Where the logins it prints say to log in (make run's port).",
        )
        for seeder in demo.seeders():
            for flag, argument in seeder.options.items():
                parser.add_argument(flag, **argument)

    def handle(self, *args, seed, console_url, **options):
        use_write_ahead_log()
        actor = system_user(SYSTEM_SEEDER)
        # The demo's breaches and pages raise alerts; a line each would bury the logins.
        with alerts_counted() as alerts:
            for seeder in demo.seeders():
                # A stream per seeder: adding a seeder never changes another's data.
                rng = random.Random(f"{seed}:{seeder.name}")
                started = time.perf_counter()
                seeder.seed(rng=rng, actor=actor, stdout=self.stdout, **seeder.option_values(options))
                self.stdout.write(f"  ({seeder.name}: {time.perf_counter() - started:.1f} s)")
        if alerts:
            kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(alerts.items()))
            self.stdout.write(f"Alerts raised while seeding (ALERT_WEBHOOK_URL unset, not sent): {kinds}")
        for line in demo.login_lines(console_url):
            self.stdout.write(line)
