"""The two ingress paths the product and Stripe depend on, each beside a bare DRF view in the same run.

    DATABASE_URL=postgres://.../ocs_bench DJANGO_SECRET_KEY=x CELERY_BROKER_URL=redis://.../n \\
        python -m bench.ingress [--events 2000] [--keys 300] [--per-key 4] [--concurrency 8]

1. ``POST /webhooks/stripe/``: signed events, each new, from ``--concurrency`` connections:
   verify the signature, insert the event, enqueue its processing (on CELERY_BROKER_URL; with
   no broker, Celery runs eagerly and the figure includes the processing). Events/s and the
   acknowledgement latency (p50/p99), beside the same bodies posted to a bare DRF view.
2. ``POST /api/v1/accounts/`` with identical ``Idempotency-Key``s in flight together: each key
   is sent ``--per-key`` times at once. Creates/s, the conflict rate (409 while the first is in
   flight), and duplicates (a key answered 201 twice, or two accounts for one key: must be 0),
   beside the same requests to a bare DRF view behind the same token authentication.
"""

import argparse
import hashlib
import hmac
import http.client
import json
import os
import queue
import sys
import threading
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsconsole.settings")

SECRET = "whsec_bench_ingress"


def sign(body: bytes) -> str:
    stamp = int(time.time())
    digest = hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def run_concurrently(port: int, jobs: list[tuple[str, bytes, dict]], concurrency: int):
    """POST every job from ``concurrency`` keep-alive connections; returns (wall s, [(s, status)])."""
    work: queue.Queue = queue.Queue()
    for job in jobs:
        work.put(job)
    results: list[tuple[float, int]] = []
    lock = threading.Lock()

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        while True:
            try:
                path, body, headers = work.get_nowait()
            except queue.Empty:
                break
            started = time.perf_counter()
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            # A replay answers with the first response's status; count it apart from a create.
            replayed = response.getheader("Idempotent-Replayed") == "true"
            mine.append(
                (
                    time.perf_counter() - started,
                    200 if replayed and response.status == 201 else response.status,
                )
            )
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, results


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def start_server(port: int, workers: int, broker: str):
    # late import: the intake scenario owns the gunicorn start-up; reuse it with our environment.
    from bench import intake_api

    os.environ.update(
        STRIPE_WEBHOOK_SECRET=SECRET, OPSCONSOLE_API_TOKEN_RATE="1000000/min", OPSCONSOLE_BENCHMARKS="1"
    )
    if broker:
        os.environ["CELERY_BROKER_URL"] = broker
    return intake_api.start_server(port, workers)


def webhooks(port: int, events: int, concurrency: int) -> None:
    base = {"Content-Type": "application/json", "X-Forwarded-Proto": "https", "Host": "127.0.0.1"}
    run = time.time_ns()
    jobs, bare = [], []
    for i in range(events):
        event = {
            "id": f"evt_bench_{run}_{i}",
            "object": "event",
            "type": "customer.updated",
            "created": int(time.time()),
            "data": {"object": {"id": f"cus_bench_{i % 500}", "object": "customer", "metadata": {}}},
            "livemode": False,
        }
        body = json.dumps(event).encode()
        jobs.append(("/webhooks/stripe/", body, {**base, "Stripe-Signature": sign(body)}))
        bare.append(("/bench/bare/", body, base))
    warm = min(50, events // 10)
    run_concurrently(port, bare[:warm], concurrency)
    wall, results = run_concurrently(port, jobs[warm:], concurrency)
    bare_wall, bare_results = run_concurrently(port, bare[warm:], concurrency)
    n = len(results)
    statuses = sorted({s for _, s in results})
    rate, bare_rate = n / wall, n / bare_wall
    print(f"POST /webhooks/stripe/, {n} new signed events, {concurrency} connections (statuses {statuses}):")
    times, bare_times = [t for t, _ in results], [t for t, _ in bare_results]
    print(
        f"  verify + insert + enqueue: {rate:.0f} events/s, "
        f"ack p50 {pct(times, 0.5):.1f} ms, p99 {pct(times, 0.99):.1f} ms"
    )
    print(
        f"  bare DRF view, same bodies: {bare_rate:.0f} req/s, "
        f"p50 {pct(bare_times, 0.5):.1f} ms, p99 {pct(bare_times, 0.99):.1f} ms"
    )
    print(f"  ratio: the webhook runs at {rate / bare_rate:.2f}x the bare view's throughput")


def accounts(port: int, key: str, keys: int, per_key: int, concurrency: int) -> int:
    # late import: scenarios run as scripts, and the project needs django.setup() first.
    from accounts.models import Account

    base = {
        "Content-Type": "application/json",
        "X-Forwarded-Proto": "https",
        "Host": "127.0.0.1",
        "Authorization": f"Token {key}",
    }
    run = time.time_ns()
    prefix = f"bench_{run}"
    jobs, bare = [], []
    for k in range(keys):
        body = json.dumps(
            {
                "external_id": f"{prefix}_{k}",
                "name": f"Bench signup {k}",
                "admin_email": f"owner{k}@bench.example",
                "shape": "self_serve_team",
            }
        ).encode()
        for _ in range(per_key):  # adjacent in the queue: in flight together
            jobs.append(("/api/v1/accounts/", body, {**base, "Idempotency-Key": f"{prefix}-{k}"}))
            bare.append(("/bench/bare-token/", body, base))
    wall, results = run_concurrently(port, jobs, concurrency)
    bare_wall, bare_results = run_concurrently(port, bare, concurrency)
    # 201: created now; 200: a replay of the stored 201 (Idempotent-Replayed); 409: still in flight.
    by_status: dict[int, int] = {}
    for _, status in results:
        by_status[status] = by_status.get(status, 0) + 1
    creates = by_status.get(201, 0)
    rows = Account.objects.filter(external_id__startswith=f"{prefix}_").count()
    duplicates = max(0, creates - keys) + max(0, rows - keys)
    total = len(results)
    print(
        f"POST /api/v1/accounts/, {keys} keys x {per_key} identical requests at once, "
        f"{concurrency} connections (statuses {dict(sorted(by_status.items()))}):"
    )
    print(
        f"  {creates / wall:.0f} creates/s ({total / wall:.0f} req/s), conflict rate (409 in flight) "
        f"{by_status.get(409, 0) / total:.1%}, replays {by_status.get(200, 0) / total:.1%}, "
        f"p99 {pct([t for t, _ in results], 0.99):.1f} ms"
    )
    print(f"  accounts created {rows} for {keys} keys; duplicates: {duplicates}")
    print(
        f"  bare DRF view with token auth: {total / bare_wall:.0f} req/s, "
        f"p99 {pct([t for t, _ in bare_results], 0.99):.1f} ms"
    )
    print(f"  ratio: accounts at {(total / wall) / (total / bare_wall):.2f}x the bare view's request rate")
    return 1 if duplicates or creates != keys else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--keys", type=int, default=300)
    parser.add_argument("--per-key", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--port", type=int, default=8107)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    import django

    django.setup()
    # late import: the project's modules need django.setup() first.
    from opsconsole.api.scopes import all_scopes
    from opsconsole.history import system_user
    from opsconsole.services import service_token_issue

    broker = os.environ.get("CELERY_BROKER_URL", "")
    where = f"Celery on {broker.split('@')[-1]}" if broker else "no broker: Celery eager, processing inline"
    print(f"enqueue: {where}")
    _, key = service_token_issue(
        name=f"bench-ingress-{time.time_ns()}",
        role="product",
        scopes=all_scopes(),
        actor=system_user("system:bench"),
    )
    server = start_server(args.port, args.workers, broker)
    try:
        webhooks(args.port, args.events, args.concurrency)
        return accounts(args.port, key, args.keys, args.per_key, args.concurrency)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.exit(main())
