"""Shared by the routing benchmarks: 100 believable rules and ticket contexts, deterministic."""

import random

from routing.choices import Category
from routing.engine import CONTEXT_FIELDS, RuleSpec

WORDS = [
    "invoice",
    "refund",
    "payment",
    "declined",
    "card",
    "login",
    "sso",
    "saml",
    "password",
    "import",
    "csv",
    "failed",
    "sync",
    "token",
    "integration",
    "slack",
    "google",
    "workspace",
    "export",
    "report",
    "dashboard",
    "slow",
    "error",
    "bug",
    "crash",
    "down",
    "outage",
    "cancel",
    "plan",
    "upgrade",
    "seats",
    "admin",
    "invite",
    "expired",
    "setup",
    "stuck",
    "onboarding",
    "docs",
    "api",
    "webhook",
]
FILLER = [
    "the",
    "we",
    "our",
    "is",
    "not",
    "since",
    "today",
    "please",
    "help",
    "team",
    "thanks",
    "hello",
    "again",
    "this",
    "that",
    "with",
    "from",
    "have",
    "been",
    "was",
    "it",
    "when",
    "after",
    "before",
    "still",
    "any",
    "update",
    "could",
    "you",
    "look",
    "into",
    "asap",
    "regards",
]
PLANS = ["free", "starter", "team", "business", "enterprise"]
SHAPES = ["free_trial", "self_serve_team", "sales_assisted_business", "enterprise"]
CHANNELS = ["google-ads", "northwind-partners", "outbound", "organic", "marketplace", "referral"]
BILLING = ["none", "trialing", "active", "past_due", "unpaid", "canceled"]
EVENTS = [
    "import.failed",
    "integration.failed",
    "workspace.failed",
    "invite.expired",
    "user.login",
    "report.viewed",
]
EXCEPTIONS = ["import_failed", "token_expired", "integration_failed", "payment_failed", "invite_expired"]
AREAS = ["auth", "billing", "imports", "integrations", "reports", "exports", ""]


def conditions_for(rng: random.Random) -> tuple[str, list[dict]]:
    """A topic (what the customer wrote about) narrowed by zero to two account facts, as a
    support lead writes rules: each matches a few percent of tickets."""
    topics = [
        lambda: {"field": "text", "op": "contains", "value": rng.choice(WORDS)},
        lambda: {
            "field": "subject",
            "op": "matches",
            "value": rf"\b({rng.choice(WORDS)}|{rng.choice(WORDS)})\b",
        },
        lambda: {"field": "open_exception_codes", "op": "in", "value": rng.sample(EXCEPTIONS, 1)},
        lambda: {"field": "recent_event_types", "op": "contains", "value": rng.choice(EVENTS[:4])},
        lambda: {"field": "feature_area", "op": "eq", "value": rng.choice(AREAS[:-1])},
    ]
    facts = [
        lambda: {"field": "plan", "op": "in", "value": rng.sample(PLANS, 2)},
        lambda: {"field": "shape", "op": "eq", "value": rng.choice(SHAPES)},
        lambda: {"field": "channel", "op": "not_in", "value": rng.sample(CHANNELS, 2)},
        lambda: {"field": "billing_status", "op": "in", "value": rng.sample(BILLING, 3)},
        lambda: {"field": "arr_cents", "op": "gte", "value": rng.choice([50_000, 500_000])},
        lambda: {"field": "account_age_days", "op": "lte", "value": rng.choice([30, 90, 365])},
        lambda: {"field": "paid", "op": "eq", "value": rng.random() < 0.5},
    ]
    if rng.random() < 0.15:
        return "any", [rng.choice(topics)(), rng.choice(topics)()]
    return "all", [rng.choice(topics)()] + [rng.choice(facts)() for _ in range(rng.choice([0, 1, 1, 2]))]


def rule_values(count: int, seed: int = 7) -> list[dict]:
    """``count - 1`` rules plus room for the catch-all, as keyword arguments for rule_save."""
    rng = random.Random(seed)
    categories = Category.values
    rules = []
    for i in range(count - 1):
        match, conditions = conditions_for(rng)
        rules.append(
            {
                "key": f"bench-{i:03d}",
                "name": f"Bench rule {i}",
                "priority": (i + 1) * 10,
                "match": match,
                "conditions": conditions,
                "category": rng.choice(categories),
                "severity": rng.choice(["sev2", "sev3", "sev3", "sev4"]),
            }
        )
    return rules


def rule_specs(count: int, seed: int = 7) -> list[RuleSpec]:
    specs = [
        RuleSpec(
            id=i,
            key=v["key"],
            name=v["name"],
            priority=v["priority"],
            match=v["match"],
            conditions=v["conditions"],
            outputs={"queue": "q"},
        )
        for i, v in enumerate(rule_values(count, seed))
    ]
    specs.append(
        RuleSpec(
            id=10_000,
            key="catch-all",
            name="Catch-all",
            priority=100_000,
            match="all",
            conditions=[],
            is_default=True,
            outputs={"queue": "triage"},
        )
    )
    return specs


def ticket_text(rng: random.Random) -> tuple[str, str]:
    # One to three topic words among filler, as people write: most rules do not match a ticket.
    words = [rng.choice(FILLER) for _ in range(60)]
    for position in rng.sample(range(60), rng.randint(1, 3)):
        words[position] = rng.choice(WORDS)
    subject = " ".join([rng.choice(WORDS)] + [rng.choice(FILLER) for _ in range(rng.randint(2, 6))])
    return subject.capitalize(), " ".join(words)


def context(rng: random.Random) -> dict:
    """A context with every rule field, shaped like intake's enrichment."""
    subject, body = ticket_text(rng)
    ctx = dict.fromkeys(CONTEXT_FIELDS)
    ctx.update(
        source="zendesk",
        subject=subject,
        body=body,
        text=f"{subject}\n{body}",
        requester_email="someone@customer.example",
        requester_domain="customer.example",
        error_code=rng.choice(["", "", "E500", "token_expired"]),
        feature_area=rng.choice(AREAS) if rng.random() < 0.3 else "",
        account_matched=True,
        plan=rng.choice(PLANS),
        paid=rng.random() < 0.6,
        shape=rng.choice(SHAPES),
        channel=rng.choice(CHANNELS),
        channel_kind="partner",
        channel_sla_minutes=rng.choice([None, 60, 240]),
        lifecycle_stage="onboarding",
        billing_status=rng.choice(BILLING),
        arr_cents=rng.choice([0, 58_800, 2_398_800]),
        account_age_days=rng.randint(0, 400),
        provisioning_status=rng.choice(["ready", "action_required"]),
        last_failed_event=rng.choice(EVENTS[:4]) if rng.random() < 0.1 else "",
        recent_event_types=(
            ["user.login", "report.viewed"] + ([rng.choice(EVENTS[:4])] if rng.random() < 0.1 else [])
        ),
        open_exception_codes=[rng.choice(EXCEPTIONS)] if rng.random() < 0.1 else [],
        open_exception_count=0,
        failed_attempts=1,
    )
    return ctx


BENCH_RULES_NOTE = "bench: 100 rules"
BENCH_ACCOUNT_PREFIX = "benchrt_"


def ensure_rules_and_accounts(*, actor, accounts: int = 200) -> list[str]:
    """An active 100-rule set and ``accounts`` accounts in the database, through the services;
    returns the accounts' external ids. Needs django.setup()."""
    # late import: scenarios run as scripts, and the project needs django.setup() first.
    from django.contrib.auth.models import Group

    from accounts.models import Channel
    from accounts.selectors import account_external_ids
    from accounts.services import account_create
    from routing import services
    from routing.models import Queue, RuleSet

    if not RuleSet.objects.filter(note=BENCH_RULES_NOTE, status="active").exists():
        queue, _ = Queue.objects.get_or_create(code="bench", defaults={"name": "Bench", "team": "support"})
        services.queue_access_grant(queue=queue, group=Group.objects.get(name="support"), actor=actor)
        draft = services.rule_set_draft_create(note=BENCH_RULES_NOTE, actor=actor)
        for values in rule_values(100):
            services.rule_save(rule_set=draft, queue=queue, actor=actor, **values)
        services.rule_set_activate(rule_set=draft, actor=actor)
    channel, _ = Channel.objects.get_or_create(code="bench", defaults={"name": "Bench", "kind": "organic"})
    existing = len(account_external_ids(prefix=BENCH_ACCOUNT_PREFIX))
    for i in range(existing, accounts):
        account_create(
            external_id=f"{BENCH_ACCOUNT_PREFIX}{i:05d}",
            name=f"Bench {i}",
            admin_email=f"admin@bench{i}.example",
            shape=["free_trial", "self_serve_team", "sales_assisted_business", "enterprise"][i % 4],
            channel=channel,
            actor=actor,
        )
    return account_external_ids(prefix=BENCH_ACCOUNT_PREFIX)
