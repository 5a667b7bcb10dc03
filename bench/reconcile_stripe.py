"""Benchmark: reconcile N Stripe subscriptions (default 10,000) held by a private localstripe.

    DATABASE_URL=postgres://.../ocs_bench DJANGO_SECRET_KEY=x python -m bench.reconcile_stripe

It migrates the database, empties the accounts it made last time, starts its own in-memory
localstripe, creates the customers and subscriptions (timed), creates the matching accounts,
then reconciles twice: the first run is the initial sync (it links every customer, writes
every Stripe-owned field and opens the planted drift), the second is the steady state. For
each run it prints:

- fetch: the time inside Stripe list calls (on whichever thread made them);
- wall: the run from start to finish, and the overhead: wall time beyond the fetch time, which
  is what the reconciler adds to a run (target: at most 20% of the fetch time);
- own work: the run's time not spent waiting for a batch, i.e. the settling that the read-ahead
  (``PageReader``) overlaps with the next fetch; ``--no-read-ahead`` fetches in line, so there
  overhead and own work are the same figure;
- the database queries per object (target: constant, well under one).
"""

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsconsole.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from accounts.billing import stripe_gateway  # noqa: E402
from accounts.billing.reconciliation import (  # noqa: E402
    pages,
    reconciliation_execute,
    reconciliation_start,
    stripe_scan,
)
from accounts.models import (  # noqa: E402
    Account,
    AccountEvent,
    BillingDrift,
    Channel,
    OpsException,
    ReconciliationRun,
)
from opsconsole.history import SYSTEM_RECONCILER, system_user  # noqa: E402
from tests.helpers.localstripe import API_KEY, LocalStripe, free_port, start_localstripe  # noqa: E402

PREFIX = "bench_rs_"
TRIAL_END = 2_000_000_000


def create_stripe_side(stripe: LocalStripe, n: int, workers: int) -> float:
    """Customers and trialing subscriptions, one in a hundred on a plan the product disagrees with."""

    def one(i: int) -> None:
        customer = stripe.create_customer(
            email=f"{PREFIX}{i}@example.com", account_external_id=f"{PREFIX}{i}"
        )
        plan = "business" if i % 100 == 0 else "team"
        stripe.create_subscription(customer=customer["id"], plan=plan, trial_end=TRIAL_END)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, range(n)))
    return time.perf_counter() - started


def create_accounts(n: int) -> float:
    started = time.perf_counter()
    channel, _ = Channel.objects.get_or_create(code="bench", defaults={"name": "Bench", "kind": "organic"})
    now = datetime.now(tz=UTC)
    # Bench data, not a user flow: bulk rows with no history are fine here.
    Account.objects.bulk_create(
        [
            Account(
                external_id=f"{PREFIX}{i}",
                name=f"Bench {i}",
                admin_email=f"{PREFIX}{i}@example.com",
                shape="self_serve_team",
                plan="team",
                channel=channel,
                onboarding_path="self_serve",
                onboarding_path_reason="bench",
                signed_up_at=now,
            )
            for i in range(n)
        ],
        batch_size=2000,
    )
    return time.perf_counter() - started


def clear_previous() -> None:
    OpsException.objects.filter(account__external_id__startswith=PREFIX).delete()
    BillingDrift.objects.all().delete()
    ReconciliationRun.objects.all().delete()
    Account.objects.filter(external_id__startswith=PREFIX).delete()


class Meter:
    """Time inside the Stripe page fetches (on whichever thread), time the run spent blocked
    waiting for a batch, and the queries the run sends."""

    def __init__(self):
        self.fetch_seconds = 0.0
        self.waited_seconds = 0.0
        self.queries = 0

    def timed(self, fn, total: str):
        """``fn``, adding the seconds each call takes to the attribute named ``total``."""

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                setattr(self, total, getattr(self, total) + time.perf_counter() - started)

        return timed

    def count_query(self, execute, sql, params, many, context):
        self.queries += 1
        return execute(sql, params, many, context)


def reconcile_once(label: str) -> dict:
    meter = Meter()
    originals = {name: getattr(stripe_gateway, name) for name in ("customers_page", "subscriptions_page")}
    for name, fn in originals.items():
        setattr(stripe_gateway, name, meter.timed(fn, "fetch_seconds"))
    # The full scan's steps wait for their batches here (read ahead, or fetched in line).
    read = stripe_scan.batch_read
    stripe_scan.batch_read = meter.timed(read, "waited_seconds")
    try:
        started = time.perf_counter()
        with connection.execute_wrapper(meter.count_query):
            run, _ = reconciliation_start(target="stripe", mode="full", actor=system_user(SYSTEM_RECONCILER))
            run = reconciliation_execute(run)
        total = time.perf_counter() - started
    finally:
        for name, fn in originals.items():
            setattr(stripe_gateway, name, fn)
        stripe_scan.batch_read = read
    own_work = total - meter.waited_seconds
    beyond_fetch = total - meter.fetch_seconds
    figures = {
        "label": label,
        "status": run.status,
        "objects": run.objects_scanned,
        "total_s": total,
        "fetch_s": meter.fetch_seconds,
        "own_work_s": own_work,
        "own_work_pct": 100 * own_work / meter.fetch_seconds,
        "overhead_s": beyond_fetch,
        "overhead_pct": 100 * beyond_fetch / meter.fetch_seconds,
        "queries": meter.queries,
        "queries_per_object": meter.queries / max(run.objects_scanned, 1),
        "corrected": run.fields_corrected,
        "opened": run.drift_opened,
    }
    print(
        f"{label:<22} {figures['status']:<9} objects={figures['objects']:>6}  "
        f"fetch={figures['fetch_s']:6.2f}s  wall={total:6.2f}s  "
        f"overhead (wall beyond fetch)={figures['overhead_s']:5.2f}s ({figures['overhead_pct']:5.1f}%)  "
        f"own work={figures['own_work_s']:5.2f}s ({figures['own_work_pct']:5.1f}%)  "
        f"queries={figures['queries']:>6} ({figures['queries_per_object']:.3f}/object)  "
        f"corrected={figures['corrected']} drift opened={figures['opened']}"
    )
    return figures


def vacuum_analyze() -> None:
    """Fresh planner statistics and no dead rows from the previous run, as autovacuum would
    leave a production database."""
    with connection.cursor() as cursor:
        for model in (Account, AccountEvent, Account.history.model):
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument(
        "--no-read-ahead",
        action="store_true",
        help="fetch each batch in line, as before PageReader: shows the reconciler's work unoverlapped",
    )
    args = parser.parse_args()
    if args.no_read_ahead:
        pages.PageReader.read = lambda self, fetch, *, starting_after: pages.batch_fetch(
            fetch, starting_after=starting_after
        )

    call_command("migrate", verbosity=0)
    clear_previous()
    port = free_port()
    process = start_localstripe(port)
    url = f"http://127.0.0.1:{port}"
    try:
        stripe = LocalStripe(url)
        stripe.create_plans()
        print(f"localstripe (in memory) on {url}; {args.subscriptions} subscriptions, {args.workers} writers")
        seconds = create_stripe_side(stripe, args.subscriptions, args.workers)
        print(
            f"created {args.subscriptions} customers + subscriptions in {seconds:.1f}s "
            f"({2 * args.subscriptions / seconds:.0f} requests/s)"
        )
        seconds = create_accounts(args.subscriptions)
        print(f"created {args.subscriptions} accounts in {seconds:.1f}s")
        vacuum_analyze()
        with override_settings(STRIPE_API_BASE=url, STRIPE_API_KEY=API_KEY):
            first = reconcile_once("run 1 (initial sync)")
            second = reconcile_once("run 2 (steady state)")
        for figures in (first, second):
            verdict = "within" if figures["overhead_pct"] <= 20 else "OVER"
            print(
                f"{figures['label']}: reconciler overhead {figures['overhead_pct']:.1f}% of fetch time "
                f"({verdict} the 20% target); its own work, were it not overlapped with the next "
                f"fetch, {figures['own_work_pct']:.1f}%; {figures['queries_per_object']:.3f} queries/object"
            )
    finally:
        process.terminate()
        process.wait(timeout=10)
    # A run that failed, or a steady state that still finds work, makes the figures meaningless.
    if first["status"] != "completed" or second["status"] != "completed":
        print("bench: a reconciliation run did not complete")
        return 1
    if second["corrected"] or second["opened"]:
        print("bench: the second run still corrected fields or opened drift")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
