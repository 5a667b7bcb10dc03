"""Demo data for routing: queues and who works them, a holiday calendar, SLA policies, a rule set
that sorts tickets the way a support lead would, five weeks of tickets taken in through intake,
some of them worked (reassigned, waiting, solved), and a draft rule edit with its backtest.

Deterministic (the caller's ``rng``) and idempotent: tickets are keyed by (source, external_id),
rule sets by their note, and everything else is get-or-create.
"""

import random
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.selectors import account_external_ids
from opsconsole import roles
from routing.choices import Category, RuleSetStatus, TicketStatus
from routing.models import BusinessCalendar, Holiday, Queue, RuleSet, SlaPolicy, Ticket
from routing.selectors.tickets import least_loaded_member
from routing.services.backtests import backtest_request
from routing.services.intake import ticket_intake
from routing.services.queues import queue_access_grant
from routing.services.rule_sets import rule_save, rule_set_activate, rule_set_draft_create
from routing.services.tickets import ticket_reassign, ticket_respond, ticket_solve, ticket_wait

DEMO_TICKETS = 320
DEMO_DAYS = 35
OLD_TICKETS_SOLVED = 0.97
DEMO_SOURCE = "zendesk"
DEMO_RULES_NOTE = "Demo rules: sort by what the customer says and what their account shows."
DEMO_DRAFT_NOTE = "Demo draft: refunds belong to billing, not retention."

QUEUES = [
    # code, name, team, role that works it
    ("billing", "Billing", "billing", roles.BILLING),
    ("retention", "Retention and cancellations", "billing", roles.BILLING),
    ("auth", "Login and SSO", "support", roles.SUPPORT),
    ("integrations", "Integrations", "support", roles.SUPPORT),
    ("provisioning", "Onboarding and provisioning", "support", roles.SUPPORT),
    ("docs", "How-to questions", "support", roles.SUPPORT),
    ("defects", "Product defects", "engineering", roles.ENGINEERING),
]
SEEDED_QUEUE_ROLES = {"triage": roles.SUPPORT, "engineering-triage": roles.ENGINEERING}
# The lead who works the demo tickets; not one of the login users, so their rows stay theirs.
DEMO_LEAD = "agent.dana"
DEMO_AGENTS = [
    ("agent.amy", roles.SUPPORT),
    ("agent.ben", roles.SUPPORT),
    ("agent.cho", roles.BILLING),
    ("agent.eli", roles.ENGINEERING),
]
HOLIDAYS = [
    (date(2026, 12, 25), "Christmas Day"),
    (date(2026, 12, 26), "Boxing Day"),
    (date(2027, 1, 1), "New Year"),
]


def _c(field, op, value):
    return {"field": field, "op": op, "value": value}


# key, name, match, conditions, category, severity, queue, page on-call
RULES = [
    (
        "outage-paid",
        "Outage on a paid account",
        "all",
        [_c("text", "matches", r"\b(down|outage|crash(ed|es|ing)?|http 5\d\d)\b"), _c("paid", "eq", True)],
        Category.PRODUCT_DEFECT,
        "sev1",
        "defects",
        True,
    ),
    (
        # The same outage on a free or unmatched account is still a defect, not a sev4 in triage.
        "outage",
        "Outage",
        "all",
        [_c("text", "matches", r"\b(down|outage|crash(ed|es|ing)?|http 5\d\d)\b")],
        Category.PRODUCT_DEFECT,
        "sev2",
        "defects",
        False,
    ),
    (
        "payment-failed-paid",
        "Payment failure on a paid account",
        "all",
        [
            _c("text", "matches", r"payment (failed|declined)|card (was )?(declined|expired)"),
            _c("paid", "eq", True),
        ],
        Category.BILLING,
        "sev1",
        "billing",
        False,
    ),
    (
        "onboarding-blocked-paid",
        "Onboarding blocked on a paid account",
        "all",
        [
            _c("provisioning_status", "eq", "action_required"),
            _c("paid", "eq", True),
            _c("text", "matches", r"stuck|blocked|can.?t (finish|complete)|setup|onboard"),
        ],
        Category.PROVISIONING,
        "sev1",
        "provisioning",
        False,
    ),
    (
        "past-due",
        "Past-due accounts",
        "any",
        [
            _c("billing_status", "in", ["past_due", "unpaid"]),
            _c("text", "matches", r"payment (failed|declined)"),
        ],
        Category.BILLING,
        "sev2",
        "billing",
        False,
    ),
    (
        "login",
        "Login and SSO",
        "any",
        [_c("text", "matches", r"\b(sso|saml|log ?in|password|2fa|mfa)\b"), _c("feature_area", "eq", "auth")],
        Category.AUTHENTICATION,
        "sev3",
        "auth",
        False,
    ),
    (
        "integration",
        "Integrations",
        "any",
        [
            _c("open_exception_codes", "in", ["token_expired", "integration_failed"]),
            _c("text", "matches", r"integration|sync|token|google workspace|slack"),
        ],
        Category.INTEGRATION_FAILURE,
        "sev3",
        "integrations",
        False,
    ),
    (
        "import",
        "Imports and provisioning",
        "any",
        [
            _c("last_failed_event", "in", ["import.failed", "workspace.failed"]),
            _c("text", "contains", "import"),
        ],
        Category.PROVISIONING,
        "sev3",
        "provisioning",
        False,
    ),
    (
        "cancellation",
        "Cancellations",
        "all",
        [_c("text", "matches", r"cancel|close my account|refund")],
        Category.CANCELLATION,
        "sev3",
        "retention",
        False,
    ),
    (
        "billing",
        "Billing questions",
        "all",
        [_c("text", "matches", r"invoice|billing|charged?|receipt|vat")],
        Category.BILLING,
        "sev3",
        "billing",
        False,
    ),
    (
        "defect",
        "Errors and bugs",
        "any",
        [_c("text", "matches", r"\b(bug|error|broken|exception)\b"), _c("error_code", "matches", r"^E\d+")],
        Category.PRODUCT_DEFECT,
        "sev2",
        "defects",
        False,
    ),
    (
        "how-to",
        "How-to questions",
        "all",
        [_c("text", "matches", r"how (do|can) i|where (is|do)|documentation|docs")],
        Category.DOCUMENTATION,
        "sev4",
        "docs",
        False,
    ),
]

SUBJECTS = [
    ("Dashboard is down for our whole team", "Since 9am every page returns HTTP 503.", "", "reports"),
    ("App crashed while saving a report", "It crashed twice, we lost the draft.", "E500", "reports"),
    ("Payment failed this morning", "Our card was declined but it is valid.", "", "billing"),
    ("Card expired, how do I update it?", "We got a notice that the card expired.", "", "billing"),
    ("Stuck on setup, can't finish onboarding", "The setup checklist will not move on.", "", "onboarding"),
    ("SSO login loop", "SAML redirects back to the login page.", "", "auth"),
    ("Password reset email never arrives", "Tried three times.", "", "auth"),
    (
        "Google Workspace sync stopped",
        "The integration says the token is invalid.",
        "token_expired",
        "integrations",
    ),
    ("Slack integration not posting", "Nothing arrives in the channel.", "", "integrations"),
    ("Import failed halfway", "The CSV import stopped at row 4,000.", "import_failed", "imports"),
    ("Please cancel our subscription", "We are moving to another tool.", "", "billing"),
    ("Refund for the double charge", "We were charged twice in March.", "", "billing"),
    ("Invoice is missing our VAT number", "Please reissue the invoice.", "", "billing"),
    ("Bug: filters reset after refresh", "Filters are lost on every refresh.", "", "reports"),
    ("Error E4012 when exporting", "Export fails with an error code.", "E4012", "exports"),
    ("How do I add a teammate?", "Could not find it in the docs.", "", ""),
    ("Where is the API documentation?", "Looking for the REST docs.", "", ""),
    ("Question about our plan", "What does the Team plan include?", "", ""),
]


def _user(username: str, role: str):
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username, defaults={"is_staff": True, "first_name": username.split(".")[-1].title()}
    )
    if created:
        user.set_unusable_password()
        user.save()
    user.groups.add(Group.objects.get(name=role))
    return user


def _setup(*, actor) -> dict[str, Queue]:
    calendar = BusinessCalendar.objects.get(name="Business hours (UTC)")
    for day, name in HOLIDAYS:
        Holiday.objects.get_or_create(calendar=calendar, date=day, defaults={"name": name})
    SlaPolicy.objects.get_or_create(
        name="sev2 enterprise",
        defaults={
            "severity": "sev2",
            "shape": "enterprise",
            "calendar": calendar,
            "business_hours": False,
            "owner_minutes": 15,
            "first_response_minutes": 30,
            "resolution_minutes": 8 * 60,
        },
    )
    queues = {}
    for code, name, team, role in QUEUES:
        queues[code], _ = Queue.objects.get_or_create(code=code, defaults={"name": name, "team": team})
        queue_access_grant(queue=queues[code], group=Group.objects.get(name=role), actor=actor)
    for code, role in SEEDED_QUEUE_ROLES.items():
        queues[code] = Queue.objects.get(code=code)
        queue_access_grant(queue=queues[code], group=Group.objects.get(name=role), actor=actor)
    for username, role in DEMO_AGENTS:
        _user(username, role)
    return queues


def _rules(*, queues, actor) -> RuleSet:
    existing = RuleSet.objects.filter(note=DEMO_RULES_NOTE).first()
    if existing is not None:
        return existing
    draft = rule_set_draft_create(note=DEMO_RULES_NOTE, actor=actor)
    for index, (key, name, match, conditions, category, severity, queue, page) in enumerate(RULES, start=1):
        rule_save(
            rule_set=draft,
            key=key,
            name=name,
            priority=index * 10,
            match=match,
            conditions=conditions,
            category=category,
            severity=severity,
            queue=queues[queue],
            page_oncall=page,
            actor=actor,
        )
    return rule_set_activate(rule_set=draft, actor=actor)


def _tickets(*, rng: random.Random, queues, actor, stdout) -> int:
    now = timezone.now().replace(second=0, microsecond=0)
    accounts = account_external_ids()
    lead = _user(DEMO_LEAD, roles.OPS_LEAD)
    created = 0
    for n in range(1, DEMO_TICKETS + 1):
        subject, body, error_code, area = rng.choice(SUBJECTS)
        account = rng.choice(accounts) if accounts and rng.random() < 0.85 else None
        age = timedelta(minutes=rng.randint(5, DEMO_DAYS * 24 * 60))
        ticket, was_created = ticket_intake(
            source=DEMO_SOURCE,
            external_id=f"demo-{n:05d}",
            requester_email=f"user{n}@gmail.com",
            subject=subject,
            body=body,
            account_external_id=account,
            error_code=error_code,
            request_id=f"req-{rng.getrandbits(32):08x}" if error_code else "",
            feature_area=area,
            received_at=now - age,
            actor=actor,
        )
        if not was_created:
            continue
        created += 1
        _work(ticket, rng=rng, age=age, queues=queues, lead=lead)
    return created


def _work(ticket, *, rng: random.Random, age: timedelta, queues, lead) -> None:
    """What agents did with a ticket: most old tickets are solved, some were sent elsewhere."""
    if rng.random() < 0.15 and ticket.queue.code != "defects":
        ticket_reassign(
            ticket=ticket,
            queue=queues["defects"],
            owner=least_loaded_member(queues["defects"]),
            category=Category.PRODUCT_DEFECT,
            reason="Reproduced: this is a defect, not a how-to.",
            actor=lead,
        )
    # A working team solves nearly everything within days: the few old tickets left open are
    # the ones a lead would chase, and the open queue's median age stays in hours, not weeks.
    if age > timedelta(days=3) and rng.random() < OLD_TICKETS_SOLVED:
        ticket_respond(ticket=ticket, actor=lead)
        final = ticket.category if rng.random() < 0.85 else rng.choice(Category.values)
        ticket_solve(ticket=ticket, final_category=final, actor=lead)
    elif rng.random() < 0.2:
        ticket_respond(ticket=ticket, actor=lead)
        ticket_wait(ticket=ticket, actor=lead)


def _draft_and_backtest(*, queues, actor) -> None:
    if RuleSet.objects.filter(note=DEMO_DRAFT_NOTE).exists():
        return
    draft = rule_set_draft_create(note=DEMO_DRAFT_NOTE, actor=actor)
    cancellation = draft.rules.get(key="cancellation")
    rule_save(
        rule_set=draft,
        rule=cancellation,
        conditions=[_c("text", "matches", r"cancel|close my account")],
        actor=actor,
    )
    billing = draft.rules.get(key="billing")
    rule_save(
        rule_set=draft,
        rule=billing,
        conditions=[_c("text", "matches", r"invoice|billing|charged?|receipt|vat|refund")],
        actor=actor,
    )
    backtest_request(rule_set=draft, actor=actor)


def seed_demo(*, rng: random.Random, actor, stdout) -> None:
    queues = _setup(actor=actor)
    rule_set = _rules(queues=queues, actor=actor)
    created = _tickets(rng=rng, queues=queues, actor=actor, stdout=stdout)
    _draft_and_backtest(queues=queues, actor=actor)
    open_count = Ticket.objects.restrict(_user(DEMO_LEAD, roles.OPS_LEAD), "view").exclude(
        status=TicketStatus.SOLVED
    )
    stdout.write(
        f"routing: rule set v{rule_set.version} ({RuleSetStatus(rule_set.status).label.lower()}), "
        f"{created} tickets taken in, {open_count.count()} open"
    )
