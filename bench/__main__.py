"""`make bench`: every scenario, one after another, on a database of their own.

The scenarios write (rule sets, a million tickets, Stripe objects), so they never touch the
database DATABASE_URL names: they use a sibling database, ``<name>_bench``, created and
migrated here. Each scenario prints its own figures and baseline; see bench/README.md.

    python -m bench [--only NAME ...] [--quick]
"""

import argparse
import os
import subprocess
import sys
import time
from urllib.parse import urlsplit, urlunsplit

import psycopg

# name -> (module, full-size arguments, --quick arguments)
SCENARIOS = {
    "routing_engine": ("bench.routing_engine", [], ["--tickets", "10000", "--intake", "100"]),
    "intake_api": ("bench.intake_api", [], ["--tickets", "100000", "--requests", "300"]),
    "reconcile_stripe": ("bench.reconcile_stripe", [], ["--subscriptions", "1000"]),
    "ingress": ("bench.ingress", [], ["--events", "300", "--keys", "50"]),
    # Both load 1M accounts with generate_data --bulk once (the second finds them there).
    "reports": ("bench.reports", [], ["--accounts", "20000", "--repeat", "1", "--batches", "5"]),
    "admin_pages": ("bench.admin_pages", [], ["--accounts", "20000", "--repeat", "1", "--grants", "2000"]),
    # Reads the accounts the two above loaded (loads them when run alone).
    "constraints_panels": (
        "bench.constraints_panels",
        ["--accounts", "1000000"],
        ["--accounts", "20000", "--repeat", "1"],
    ),
}


def bench_database_url(url: str) -> str:
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "opsconsole"
    if not name.endswith("_bench"):
        name = f"{name}_bench"
    return urlunsplit(parts._replace(path=f"/{name}"))


def ensure_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')
            print(f"bench: created database {name}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(SCENARIOS), help="run only these")
    parser.add_argument("--quick", action="store_true", help="smaller data, for a smoke run")
    args = parser.parse_args(argv)

    source = os.environ.get("DATABASE_URL", "")
    if not source.startswith(("postgres://", "postgresql://")):
        print("bench: DATABASE_URL must name a PostgreSQL server (make bench finds one)", file=sys.stderr)
        return 2
    url = bench_database_url(source)
    ensure_database(url)
    # Benchmarks install the bench app (settings leave it out otherwise).
    env = {**os.environ, "DATABASE_URL": url, "OPSCONSOLE_BENCHMARKS": "1"}
    env.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--verbosity", "0"], env=env, check=True)

    failed = []
    for name in args.only or SCENARIOS:
        module, full, quick = SCENARIOS[name]
        print(f"\n=== {name} ({module}) ===", flush=True)
        started = time.perf_counter()
        result = subprocess.run([python, "-m", module, *(quick if args.quick else full)], env=env)
        print(f"=== {name}: exit {result.returncode} after {time.perf_counter() - started:.0f} s", flush=True)
        if result.returncode:
            failed.append(name)
    if failed:
        print(f"bench: failed scenarios: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
