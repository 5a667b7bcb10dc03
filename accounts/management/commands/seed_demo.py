"""manage.py seed_demo [--seed N] [--accounts N]: deterministic, idempotent demo data."""

import random
import time
from functools import partial

from django.core.management.base import BaseCommand
from django.db import connection

from accounts import demo as accounts_demo
from accounts.billing import demo as billing_demo
from opsconsole import demo as opsconsole_demo
from opsconsole.actions import demo as actions_demo
from opsconsole.history import SYSTEM_SEEDER, system_user
from routing import demo as routing_demo

CONSOLE_URL = "http://127.0.0.1:8000/"


def seeders(*, accounts: int):
    """Each app's demo seeder, in order: ``seed_demo(*, rng, actor, stdout)``. Add one per line."""
    return [
        ("opsconsole", opsconsole_demo.seed_demo),
        ("accounts", partial(accounts_demo.seed_demo, accounts=accounts)),
        ("routing", routing_demo.seed_demo),
        ("actions", actions_demo.seed_demo),
        ("billing", billing_demo.seed_demo),
    ]


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
            "--accounts",
            type=int,
            default=accounts_demo.DEMO_ACCOUNTS,
            help="How many demo accounts (tests use a few).",
        )

    def handle(self, *args, seed, accounts, **options):
        use_write_ahead_log()
        actor = system_user(SYSTEM_SEEDER)
        for name, seeder in seeders(accounts=accounts):
            # A stream per app: adding a seeder never changes another app's data.
            rng = random.Random(f"{seed}:{name}")
            started = time.perf_counter()
            seeder(rng=rng, actor=actor, stdout=self.stdout)
            self.stdout.write(f"  ({name}: {time.perf_counter() - started:.1f} s)")
        for line in opsconsole_demo.login_lines(CONSOLE_URL):
            self.stdout.write(line)
