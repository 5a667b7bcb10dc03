"""manage.py generate_data --accounts N [--seed S] [--workers W]: benchmark data.

The same generator as seed_demo (accounts.demo), through the same services, so benchmarks
measure data shaped by the real rules. For large N on PostgreSQL, ``--workers`` splits the
accounts between processes; each account comes from its own random stream, so the data is
the same whatever the number of workers.
"""

import multiprocessing
import time
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections

from accounts import demo
from opsconsole.history import SYSTEM_SEEDER, system_user


def _generate_slice(seed, start, step, count, anchor, prefix, days):
    actor = system_user(SYSTEM_SEEDER)
    result = demo.generate_accounts(
        seed=seed, indexes=range(start, count, step), anchor=anchor, actor=actor, prefix=prefix, days=days
    )
    connections.close_all()
    return result.created, result.skipped, result.events


class Command(BaseCommand):
    help = "Generate N accounts with their timelines and exceptions for benchmarks (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--accounts", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--prefix", default="gen", help="external_id prefix; keeps apart from demo data")
        parser.add_argument(
            "--days", type=int, default=demo.DEMO_DAYS, help="signups spread over this many days"
        )
        parser.add_argument("--anchor", help="YYYY-MM-DD: the data's 'now' (default: today, midnight UTC)")
        parser.add_argument("--workers", type=int, default=1, help="processes; more than 1 needs PostgreSQL")

    def handle(self, *args, accounts, seed, prefix, days, anchor, workers, **options):
        if workers > 1 and connection.vendor != "postgresql":
            raise CommandError("--workers above 1 needs PostgreSQL; SQLite allows one writer at a time.")
        when = datetime.strptime(anchor, "%Y-%m-%d").replace(tzinfo=UTC) if anchor else demo.demo_anchor()
        actor = system_user(SYSTEM_SEEDER)
        demo.ensure_channels(actor=actor)  # before forking, so workers never race to create them
        started = time.perf_counter()
        if workers <= 1:
            result = demo.generate_accounts(
                seed=seed,
                indexes=range(accounts),
                anchor=when,
                actor=actor,
                prefix=prefix,
                days=days,
                progress=lambda done, total: self.stderr.write(f"\r{done}/{total}", ending=""),
            )
            self.stderr.write("")
            totals = (result.created, result.skipped, result.events)
        else:
            connections.close_all()  # a forked child must not share the parent's connection
            jobs = [(seed, k, workers, accounts, when, prefix, days) for k in range(workers)]
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                parts = pool.starmap(_generate_slice, jobs)
            totals = tuple(sum(part[i] for part in parts) for i in range(3))
        elapsed = time.perf_counter() - started
        created, skipped, events = totals
        rate = created / elapsed if elapsed else 0
        self.stdout.write(
            f"generate_data: {created} accounts created, {skipped} already there, {events} events, "
            f"{elapsed:.1f} s ({rate:.0f} accounts/s, {workers} worker(s), {connection.vendor}), "
            f"anchor {when:%Y-%m-%d}, seed {seed}"
        )
