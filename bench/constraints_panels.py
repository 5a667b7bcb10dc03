"""The constraint panels at scale (issue 12): each panel's selector for the last 30 days on the
database DATABASE_URL names, beside the bare cost of reading the cohort in the same run.

    DATABASE_URL=postgres://.../opsconsole_1m DJANGO_SECRET_KEY=x python -m bench.constraints_panels \\
        [--days 30] [--repeat 3] [--channel northwind-partners] [--accounts N] [--timeout 120]

Reads only (unless ``--accounts N`` asks to load the missing bench accounts first, with
``generate_data --bulk``, as ``bench.reports`` does). For each panel it prints the median of
``--repeat`` runs after one warm-up of the selector the page calls:

- failure reasons of one channel (``channel_failures``, ``--channel``, default the partner
  channel) and the ranked constraint list with its sentences (``ranked_constraints``,
  ``leader_sentences``);
- data quality (``quality_panel``: the checks and their days), the cost model
  (``channel_costs``), refunds and disputes (``billing_issues``);
- the step-gap funnel (``step_funnel``), operational drag (``operational_drag``);
- three example timelines of the channel (``example_timelines``), and the three timelines'
  rows (``journeys`` and ``gate_timeline`` of each account picked).

Baselines, measured in the same run: ``SELECT count(*)`` of the cohort's accounts (signed up in
the range, not duplicates; every channel, and the one channel), and of the cohort's journey
events (the event types the funnel reads), each a bare single pass. Each panel prints its ratio
to the cohort count (of the channel, for the channel's panels), and the funnel also to the
event count. A statement running past ``--timeout`` seconds stops its panel (reported). Target:
every panel under 1 s at 1M accounts.
"""

import argparse
import os
import sys

from bench.reports import timed  # median of ``repeat`` runs after a warm-up

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsconsole.settings")
os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--channel", default="", help="the channel of the per-channel panels")
    parser.add_argument("--accounts", type=int, default=0, help="load bench accounts up to N first")
    parser.add_argument("--load-days", type=int, default=365, help="signup spread of loaded accounts")
    parser.add_argument("--timeout", type=float, default=120, help="seconds a panel's statement may run")
    args = parser.parse_args()

    import django

    django.setup()
    from bench import constraints_run  # late import: the project needs django.setup() first

    return constraints_run.run(args, timed=timed)


if __name__ == "__main__":
    sys.exit(main())
