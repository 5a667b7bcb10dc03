"""The admin at scale (issue 14, item 10): every changelist's first page and a search, on the
bulk data, beside a bare indexed ``SELECT ... LIMIT 100`` of the same rows.

    DATABASE_URL=postgres://.../ocs_bench DJANGO_SECRET_KEY=x python -m bench.admin_pages \\
        [--accounts 1000000] [--repeat 3] [--grants 10000] [--only accounts.account ...]

Loads the missing accounts first (``generate_data --bulk``), then for each registered model
admin prints the median time of its changelist (Django's test client, a superuser with a
verified second factor) and its query count, the same for a search, and the baseline: the
model's default manager ordered as the changelist orders, ``[:100]``, with the search's
WHERE for the search. A row says ``COUNT!`` when the page ran a COUNT without a LIMIT (a full
count). Last, the accounts list of a support agent holding ``--grants`` per-object grants
(django-guardian), against the same baseline.

Exits 1 when a page does not answer 200 or runs a full COUNT.
"""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsconsole.settings")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,127.0.0.1")
os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")  # not a log line per request

# A search term per model (label): prefixes of ids and emails, a word of a name or subject.
SEARCH_TERMS = {
    "accounts.account": "gen_00012",
    "accounts.accountevent": "gen_00012",
    "accounts.opsexception": "gen_00012",
    "accounts.provisioningstep": "gen_00012",
    "routing.ticket": "invoice",
}
DEFAULT_TERM = "acme"


def median_time(fn, repeat: int) -> tuple[float, object]:
    result = fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--grants", type=int, default=10_000)
    parser.add_argument("--only", nargs="*", help="model labels (app.model)")
    args = parser.parse_args()

    import django

    django.setup()
    from bench import admin_run  # late import: the project needs django.setup() first

    return admin_run.run(args, median_time=median_time, terms=SEARCH_TERMS, default_term=DEFAULT_TERM)


if __name__ == "__main__":
    sys.exit(main())
