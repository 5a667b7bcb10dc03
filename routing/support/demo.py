"""Demo data for support: tiers on the demo queues, help articles (tier 0), chat and email
tickets with the help desk's replies, solves, reopens and ratings (one acquisition channel's
CSAT below 90%), an import-timeout cluster that became a known issue fixed in release
2026.12.1 with its close-the-loop replies sent, and fresh candidate clusters for the triage
page (import timeouts since the release, an SSO login loop, a pricing strategy signal).

Deterministic (the caller's ``rng``) and idempotent: tickets are keyed by (source,
external_id), updates by update_id, the known issue and articles by title.
"""

import random
from collections import Counter
from datetime import date, timedelta

from django.utils import timezone

from accounts.models import Account
from opsconsole import roles
from routing.choices import KnownIssueStatus
from routing.demo import DEMO_LEAD, DEMO_SOURCE, _user
from routing.models import HelpArticle, KnownIssue, Queue, Ticket
from routing.services.intake import ticket_intake
from routing.services.tickets import ticket_solve
from routing.support.services.known_issues import known_issue_close, known_issue_create, release_create
from routing.support.services.updates import ticket_update_apply

TIERS = {"billing": 2, "retention": 2, "integrations": 2, "defects": 3, "engineering-triage": 3}
ARTICLES = [
    ("Fix a failed data import", "https://help.example.com/imports/failed", ["import_failed"], ["import"]),
    (
        "Reconnect an expired integration",
        "https://help.example.com/integrations/reconnect",
        ["token_expired"],
        [],
    ),
    ("Invite your team", "https://help.example.com/start/invites", ["invite_expired"], ["invites"]),
]
RELEASE = "2026.12.1"
IMPORT_ISSUE = "Large CSV imports time out after 10 minutes"
DASHBOARD_ISSUE = "Dashboard filters reset when switching tabs"
CHAT_EMAIL_TICKETS = 80
ORDINARY = [
    ("How do I export a report to PDF?", "reports", "question"),
    ("Can we change the billing contact?", "billing", "billing"),
    ("Dashboard filters reset when I switch tabs", "dashboards", "friction"),
    ("Please add a dark mode", "ui", "request"),
    ("Our admin left, how do we move ownership?", "account", "account_specific"),
    ("Charts show the wrong week start", "dashboards", "bug"),
]
IMPORT_CLUSTER = [
    "Import stuck at 90%",
    "CSV import never finishes",
    "Import timed out with 80k rows",
    "Upload of customers.csv fails after 10 minutes",
    "Import hangs on large file",
    "Import timeout again",
]
FRESH_CLUSTERS = [
    # subject, error code, feature area, how many
    ("XLSX import times out", "import_timeout", "import", 3),
    ("SSO login loops back to the sign-in page", "", "auth", 1),
    ("SSO login loop after password reset", "", "auth", 1),
    ("Login loops back to SSO sign-in", "", "auth", 1),
    ("We would pay more for audit logs on the team plan", "", "pricing", 3),
]


def _ticket(n, *, subject, via, created, account, error_code="", feature_area="", actor):
    ticket, _ = ticket_intake(
        source=DEMO_SOURCE,
        external_id=str(910000 + n),
        requester_email=account.admin_email if account else f"visitor{n}@example.org",
        subject=subject,
        body="",
        account_external_id=account.external_id if account else None,
        error_code=error_code,
        feature_area=feature_area,
        received_at=created,
        via=via,
        actor=actor,
    )
    return ticket


def _update(ticket, key, kind, at, *, actor, **extra):
    if at > timezone.now():
        return
    ticket_update_apply(
        source=ticket.source,
        external_id=ticket.external_id,
        update_id=f"{ticket.external_id}-{key}",
        kind=kind,
        occurred_at=at,
        actor=actor,
        **extra,
    )


def _conversation(ticket, *, rng: random.Random, low_csat: bool, actor) -> None:
    """The help desk's side: a public reply (chat minutes, email hours), maybe a solve, a reopen
    and a rating; some arrive twice, as help desks redeliver."""
    start = ticket.created_at
    reply = start + timedelta(minutes=rng.randint(2, 50) if ticket.via == "chat" else rng.randint(30, 420))
    _update(ticket, "note", "agent_replied", start + timedelta(minutes=1), public=False, actor=actor)
    _update(ticket, "reply", "agent_replied", reply, public=True, actor=actor)
    _update(ticket, "reply", "agent_replied", reply, public=True, actor=actor)  # a redelivery: no effect
    if rng.random() < 0.8:
        solved = reply + timedelta(hours=rng.randint(1, 30))
        _update(ticket, "solved", "solved", solved, actor=actor)
        if rng.random() < 0.12:
            _update(ticket, "reopened", "reopened", solved + timedelta(hours=2), actor=actor)
            _update(ticket, "solved-2", "solved", solved + timedelta(hours=6), actor=actor)
        if rng.random() < 0.7:
            good = rng.random() > (0.35 if low_csat else 0.04)
            _update(
                ticket,
                "csat",
                "satisfaction",
                solved + timedelta(hours=8),
                rating="good" if good else "bad",
                comment="" if good else "Took too long to hear back.",
                actor=actor,
            )


def seed_demo(*, rng: random.Random, actor, stdout) -> None:
    for code, tier in TIERS.items():
        queue = Queue.objects.filter(code=code).first()
        if queue is not None and queue.tier != tier:
            queue.tier = tier
            queue.save()
    for title, url, reasons, areas in ARTICLES:
        HelpArticle.objects.get_or_create(
            title=title, defaults={"url": url, "reason_codes": reasons, "feature_areas": areas}
        )
    support, engineer = _user("agent.amy", roles.SUPPORT), _user("agent.eli", roles.ENGINEERING)
    accounts = list(Account.objects.select_related("channel").order_by("external_id")[:60])
    # The channel with the most of these accounts gets the unhappy customers (CSAT below 90%).
    counts = Counter(a.channel.code for a in accounts)
    low_channel = max(sorted(counts), key=counts.get) if counts else None
    now = timezone.now().replace(second=0, microsecond=0)
    for n in range(CHAT_EMAIL_TICKETS):
        subject, area, _kind = rng.choice(ORDINARY)
        account = rng.choice(accounts) if accounts and rng.random() < 0.9 else None
        ticket = _ticket(
            n,
            subject=subject,
            via="chat" if n % 2 else "email",
            created=now - timedelta(minutes=rng.randint(60, 27 * 24 * 60)),
            account=account,
            feature_area=area,
            actor=actor,
        )
        low = account is not None and account.channel.code == low_channel
        _conversation(ticket, rng=rng, low_csat=low, actor=actor)
    cluster = [
        _ticket(
            200 + i,
            subject=subject,
            via="chat" if i % 3 else "email",
            created=now - timedelta(days=12, hours=-i * 9),
            account=accounts[i] if accounts else None,
            error_code="import_timeout",
            feature_area="import",
            actor=actor,
        )
        for i, subject in enumerate(IMPORT_CLUSTER)
    ]
    for ticket in cluster:
        _update(
            ticket,
            "reply",
            "agent_replied",
            ticket.created_at + timedelta(minutes=25),
            public=True,
            actor=actor,
        )
    issue = KnownIssue.objects.filter(title=IMPORT_ISSUE).first()
    if issue is None:
        issue = known_issue_create(
            title=IMPORT_ISSUE,
            customer_message="Imports of up to 500,000 rows now finish; large files run in batches.",
            workaround="Split the file into parts of 50,000 rows.",
            error_codes=["import_timeout"],
            feature_areas=["import"],
            reason_codes=["import_failed"],
            owner=engineer,
            tickets=cluster,
            actor=support,
        )
    if issue.status != KnownIssueStatus.FIXED:
        release = release_create(
            version=RELEASE,
            released_on=date.today() - timedelta(days=3),
            notes="Batched CSV imports.",
            actor=engineer,
        )
        known_issue_close(known_issue=issue, status=KnownIssueStatus.FIXED, release=release, actor=engineer)
    dashboards = list(Ticket.objects.filter(source=DEMO_SOURCE, feature_area="dashboards")[:4])
    if not KnownIssue.objects.filter(title=DASHBOARD_ISSUE).exists():
        known_issue_create(
            title=DASHBOARD_ISSUE,
            status=KnownIssueStatus.FIX_IN_PROGRESS,
            ticket_type="friction",
            customer_message="Dashboard filters will be kept when you switch tabs.",
            workaround="Pin the filter with the pin icon; pinned filters are kept.",
            feature_areas=["dashboards"],
            owner=engineer,
            tickets=dashboards,
            actor=support,
        )
    lead = _user(DEMO_LEAD, roles.OPS_LEAD)
    n = 300
    for subject, code, area, count in FRESH_CLUSTERS:
        for _ in range(count):
            n += 1
            ticket = _ticket(
                n,
                subject=subject,
                via=rng.choice(["chat", "email", "web"]),
                created=now - timedelta(days=2, hours=n % 24),
                account=rng.choice(accounts) if accounts else None,
                error_code=code,
                feature_area=area,
                actor=actor,
            )
            if area == "pricing" and ticket.status != "solved":
                # The agent answered and typed it: a strategy signal for the product team.
                ticket_solve(
                    ticket=ticket, final_category="documentation", final_type="strategy_signal", actor=lead
                )
    support_tickets = Ticket.objects.filter(source=DEMO_SOURCE, external_id__startswith="91").count()
    stdout.write(
        f"support: {support_tickets} chat/email tickets with help-desk updates; known issue "
        f"“{issue.title}” fixed in {RELEASE}, {issue.notices.count()} requesters told"
    )
