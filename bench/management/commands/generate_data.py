"""manage.py generate_data --accounts N [--seed S] [--workers W] [--bulk]: benchmark data.

The same generator as seed_demo (accounts.demo, extended by bench.plans with more activity
and help-desk tickets), through the same services, so benchmarks measure data shaped by the
real rules. For large N on PostgreSQL, ``--workers`` splits the accounts between processes;
each account comes from its own random stream, so the data is the same whatever the number
of workers. ``--bulk`` loads the same plans with COPY and derives the services' state with
set-based SQL (bench.bulk): PostgreSQL only, for millions of accounts.
"""

import multiprocessing
import time
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections

from accounts import demo
from bench import plans
from bench.bulk import bulk_generate
from opsconsole.history import SYSTEM_SEEDER, system_user
from routing.models import Ticket
from routing.services.intake import ticket_intake


def _generate_slice(seed, start, step, count, anchor, prefix, days, usage, tickets):
    actor = system_user(SYSTEM_SEEDER)
    indexes = range(start, count, step)
    result = demo.generate_accounts(
        seed=seed,
        indexes=indexes,
        anchor=anchor,
        actor=actor,
        prefix=prefix,
        days=days,
        planner=plans.planner(usage),
    )
    made = _tickets(seed, indexes, anchor, prefix, days, actor) if tickets else 0
    return result.created, result.skipped, result.events, made


def _generate_in_worker(*args):
    try:
        return _generate_slice(*args)
    finally:
        connections.close_all()


def _tickets(seed, indexes, anchor, prefix, days, actor) -> int:
    """The planned tickets through ticket intake (idempotent on source and external id)."""
    made = 0
    for index in indexes:
        plan = demo.plan_account(seed=seed, index=index, anchor=anchor, prefix=prefix, days=days)
        for t in plans.plan_tickets(seed=seed, index=index, plan=plan, anchor=anchor):
            if Ticket.objects.filter(source=plans.TICKET_SOURCE, external_id=t.external_id).exists():
                continue
            ticket_intake(
                source=plans.TICKET_SOURCE,
                external_id=t.external_id,
                requester_email=t.requester_email,
                subject=t.subject,
                body=t.body,
                account_external_id=plan.external_id,
                error_code=t.error_code,
                feature_area=t.feature_area,
                received_at=t.received_at,
                actor=actor,
            )
            made += 1
    return made


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
        parser.add_argument(
            "--usage",
            type=int,
            default=plans.USAGE,
            help="extra logins per account on average (0: the demo's)",
        )
        parser.add_argument("--no-tickets", action="store_true", help="no help-desk tickets")
        parser.add_argument("--bulk", action="store_true", help="COPY and set-based SQL (PostgreSQL)")

    def handle(
        self, *args, accounts, seed, prefix, days, anchor, workers, usage, no_tickets, bulk, **options
    ):
        if (workers > 1 or bulk) and connection.vendor != "postgresql":
            raise CommandError("--workers above 1 and --bulk need PostgreSQL.")
        when = datetime.strptime(anchor, "%Y-%m-%d").replace(tzinfo=UTC) if anchor else demo.demo_anchor()
        actor = system_user(SYSTEM_SEEDER)
        demo.ensure_channels(actor=actor)  # before forking, so workers never race to create them
        started = time.perf_counter()
        if bulk:
            result = bulk_generate(
                seed=seed,
                count=accounts,
                anchor=when,
                actor=actor,
                prefix=prefix,
                days=days,
                usage=usage,
                tickets=not no_tickets,
                workers=max(workers, 1),
                log=self.stderr.write,
            )
            totals = (result.created, result.skipped, result.events, result.tickets)
        elif workers <= 1:
            totals = _generate_slice(seed, 0, 1, accounts, when, prefix, days, usage, not no_tickets)
        else:
            connections.close_all()  # a forked child must not share the parent's connection
            jobs = [
                (seed, k, workers, accounts, when, prefix, days, usage, not no_tickets)
                for k in range(workers)
            ]
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                parts = pool.starmap(_generate_in_worker, jobs)
            totals = tuple(sum(part[i] for part in parts) for i in range(4))
        elapsed = time.perf_counter() - started
        created, skipped, events, tickets = totals
        rate = created / elapsed if elapsed else 0
        self.stdout.write(
            f"generate_data: {created} accounts created, {skipped} already there, {events} events, "
            f"{tickets} tickets, {elapsed:.1f} s ({rate:.0f} accounts/s, {workers} worker(s), "
            f"{'bulk' if bulk else 'services'}, {connection.vendor}), anchor {when:%Y-%m-%d}, seed {seed}"
        )
