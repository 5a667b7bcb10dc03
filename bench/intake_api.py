"""Ticket intake over HTTP with 1M tickets already in PostgreSQL: latency percentiles on loopback.

    DATABASE_URL=postgres://.../ocs_bench DJANGO_SECRET_KEY=x python -m bench.intake_api \\
        [--tickets 1000000] [--requests 1000] [--port 8105] [--workers 2]

It bulk-loads the missing tickets with COPY (benchmark rows only: they bypass the services and
carry no history, which is fine for data that exists to make the tables big), starts gunicorn
on the port, issues a product token, then posts new tickets one after another on one
keep-alive connection. As a baseline it replays the same tickets: the replay does the HTTP,
auth and the (source, external_id) lookup but no enrichment, routing or insert.
"""

import argparse
import http.client
import json
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsconsole.settings")

BULK_SOURCE = "bench-bulk"


def bulk_load(total: int) -> None:
    """COPY tickets until ``total`` bench rows exist; resumable (external ids continue)."""
    # late import: scenarios run as scripts, and the project needs django.setup() first.
    from django.db import connection

    from routing.choices import Category
    from routing.models import Queue, Ticket

    have = Ticket.objects.filter(source=BULK_SOURCE).count()
    if have >= total:
        print(f"{have:,} bulk tickets already loaded")
        return
    queue_ids = list(Queue.objects.values_list("pk", flat=True))
    columns = [
        "source",
        "external_id",
        "requester_email",
        "subject",
        "body",
        "account_match",
        "error_code",
        "request_id",
        "feature_area",
        "context",
        "category",
        "severity",
        "queue_id",
        "status",
        "final_category",
        "reassignment_count",
        "created_at",
        "owner_assigned_at",
        "first_response_at",
        "solved_at",
        "pauses",
        "owner_due_at",
        "first_response_due_at",
        "resolution_due_at",
        "intake_result",
    ]
    rng = random.Random(have)
    categories = Category.values
    now = datetime.now(UTC)
    started = time.perf_counter()
    table = Ticket._meta.db_table
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor, for COPY
        with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for i in range(have, total):
                created = now - timedelta(minutes=rng.randint(1, 90 * 24 * 60))
                solved = rng.random() < 0.9
                category = rng.choice(categories)
                context = {
                    "subject": f"Bulk ticket {i}",
                    "plan": rng.choice(["free", "team", "business"]),
                    "channel": "bench",
                    "paid": rng.random() < 0.6,
                }
                copy.write_row(
                    (
                        BULK_SOURCE,
                        str(i),
                        f"user{i % 50_000}@bulk{i % 5000}.example",
                        f"Bulk ticket {i}",
                        "",
                        "none",
                        "",
                        "",
                        "",
                        json.dumps(context),
                        category,
                        rng.choice(["sev2", "sev3", "sev4"]),
                        rng.choice(queue_ids),
                        "solved" if solved else "assigned",
                        category if solved else "",
                        0,
                        created,
                        created,
                        created + timedelta(minutes=30) if solved else None,
                        created + timedelta(hours=5) if solved else None,
                        "[]",
                        created + timedelta(minutes=15),
                        created + timedelta(hours=1),
                        created + timedelta(hours=8),
                        "{}",
                    )
                )
        cursor.execute(f"ANALYZE {table}")
    print(f"loaded {total - have:,} tickets with COPY in {time.perf_counter() - started:.0f} s")


def start_server(port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_ALLOWED_HOSTS": "127.0.0.1", "DJANGO_LOG_LEVEL": "ERROR"}
    env.pop("DJANGO_DEBUG", None)
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    server = subprocess.Popen(
        [gunicorn, "opsconsole.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(workers), "--log-level", "error"],
        env=env,
    )
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/api/schema/")
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start")


def post(conn, headers, body) -> tuple[float, int]:
    started = time.perf_counter()
    conn.request("POST", "/api/v1/tickets/", body=json.dumps(body), headers=headers)
    response = conn.getresponse()
    response.read()
    return time.perf_counter() - started, response.status


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return f"p50 {pick(0.50):.1f} ms, p95 {pick(0.95):.1f} ms, p99 {pick(0.99):.1f} ms"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--port", type=int, default=8105)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    import django

    django.setup()
    # late import: the project's modules need django.setup() first.
    from bench.routing_data import ensure_rules_and_accounts, ticket_text
    from opsconsole.history import system_user
    from opsconsole.services import service_token_issue
    from routing.models import Ticket

    actor = system_user("system:bench")
    accounts = ensure_rules_and_accounts(actor=actor)
    bulk_load(args.tickets)
    print(f"tickets in the table: {Ticket.objects.count():,}")
    _, key = service_token_issue(name=f"bench-intake-{time.time_ns()}", role="product", actor=actor)

    server = start_server(args.port, args.workers)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
        headers = {
            "Authorization": f"Token {key}",
            "Content-Type": "application/json",
            "X-Forwarded-Proto": "https",
            "Host": "127.0.0.1",
        }
        rng = random.Random(time.time_ns())
        run = time.time_ns()
        bodies = []
        for i in range(args.requests + 50):
            subject, text = ticket_text(rng)
            bodies.append(
                {
                    "source": "bench-api",
                    "external_id": f"{run}-{i}",
                    "requester_email": "jo@customer.example",
                    "subject": subject,
                    "body": text,
                    "account": rng.choice(accounts),
                }
            )
        statuses = set()
        for body in bodies[:50]:  # warm both workers: connections, compiled rules
            statuses.add(post(conn, headers, body)[1])
        new, replay = [], []
        new_statuses, replay_statuses = set(), set()
        for body in bodies[50:]:
            elapsed, status = post(conn, headers, body)
            new.append(elapsed)
            new_statuses.add(status)
        for body in bodies[50:]:
            elapsed, status = post(conn, headers, body)
            replay.append(elapsed)
            replay_statuses.add(status)
        statuses |= new_statuses | replay_statuses
    finally:
        server.terminate()
        server.wait()
    print(
        f"POST /api/v1/tickets/ on loopback, {args.requests} new tickets, one keep-alive connection, "
        f"gunicorn {args.workers} workers (HTTP statuses seen: {sorted(statuses)}):"
    )
    print(f"  new ticket (enrich, route, insert): {percentiles(new)}")
    print(f"  baseline, replay of the same ticket: {percentiles(replay)}")
    # Timings of refused requests would measure the wrong thing: say so and fail.
    if new_statuses != {201} or replay_statuses != {200}:
        print(f"bench: expected 201 for new tickets, 200 for replays; got {new_statuses}, {replay_statuses}")
        return 1
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.exit(main())
