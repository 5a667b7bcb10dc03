"""Benchmark: reconcile N Stripe subscriptions (default 10,000) held by a private localstripe.

    DATABASE_URL=postgres://.../ocs_bench DJANGO_SECRET_KEY=x python bench/reconcile_stripe.py

It migrates the database, empties the accounts it made last time, starts its own in-memory
localstripe, creates the customers and subscriptions (timed), creates the matching accounts,
then reconciles twice: the first run is the initial sync (it writes every Stripe-owned field
and opens the planted drift), the second is the steady state. For each run it prints the time
spent fetching from Stripe, the reconciler's own time beside it (target: at most 20% of the
fetch time), and the database queries per object (target: constant, well under one).
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

from accounts import stripe_gateway  # noqa: E402
from accounts.models import Account, BillingDrift, Channel, OpsException, ReconciliationRun  # noqa: E402
from accounts.reconciliation import reconciliation_execute, reconciliation_start  # noqa: E402
from opsconsole.history import SYSTEM_RECONCILER, system_user  # noqa: E402
from tests.localstripe import API_KEY, LocalStripe, free_port, start_localstripe  # noqa: E402

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
    """Time inside the Stripe page fetches, and the queries the run sends."""

    def __init__(self):
        self.fetch_seconds = 0.0
        self.queries = 0

    def wrap_fetch(self, fn):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.fetch_seconds += time.perf_counter() - started

        return timed

    def count_query(self, execute, sql, params, many, context):
        self.queries += 1
        return execute(sql, params, many, context)


def reconcile_once(label: str) -> dict:
    meter = Meter()
    originals = {name: getattr(stripe_gateway, name) for name in ("customers_page", "subscriptions_page")}
    for name, fn in originals.items():
        setattr(stripe_gateway, name, meter.wrap_fetch(fn))
    try:
        started = time.perf_counter()
        with connection.execute_wrapper(meter.count_query):
            run, _ = reconciliation_start(target="stripe", mode="full", actor=system_user(SYSTEM_RECONCILER))
            run = reconciliation_execute(run)
        total = time.perf_counter() - started
    finally:
        for name, fn in originals.items():
            setattr(stripe_gateway, name, fn)
    overhead = total - meter.fetch_seconds
    figures = {
        "label": label,
        "status": run.status,
        "objects": run.objects_scanned,
        "total_s": total,
        "fetch_s": meter.fetch_seconds,
        "overhead_s": overhead,
        "overhead_pct": 100 * overhead / meter.fetch_seconds,
        "queries": meter.queries,
        "queries_per_object": meter.queries / max(run.objects_scanned, 1),
        "corrected": run.fields_corrected,
        "opened": run.drift_opened,
        "mismatches": run.mismatches_found,
    }
    print(
        f"{label:<24} {figures['status']:<9} objects={figures['objects']:>6}  "
        f"fetch={figures['fetch_s']:7.2f}s  reconciler={figures['overhead_s']:6.2f}s "
        f"({figures['overhead_pct']:5.1f}% of fetch)  queries={figures['queries']:>6} "
        f"({figures['queries_per_object']:.3f}/object)  corrected={figures['corrected']} "
        f"drift opened={figures['opened']}"
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()

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
        with override_settings(STRIPE_API_BASE=url, STRIPE_API_KEY=API_KEY):
            first = reconcile_once("run 1 (initial sync)")
            second = reconcile_once("run 2 (steady state)")
        ok = second["overhead_pct"] <= 20
        print(
            f"steady-state reconciler overhead {second['overhead_pct']:.1f}% of fetch time "
            f"({'within' if ok else 'OVER'} the 20% target); queries/object "
            f"{first['queries_per_object']:.3f} (initial) and {second['queries_per_object']:.3f} (steady)"
        )
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
