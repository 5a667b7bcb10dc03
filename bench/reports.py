"""Reports at scale (issue 11): the channel dashboard, the cohort heat map and the reports API on
N bulk-loaded accounts, each beside the floor, and the write cost of the per-account facts.

    DATABASE_URL=postgres://.../ocs_bench DJANGO_SECRET_KEY=x python -m bench.reports \\
        [--accounts 1000000] [--days 365] [--repeat 3] [--batches 30]

Loads the missing accounts first (``generate_data --bulk``: about 20 events and one ticket per
account, signups spread over ``--days``), then prints, each as the median of ``--repeat`` runs
after one warm-up:

- ``channel_report`` (every metric, every channel) for the last 30 and 365 days, and the same
  for the account metrics alone, beside the floor: the simplest single-pass SQL over the raw
  tables that computes those numbers (``bench.reports_floor``), as a ratio;
- the 26-week cohort heat map (``cohort_rows``, provisioning failure rate, by week) beside the
  floor grouped by channel and week;
- ``GET /api/v1/reports/channels/`` for 30 days (Django's test client, a service token in the
  analytics role) beside the same floor;
- the intake: events/s of ``POST /api/v1/events/`` batches of 100 with the facts' receivers
  connected and disconnected, alternating, and the overhead.

Exits 1 when the figures mean nothing: the report and the floor disagree on any number, an API
call fails, or an intake batch is not stored whole.
"""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsconsole.settings")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,127.0.0.1")
os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")  # not a log line per request


def timed(fn, repeat: int) -> tuple[float, object]:
    """Median seconds of ``repeat`` runs after a warm-up, and the last result."""
    result = fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def line(label: str, seconds: float, floor: float) -> str:
    ms, floor_ms = seconds * 1000, floor * 1000
    return f"  {label:<44} {ms:>9.0f} ms   floor {floor_ms:>9.0f} ms   ratio {seconds / floor:>5.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365, help="signups spread over this many days")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batches", type=int, default=30, help="intake batches per mode")
    args = parser.parse_args()

    import django

    django.setup()
    from bench import reports_run  # late import: the project needs django.setup() first

    return reports_run.run(args, timed=timed, line=line)


if __name__ == "__main__":
    sys.exit(main())
