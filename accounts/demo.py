"""Demo and benchmark data for accounts: a believable company, generated through the services.

One definition serves ``manage.py seed_demo`` (about 2,000 accounts for people to look at) and
``manage.py generate_data`` (any number, for benchmarks). Each account is planned from its own
random stream (``seed`` + index), so the data does not depend on how many accounts came before
it, which worker wrote it, or in what order; and it is applied through ``account_create`` and
``account_events_record``, exactly as the product would send it, so provisioning steps,
exceptions and activation come from the real rules.

Time is anchored at midnight UTC of the current day: the same seed gives the same data all day,
and nothing happens after the anchor.
"""

import functools
import itertools
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from accounts.choices import ChannelKind, EventSource, ExceptionStatus, Team
from accounts.demo_delivery import settle_delivery_times
from accounts.demo_staff import (
    RESOLUTION_NOTES,
    STAFF_WORKED_BELOW,
    plan_staff_work,
    staff_draws,
    staff_resolves,
)
from accounts.models import Account, Channel, OpsException
from accounts.rules import IDENTITY_REVIEW_FLAG
from accounts.selectors import open_exceptions
from accounts.services.accounts import account_create
from accounts.services.catalogue import channel_create
from accounts.services.events import EventInput, account_events_record
from accounts.services.exceptions import exception_open, exception_resolve, exception_set_status
from accounts.shapes import SHAPES, shape_for
from opsconsole.demo import DEMO_STAFF

DEMO_ACCOUNTS = 2000
DEMO_DAYS = 60
DEMO_PREFIX = "demo"
# Accounts applied per transaction: all or nothing, so a rerun after a crash fills the gap.
CHUNK = 100


@dataclass(frozen=True)
class DemoChannel:
    code: str
    name: str
    kind: str
    share: float  # of all signups
    quality: float  # 0..1: how engaged its accounts are
    import_failure: float  # chance a first import fails
    integration_failure: float  # chance a first integration attempt fails
    shapes: dict[str, int]  # shape mix, as weights
    partner_name: str = ""
    support_sla_minutes: int | None = None
    managed_onboarding: bool = False
    utm: tuple[str, str] = ("", "")  # source, medium
    campaigns: tuple[str, ...] = ("",)


CHANNELS = (
    DemoChannel(
        "google-ads",
        "Google Ads",
        ChannelKind.PAID_SEARCH,
        share=0.25,
        quality=0.5,
        import_failure=0.12,
        integration_failure=0.12,
        shapes={"free_trial": 55, "self_serve_team": 35, "sales_assisted_business": 8, "enterprise": 2},
        utm=("google", "cpc"),
        campaigns=("brand", "competitor", "generic-ops", "retargeting"),
    ),
    # The partner that brings volume of poor fit: its customers' data rarely imports cleanly.
    DemoChannel(
        "northwind-partners",
        "Northwind Partners",
        ChannelKind.PARTNER,
        share=0.30,
        quality=0.4,
        import_failure=0.45,
        integration_failure=0.15,
        shapes={"free_trial": 15, "self_serve_team": 50, "sales_assisted_business": 30, "enterprise": 5},
        partner_name="Northwind Consulting",
        support_sla_minutes=120,
        utm=("northwind", "partner"),
        campaigns=("q3-migration-offer", "reseller-bundle"),
    ),
    DemoChannel(
        "organic",
        "Organic search and direct",
        ChannelKind.ORGANIC,
        share=0.19,
        quality=0.7,
        import_failure=0.08,
        integration_failure=0.08,
        shapes={"free_trial": 50, "self_serve_team": 40, "sales_assisted_business": 8, "enterprise": 2},
    ),
    DemoChannel(
        "outbound",
        "Outbound sales",
        ChannelKind.OUTBOUND,
        share=0.07,
        quality=0.75,
        import_failure=0.10,
        integration_failure=0.10,
        shapes={"sales_assisted_business": 65, "enterprise": 35},
        support_sla_minutes=60,
        managed_onboarding=True,
        utm=("sales", "outbound"),
        campaigns=("fy26-enterprise", "mid-market-push"),
    ),
    # Marketplace installs connect Google Workspace first; expired tokens are their trouble.
    DemoChannel(
        "workspace-marketplace",
        "Google Workspace Marketplace",
        ChannelKind.MARKETPLACE,
        share=0.13,
        quality=0.5,
        import_failure=0.10,
        integration_failure=0.35,
        shapes={"free_trial": 45, "self_serve_team": 50, "sales_assisted_business": 5},
        utm=("gws-marketplace", "marketplace"),
    ),
    DemoChannel(
        "customer-referral",
        "Customer referrals",
        ChannelKind.REFERRAL,
        share=0.06,
        quality=0.85,
        import_failure=0.06,
        integration_failure=0.06,
        shapes={"free_trial": 30, "self_serve_team": 45, "sales_assisted_business": 20, "enterprise": 5},
        utm=("referral", "referral"),
        campaigns=("give-a-month",),
    ),
)
CHANNELS_BY_CODE = {c.code: c for c in CHANNELS}

_NAME_FIRST = (  # noqa: SIM905 - word lists read better as prose
    "Acme Alder Amber Apex Arbor Aster Atlas Aurora Basalt Beacon Birch Blue Bright Cedar "
    "Clear Cobalt Copper Coral Crest Delta Ember Falcon Fern Flint Fox Glacier Granite Harbor "
    "Hazel Heron Indigo Iris Juniper Kestrel Lark Linden Lumen Maple Meridian Mint Nimbus "
    "North Oak Onyx Orbit Pine Polar Quarry Quartz Raven Ridge River Sage Signal Slate Solar "
    "Spruce Summit Tidal Timber True Vale Willow Zephyr"
).split()
_NAME_SECOND = (  # noqa: SIM905 - word lists read better as prose
    "Analytics Bakery Biotech Brewing Capital Clinics Cloud Construction Consulting Dental "
    "Design Energy Engineering Foods Freight Health Holdings Insurance Labs Legal Logistics "
    "Manufacturing Media Motors Networks Partners Pharma Realty Robotics Security Software "
    "Studios Supply Systems Travel Ventures"
).split()
_NAME_SUFFIX = ("", "", "", " Inc", " Ltd", " GmbH", " Group", " Co", " LLC", " SA")
_PEOPLE = (  # noqa: SIM905 - word lists read better as prose
    "alex sam jordan maria li priya noah emma omar lena kai rosa tom yuki ana ben"
).split()
_IMPORT_ERRORS = (("timeout", 4), ("csv_parse_error", 3), ("missing_permissions", 2), ("import_failed", 1))
_INTEGRATION_ERRORS = (("token_expired", 6), ("missing_permissions", 2), ("oauth_denied", 2))


def demo_anchor(now: datetime | None = None) -> datetime:
    """Midnight UTC today: the demo's "now", stable for a whole day."""
    now = now or timezone.now()
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _weighted(rng: random.Random, weights: dict) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


# --- Planning: pure functions of (seed, index, anchor) ----------------------------------------


@dataclass
class AccountPlan:
    external_id: str
    name: str
    admin_email: str
    shape: str
    channel_code: str
    signed_up_at: datetime
    utm_source: str
    utm_medium: str
    utm_campaign: str
    flags: list[str]
    events: list[EventInput] = field(default_factory=list)
    # Exceptions staff opened by hand (reason codes) and how staff moved exceptions along.
    manual_exceptions: list[str] = field(default_factory=list)
    staff_seed: int = 0
    # What staff do with an exception of each reason code this account could have open:
    # (roll, status), drawn up front so that the service path and the bulk loader
    # (bench.bulk) apply the same draws whatever the exceptions turn out to be.
    staff_draws: dict[str, tuple[float, str]] = field(default_factory=dict)


class _Timeline:
    """Collects an account's events, dropping whatever would happen after the anchor."""

    def __init__(self, plan: AccountPlan, rng: random.Random, anchor: datetime):
        self.plan, self.rng, self.anchor = plan, rng, anchor

    def add(self, type_: str, at: datetime, *, source=EventSource.PRODUCT, error_code="", area="", **payload):
        if at > self.anchor:
            return None
        n = len(self.plan.events)
        self.plan.events.append(
            EventInput(
                event_id=f"{self.plan.external_id}:{n:02d}:{type_}",
                type=type_,
                occurred_at=at,
                source=source,
                request_id=f"req_{self.rng.getrandbits(48):012x}" if error_code else "",
                error_code=error_code,
                feature_area=area,
                payload=payload,
            )
        )
        return at

    def minutes(self, low: float, high: float) -> timedelta:
        return timedelta(minutes=self.rng.uniform(low, high))

    def hours(self, low: float, high: float) -> timedelta:
        return timedelta(hours=self.rng.uniform(low, high))


@functools.lru_cache(maxsize=8)
def _day_cum_weights(start: datetime, days: int) -> tuple[float, ...]:
    """More signups lately (the company is growing) and fewer at weekends; cumulative, as
    ``choices`` would build them, computed once per (start, days) rather than per account."""
    weights = (
        (1 + d / days) * (0.55 if (start + timedelta(days=d)).weekday() >= 5 else 1.0) for d in range(days)
    )
    return tuple(itertools.accumulate(weights))


_HOUR_CUM_WEIGHTS = tuple(itertools.accumulate([1] * 7 + [4] * 11 + [2] * 6))


def plan_account(
    *, seed: int, index: int, anchor: datetime, prefix: str = DEMO_PREFIX, days: int = DEMO_DAYS
):
    """Everything about account ``index``: who signed up, from where, and what happened next."""
    rng = random.Random(f"{seed}:{prefix}:{index}")
    channel = rng.choices(CHANNELS, weights=[c.share for c in CHANNELS])[0]
    shape = _weighted(rng, channel.shapes)
    # More signups lately (the company is growing) and fewer at weekends.
    start = anchor - timedelta(days=days)
    day = rng.choices(range(days), cum_weights=_day_cum_weights(start, days))[0]
    hour = rng.choices(range(24), cum_weights=_HOUR_CUM_WEIGHTS)[0]
    signed_up_at = start + timedelta(days=day, hours=hour, minutes=rng.uniform(0, 59.9))
    company = f"{rng.choice(_NAME_FIRST)} {rng.choice(_NAME_SECOND)}{rng.choice(_NAME_SUFFIX)}"
    domain = company.lower().replace(" ", "").replace(".", "")[:24] + f"{index % 997}.example.com"
    flags = []
    paid_self_serve = shape in ("free_trial", "self_serve_team") and channel.kind == ChannelKind.PAID_SEARCH
    if paid_self_serve and rng.random() < 0.04:
        flags.append(IDENTITY_REVIEW_FLAG)
    if shape == "self_serve_team" and rng.random() < 0.03:
        flags.append("migration_assist")
    plan = AccountPlan(
        external_id=f"{prefix}_{index:06d}",
        name=company,
        admin_email=f"{rng.choice(_PEOPLE)}@{domain}",
        shape=shape,
        channel_code=channel.code,
        signed_up_at=signed_up_at,
        utm_source=channel.utm[0],
        utm_medium=channel.utm[1],
        utm_campaign=rng.choice(channel.campaigns),
        flags=flags,
        staff_seed=rng.getrandbits(32),
    )
    _plan_journey(plan, channel, _Timeline(plan, rng, anchor))
    plan_staff_work(plan, rng)
    plan.staff_draws = staff_draws(plan)
    return plan


def _plan_journey(plan: AccountPlan, channel: DemoChannel, tl: _Timeline) -> None:
    """The product's events for one account, with the channel's quality and failure rates."""
    rng, t0 = tl.rng, plan.signed_up_at
    shape = shape_for(plan.shape)
    quality = min(0.95, channel.quality * rng.uniform(0.6, 1.35))
    tl.add("plan.assigned", t0 + tl.minutes(0.5, 5), plan=shape.default_plan)
    tl.add("user.login", t0 + tl.minutes(1, 10))

    if IDENTITY_REVIEW_FLAG in plan.flags and rng.random() < 0.75:
        tl.add("identity.verified", t0 + tl.hours(1, 48), source=EventSource.OPS)
    if plan.shape == "enterprise" and rng.random() < 0.8:
        tl.add("account.approved", t0 + tl.hours(4, 72), source=EventSource.OPS, approved_by="ops_lead")

    if rng.random() < 0.03:
        failed = tl.add(
            "workspace.failed", t0 + tl.minutes(2, 20), error_code="region_capacity", area="workspace"
        )
        ready = failed and rng.random() < 0.8 and tl.add("workspace.provisioned", failed + tl.hours(1, 12))
    else:
        ready = tl.add("workspace.provisioned", t0 + tl.minutes(1, 15))

    sent = tl.add("invite.sent", t0 + tl.minutes(10, 60))
    if sent:
        if rng.random() < 0.05 + 0.9 * quality:
            tl.add("invite.accepted", sent + tl.hours(0.5, 72))
        elif rng.random() < 0.5:
            expired = tl.add(
                "invite.expired", sent + timedelta(days=7), error_code="invite_expired", area="invites"
            )
            if expired and rng.random() < 0.4:
                tl.add("invite.accepted", expired + tl.hours(12, 72))

    steps = shape.steps
    if "connect_integration" in steps and ready and rng.random() < 0.5 + 0.45 * quality:
        at = ready + tl.hours(0.3, 20)
        if rng.random() < channel.integration_failure:
            code = _weighted(rng, dict(_INTEGRATION_ERRORS))
            failed = tl.add("integration.failed", at, error_code=code, area="integrations", provider="google")
            if failed and rng.random() < 0.45 + 0.4 * quality:
                tl.add("integration.connected", failed + tl.hours(1, 48), provider="google")
        else:
            tl.add("integration.connected", at, provider="google")

    if "import_data" in steps and ready and rng.random() < 0.45 + 0.5 * quality:
        started = tl.add("import.started", ready + tl.hours(1, 24), area="imports")
        if started and rng.random() < channel.import_failure:
            code = _weighted(rng, dict(_IMPORT_ERRORS))
            failed = tl.add("import.failed", started + tl.minutes(5, 90), error_code=code, area="imports")
            if failed and rng.random() < 0.35 + 0.4 * quality:
                started = tl.add("import.started", failed + tl.hours(4, 120), area="imports")
            else:
                started = None
        if started:
            rows = rng.randint(50, 90_000)
            tl.add("import.succeeded", started + tl.minutes(10, 90), area="imports", rows=rows)

    # Some first reports land after the activation window: signed up, but not activated in time.
    window_hours = shape.activation.window.total_seconds() / 3600
    if ready and rng.random() < 0.3 + 0.6 * quality:
        tl.add("report.viewed", ready + tl.hours(0.2, window_hours * 1.3), report="overview")
    if plan.shape == "enterprise" and rng.random() < 0.55 + 0.35 * quality:
        tl.add("first_value.reached", t0 + tl.hours(72, 24 * 40))
    for _ in range(rng.randint(0, 4)):
        tl.add("user.login", t0 + tl.hours(2, 24 * 30))
    if rng.random() < 0.02 + 0.06 * (1 - quality):
        tl.add("subscription.cancelled", t0 + tl.hours(24 * 5, 24 * 40), source=EventSource.STRIPE)


# --- Applying: through the services, as the product and staff would --------------------------


def ensure_channels(*, actor) -> dict[str, Channel]:
    existing = {c.code: c for c in Channel.objects.filter(code__in=CHANNELS_BY_CODE)}
    for spec in CHANNELS:
        if spec.code not in existing:
            existing[spec.code] = channel_create(
                code=spec.code,
                name=spec.name,
                kind=spec.kind,
                partner_name=spec.partner_name,
                support_sla_minutes=spec.support_sla_minutes,
                managed_onboarding=spec.managed_onboarding,
                actor=actor,
            )
    return existing


def apply_plan(
    plan: AccountPlan, *, channels: dict[str, Channel], anchor: datetime, actor, staff=None
) -> Account:
    account = account_create(
        external_id=plan.external_id,
        name=plan.name,
        admin_email=plan.admin_email,
        shape=plan.shape,
        channel=channels[plan.channel_code],
        signed_up_at=plan.signed_up_at,
        utm_source=plan.utm_source,
        utm_medium=plan.utm_medium,
        utm_campaign=plan.utm_campaign,
        flags=plan.flags,
        actor=actor,
    )
    # One call with every event, as a product batch would send them: one lock, one pass.
    account_events_record(account=account, events=plan.events, actor=actor)
    _apply_staff_work(plan, account, anchor=anchor, actor=actor, staff=staff or {})
    return account


def _apply_staff_work(plan: AccountPlan, account: Account, *, anchor: datetime, actor, staff: dict) -> None:
    """``staff``: team -> the user who does that team's work (else ``actor`` does it)."""
    for code in plan.manual_exceptions:
        raiser = staff.get(Team.SUPPORT, actor)
        exception_open(account=account, reason_code=code, summary=f"Raised by support: {code}", actor=raiser)
    for exception in open_exceptions(account).order_by("reason_code__code"):
        code = exception.reason_code.code
        if code not in plan.staff_draws:
            continue
        roll, status = plan.staff_draws[code]
        who = staff.get(exception.owner_team, actor)
        if staff_resolves(code, roll, (anchor - exception.opened_at).days):
            # Resolved within two days of opening, as the company's staff did it, not today.
            done = min(exception.opened_at + timedelta(hours=1 + 47 * roll), anchor)
            exception_resolve(exception=exception, note=RESOLUTION_NOTES[code], actor=who, resolved_at=done)
        elif roll < STAFF_WORKED_BELOW and status != ExceptionStatus.OPEN:
            exception_set_status(exception=exception, status=status, actor=who)


@dataclass
class GenerationResult:
    created: int = 0
    skipped: int = 0
    events: int = 0


def generate_accounts(
    *,
    seed: int,
    indexes,
    anchor: datetime,
    actor,
    prefix: str = DEMO_PREFIX,
    days: int = DEMO_DAYS,
    progress=None,
    planner=None,
    staff=None,
) -> GenerationResult:
    """Create the planned accounts for ``indexes`` that do not exist yet (idempotent).
    ``planner`` (default ``plan_account``) may extend each plan (benchmarks add activity);
    ``staff`` (team -> user) does the staff's work, else ``actor`` does."""
    planner = planner or plan_account
    channels = ensure_channels(actor=actor)
    indexes = list(indexes)
    result = GenerationResult()
    for start in range(0, len(indexes), CHUNK):
        chunk = indexes[start : start + CHUNK]
        wanted = {f"{prefix}_{i:06d}": i for i in chunk}
        existing = set(Account.objects.filter(external_id__in=wanted).values_list("external_id", flat=True))
        result.skipped += len(existing)
        with transaction.atomic():
            for external_id, index in wanted.items():
                if external_id in existing:
                    continue
                plan = planner(seed=seed, index=index, anchor=anchor, prefix=prefix, days=days)
                apply_plan(plan, channels=channels, anchor=anchor, actor=actor, staff=staff)
                result.created += 1
                result.events += len(plan.events) + 1  # + account.created
        if progress is not None:
            progress(start + len(chunk), len(indexes))
    return result


def seed_demo(*, rng: random.Random, actor, stdout, accounts: int = DEMO_ACCOUNTS) -> None:
    """The accounts app's demo data: channels, accounts, their timelines and exceptions."""
    seed = rng.getrandbits(32)
    anchor = demo_anchor()
    # The teams' demo users do their work, so the reports see people's time, as in a company.
    users = get_user_model().objects.in_bulk(
        [DEMO_STAFF[team] for team in Team.values], field_name="username"
    )
    staff = {team: users[DEMO_STAFF[team]] for team in Team.values if DEMO_STAFF[team] in users}
    result = generate_accounts(seed=seed, indexes=range(accounts), anchor=anchor, actor=actor, staff=staff)
    stdout.write(
        f"accounts: {result.created} created, {result.skipped} already there "
        f"({result.events} events recorded), anchored at {anchor:%Y-%m-%d %H:%M} UTC"
    )
    if result.created:
        late = settle_delivery_times(prefix=DEMO_PREFIX, anchor=anchor)
        stdout.write(f"  their product events delivered as they happened, {late} of them late")
        stdout.write(describe_company(prefix=DEMO_PREFIX))


def describe_company(*, prefix: str) -> str:
    """A few lines that show the data is believable: volume, activation and trouble by channel."""
    accounts = Account.objects.filter(external_id__startswith=f"{prefix}_")
    per_channel = Counter(accounts.values_list("channel__code", flat=True))
    activated = Counter(accounts.filter(activated_at__isnull=False).values_list("channel__code", flat=True))
    imports_failed = Counter(
        OpsException.objects.filter(account__in=accounts, reason_code__code="import_failed").values_list(
            "account__channel__code", flat=True
        )
    )
    lines = ["  channel                   accounts  activated  import failures"]
    for code, total in per_channel.most_common():
        lines.append(
            f"  {code:<25} {total:>8}  {activated[code] / total:>8.0%}  {imports_failed[code] / total:>15.0%}"
        )
    shapes = Counter(accounts.values_list("shape", flat=True))
    lines.append("  shapes: " + ", ".join(f"{s} {shapes[s]}" for s in SHAPES))
    open_count = (
        OpsException.objects.filter(account__in=accounts).exclude(status=ExceptionStatus.RESOLVED).count()
    )
    lines.append(f"  exceptions: {open_count} unresolved")
    return "\n".join(lines)
