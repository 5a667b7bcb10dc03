"""The reports bench's work (``python -m bench.reports`` sets Django up and calls ``run``)."""

import itertools
import json
import random
import statistics
import time
from datetime import timedelta

from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts import demo
from accounts.models import Account, Channel
from accounts.signals import account_events_recorded
from bench.bulk import bulk_generate
from bench.reports_floor import cohort_mismatches, floor_rows, report_mismatches, week_floor_start
from opsconsole import roles
from opsconsole.history import SYSTEM_SEEDER, system_user
from opsconsole.services import service_token_issue
from reports import facts
from reports.metrics import ACCOUNT_METRICS, channel_report, cohort_rows

PREFIX = "gen"
HEAT_MAP_METRIC = "provisioning_failure_rate"
BATCH = 100
EVENTS_PER_ACCOUNT = 10  # a product batch: 100 events of 10 accounts


def ensure_data(accounts: int, days: int) -> None:
    have = Account.objects.filter(external_id__startswith=f"{PREFIX}_").count()
    if have >= accounts:
        print(f"{have:,} bench accounts already loaded")
        return
    started = time.perf_counter()
    result = bulk_generate(
        seed=1,
        count=accounts,
        anchor=demo.demo_anchor(),
        actor=system_user(SYSTEM_SEEDER),
        prefix=PREFIX,
        days=days,
        log=lambda s: None,
    )
    print(
        f"loaded {result.created:,} accounts, {result.events:,} events, {result.tickets:,} tickets "
        f"with generate_data --bulk in {time.perf_counter() - started:.0f} s"
    )


def dashboard(args, timed, line) -> list[str]:
    now = timezone.now()
    today = now.date()
    problems = []
    print("channel dashboard (channel_report, every channel), median of", args.repeat)
    for days in (30, 365):
        since, until = today - timedelta(days=days - 1), today + timedelta(days=1)
        floor_s, floor = timed(lambda s=since, u=until: floor_rows(since=s, until=u, now=now), args.repeat)
        account_s, report = timed(
            lambda s=since, u=until: channel_report(since=s, until=u, now=now, metrics=ACCOUNT_METRICS),
            args.repeat,
        )
        every_s, _ = timed(lambda s=since, u=until: channel_report(since=s, until=u, now=now), args.repeat)
        problems += [f"{days} d: {p}" for p in report_mismatches(report, floor)]
        cohort = sum(r["n"] for r in floor)
        print(line(f"{days} d, account metrics ({cohort:,} accounts)", account_s, floor_s))
        print(line(f"{days} d, every metric (+ ticket metrics)", every_s, floor_s))
    return problems


def heat_map(args, timed, line) -> list[str]:
    now = timezone.now()
    today = now.date()
    since, until = week_floor_start(today) - timedelta(weeks=25), today + timedelta(days=1)
    floor_s, floor = timed(lambda: floor_rows(since=since, until=until, now=now, weekly=True), args.repeat)
    cohort_s, rows = timed(
        lambda: cohort_rows(metric=HEAT_MAP_METRIC, since=since, until=until, period="week", now=now),
        args.repeat,
    )
    print(f"cohort heat map, 26 weeks x {Channel.objects.count()} channels, {HEAT_MAP_METRIC}")
    print(line(f"cohort_rows ({len(rows)} cells)", cohort_s, floor_s))
    ids = dict(Channel.objects.values_list("code", "pk"))
    return cohort_mismatches(rows, floor, HEAT_MAP_METRIC, ids)


def api(args, timed, line) -> list[str]:
    actor = system_user(SYSTEM_SEEDER)
    _, key = service_token_issue(name=f"bench-analytics-{time.time_ns()}", role=roles.ANALYTICS, actor=actor)
    client = Client(HTTP_AUTHORIZATION=f"Token {key}", HTTP_X_FORWARDED_PROTO="https")
    now = timezone.now()
    today = now.date()
    since, until = today - timedelta(days=29), today + timedelta(days=1)
    url = f"/api/v1/reports/channels/?since={since}&until={until}"
    statuses = []

    def call():
        response = client.get(url, secure=True)
        statuses.append(response.status_code)
        return response

    api_s, response = timed(call, args.repeat)
    floor_s, _ = timed(lambda: floor_rows(since=since, until=until, now=now), args.repeat)
    print("reports API")
    print(line(f"GET /api/v1/reports/channels/ 30 d ({len(response.content):,} bytes)", api_s, floor_s))
    if set(statuses) != {200}:
        return [f"API answered {sorted(set(statuses))}: {response.content[:300]!r}"]
    return []


def intake(args) -> list[str]:
    """Events/s through POST /api/v1/events/ with and without the facts' receivers."""
    actor = system_user(SYSTEM_SEEDER)
    _, key = service_token_issue(name=f"bench-product-{time.time_ns()}", role=roles.PRODUCT, actor=actor)
    client = Client(HTTP_AUTHORIZATION=f"Token {key}", HTTP_X_FORWARDED_PROTO="https")
    external_ids = list(
        Account.objects.filter(external_id__startswith=f"{PREFIX}_")
        .order_by("?")
        .values_list("external_id", flat=True)[: BATCH * args.batches * 2]
    )
    rng = random.Random(time.time_ns())
    run = time.time_ns()
    counter = itertools.count()
    occurred = (timezone.now() - timedelta(minutes=5)).isoformat()
    problems = []

    def batch() -> float:
        events = []
        for _ in range(BATCH):
            n = next(counter)
            kind = rng.random()
            event = {
                "event_id": f"bench-intake-{run}-{n}",
                "account": external_ids[(n // EVENTS_PER_ACCOUNT) % len(external_ids)],
                "type": "user.login" if kind < 0.9 else "import.failed",
                "occurred_at": occurred,
            }
            if kind >= 0.9:
                event.update(error_code="timeout", feature_area="imports")
            events.append(event)
        body = json.dumps({"events": events})
        started = time.perf_counter()
        response = client.post("/api/v1/events/", body, content_type="application/json", secure=True)
        elapsed = time.perf_counter() - started
        if response.status_code != 200 or response.json().get("accepted") != BATCH:
            problems.append(f"intake answered {response.status_code}: {response.content[:300]!r}")
        return elapsed

    uid = "reports.facts.account_events_recorded"
    spent = {"with facts": [], "without facts": []}
    batch()  # warm-up
    for _ in range(args.batches):
        spent["with facts"].append(batch())
        account_events_recorded.disconnect(dispatch_uid=uid)
        try:
            spent["without facts"].append(batch())
        finally:
            account_events_recorded.connect(facts.account_events_recorded, dispatch_uid=uid)
    rates = {mode: BATCH / statistics.median(times) for mode, times in spent.items()}
    overhead = rates["without facts"] / rates["with facts"] - 1
    print(
        f"intake: POST /api/v1/events/, batches of {BATCH} events ({EVENTS_PER_ACCOUNT} per account), "
        f"{args.batches} per mode, alternating (median)"
    )
    for mode, rate in rates.items():
        print(f"  {mode:<14} {rate:>8.0f} events/s")
    print(f"  facts write overhead: {overhead:+.1%} (target < 15%)")
    return problems


def run(args, *, timed, line) -> int:
    if connection.vendor != "postgresql":
        print("bench.reports needs PostgreSQL")
        return 2
    ensure_data(args.accounts, args.days)
    problems = dashboard(args, timed, line)
    problems += heat_map(args, timed, line)
    problems += api(args, timed, line)
    problems += intake(args)
    if problems:
        print(f"the figures mean nothing: {len(problems)} problem(s)")
        for problem in problems[:20]:
            print("  " + problem)
        return 1
    print("every report number equals the floor's")
    return 0
