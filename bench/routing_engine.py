"""The routing engine on 100 rules: tickets per second on one core, and the pure engine's time
beside the whole intake path (enrichment, engine, SLA clocks, inserts with history).

    DATABASE_URL=postgres://... DJANGO_SECRET_KEY=x python -m bench.routing_engine [--tickets N] [--intake N]

The intake part writes tickets under source ``bench-engine`` and activates a 100-rule set in
the database it is pointed at: use a benchmark database, not one you care about.
"""

import argparse
import os
import random
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsconsole.settings")


def engine_figures(tickets: int) -> tuple[float, float, dict]:
    # late import: scenarios run as scripts, and the project needs django.setup() first.
    from bench.routing_data import context, rule_specs
    from routing import engine

    specs = rule_specs(100)
    started = time.perf_counter()
    compiled = engine.compile_rules(specs, version=1, revision=1)
    compile_ms = (time.perf_counter() - started) * 1000
    rng = random.Random(1)
    contexts = [context(rng) for _ in range(2000)]
    winners: dict[str, int] = {}
    order = {rule.spec.key: position for position, rule in enumerate(compiled.rules, start=1)}
    started = time.process_time()
    for i in range(tickets):
        match = engine.route(compiled, contexts[i % len(contexts)])
        winners[match.rule.key] = winners.get(match.rule.key, 0) + 1
    cpu = time.process_time() - started
    # The simplest baseline: the same contexts through a hand-written chain of 100 dict lookups.
    started = time.process_time()
    for i in range(tickets):
        ctx = contexts[i % len(contexts)]
        for _ in range(100):
            if ctx.get("plan") == "nope":
                break
    baseline_cpu = time.process_time() - started
    evaluated = sum(order[key] * n for key, n in winners.items()) / tickets
    # The slowest path on its own: contexts no rule takes, so every rule is tested.
    fallthrough = [c for c in contexts if engine.route(compiled, c).rule.is_default] or contexts[:1]
    started = time.process_time()
    for i in range(tickets // 5):
        engine.route(compiled, fallthrough[i % len(fallthrough)])
    worst_per_s = (tickets // 5) / (time.process_time() - started)
    return (
        tickets / cpu,
        compile_ms,
        {
            "winners": winners,
            "baseline_per_s": tickets / baseline_cpu,
            "rules_evaluated": evaluated,
            "worst_per_s": worst_per_s,
        },
    )


def intake_figures(count: int) -> dict:
    # late import: scenarios run as scripts, and the project needs django.setup() first.
    import django

    django.setup()
    from bench.routing_data import context, ensure_rules_and_accounts, ticket_text
    from opsconsole.history import system_user
    from routing import engine, selectors, services

    actor = system_user("system:bench")
    accounts = ensure_rules_and_accounts(actor=actor)
    rng = random.Random(time.time_ns())
    compiled = selectors.compiled_rules(selectors.active_rule_set())
    whole, pure = [], []
    run = time.time_ns()
    for i in range(count):
        subject, body = ticket_text(rng)
        started = time.perf_counter()
        ticket, _ = services.ticket_intake(
            source="bench-engine",
            external_id=f"{run}-{i}",
            requester_email="someone@customer.example",
            subject=subject,
            body=body,
            account_external_id=rng.choice(accounts),
            actor=actor,
        )
        whole.append(time.perf_counter() - started)
        started = time.perf_counter()
        engine.route(compiled, ticket.context)
        pure.append(time.perf_counter() - started)
    return {
        "intake_ms_median": statistics.median(whole) * 1000,
        "intake_ms_p95": sorted(whole)[int(len(whole) * 0.95)] * 1000,
        "engine_ms_median": statistics.median(pure) * 1000,
        "rules": len(compiled.rules),
        "context_sample": len(context(rng)),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=50_000, help="tickets through the pure engine")
    parser.add_argument(
        "--intake", type=int, default=300, help="tickets through the whole intake path (0: skip)"
    )
    args = parser.parse_args(argv)
    per_second, compile_ms, extra = engine_figures(args.tickets)
    catch_all = extra["winners"].get("catch-all", 0) / args.tickets
    print(f"engine, 100 rules: {per_second:,.0f} tickets/s on one core (CPU time, {args.tickets:,} tickets)")
    print(f"  compile once per rule-set revision: {compile_ms:.1f} ms")
    print(f"  tickets that no rule takes (all 100 tested): {extra['worst_per_s']:,.0f} tickets/s")
    print(
        f"  on average {extra['rules_evaluated']:.0f} rules tested per ticket; "
        f"{catch_all:.0%} fell through all 99 rules to the catch-all"
    )
    print(
        f"  baseline, a bare loop of 100 dict lookups per ticket: {extra['baseline_per_s']:,.0f} tickets/s "
        f"(engine at {per_second / extra['baseline_per_s']:.2f}x of it)"
    )
    if args.intake:
        figures = intake_figures(args.intake)
        print(f"whole intake path ({args.intake} tickets, {figures['rules']} rules, in-process, PostgreSQL):")
        print(f"  intake median {figures['intake_ms_median']:.1f} ms, p95 {figures['intake_ms_p95']:.1f} ms")
        print(
            f"  of which the pure engine: median {figures['engine_ms_median'] * 1000:.0f} µs "
            f"({figures['engine_ms_median'] / figures['intake_ms_median']:.1%} of intake)"
        )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.exit(main())
