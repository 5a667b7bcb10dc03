"""Reads for accounts: restricted querysets, provisioning status, entitlements, timelines."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.choices import (
    UNRESOLVED_EXCEPTION_STATUSES,
    EntitlementKind,
    LifecycleStage,
    ProvisioningStatus,
    StepStatus,
    Team,
)
from accounts.help import help_url
from accounts.models import (
    Account,
    AccountEvent,
    EntitlementOverride,
    OpsException,
    ProvisioningStep,
)
from accounts.rules import applicable_steps
from accounts.shapes import plan_for, shape_for
from opsconsole.errors import NotFound
from opsconsole.home import MY_WORK_LIMIT, SEARCH_LIMIT, SearchHit, WorkItem
from opsconsole.links import admin_change_url


def accounts_with_open_counts(user) -> QuerySet[Account]:
    """The accounts ``user`` may see, each with ``open_exception_count`` (its unresolved
    exceptions), as the console's account list shows and sorts them."""
    unresolved = (
        OpsException.objects.filter(account=OuterRef("pk"), status__in=UNRESOLVED_EXCEPTION_STATUSES)
        .order_by()
        .values("account")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        Account.objects.restrict(user)
        .select_related("channel", "owner", "duplicate_of")
        .annotate(open_exception_count=Coalesce(Subquery(unresolved), 0))
    )


def accounts_visible_by_external_id(*, user, external_ids) -> dict[str, Account]:
    """The accounts ``user`` may see among ``external_ids``, by external_id (unknown or hidden
    ones are simply absent)."""
    visible = (
        Account.objects.restrict(user).select_related("channel", "owner").filter(external_id__in=external_ids)
    )
    return {account.external_id: account for account in visible}


def account_get(*, external_id: str, user) -> Account:
    account = (
        Account.objects.restrict(user)
        .select_related("channel", "owner")
        .filter(external_id=external_id)
        .first()
    )
    if account is None:
        raise NotFound("account_not_found", f"No account with external_id {external_id!r}.")
    return account


def account_lookup(*, external_id: str) -> Account | None:
    """The account with ``external_id``, whoever asks: for checks on a second account an action
    names (the one a duplicate duplicates)."""
    return Account.objects.filter(external_id=external_id).first()


def account_last_event(*, account: Account, type: str) -> AccountEvent | None:
    """The account's latest event of ``type`` (the failed import a restart retries)."""
    return AccountEvent.objects.filter(account=account, type=type).order_by("-occurred_at", "-id").first()


def account_recent_events(*, account: Account, limit: int = 5) -> list[AccountEvent]:
    return list(
        AccountEvent.objects.filter(account=account)
        .select_related("reason_code")
        .order_by("-occurred_at", "-id")[:limit]
    )


# --- Provisioning status -------------------------------------------------------------------


@dataclass(frozen=True)
class Blocking:
    step: str
    reason_code: str
    message: str
    next_action: str
    help_url: str | None = None


@dataclass(frozen=True)
class ProvisioningStatusView:
    account: str
    status: str
    steps: list[dict]
    blocking: Blocking | None
    updated_at: datetime


def provisioning_status(account: Account) -> ProvisioningStatusView:
    order = {name: i for i, name in enumerate(applicable_steps(account))}
    steps = sorted(
        ProvisioningStep.objects.filter(account=account).select_related("blocking_exception__reason_code"),
        key=lambda s: order.get(s.step, len(order)),
    )
    failed = [s for s in steps if s.status == StepStatus.FAILED]
    blocking = None
    if failed:
        first = failed[0]
        reason = first.blocking_exception.reason_code if first.blocking_exception else None
        evidence = first.blocking_exception.evidence if first.blocking_exception else {}
        blocking = Blocking(
            step=first.step,
            reason_code=reason.code if reason else "unknown",
            message=reason.customer_message if reason else "A setup step failed.",
            next_action=reason.customer_next_action if reason else "Contact support.",
            help_url=help_url(
                reason_code=reason.code if reason else "",
                feature_area=(evidence or {}).get("feature_area") or "",
            ),
        )
    status = _overall_status(account, steps, blocking)
    updated = max([s.updated_at for s in steps] + [account.updated_at])
    return ProvisioningStatusView(
        account=account.external_id,
        status=status,
        steps=[{"step": s.step, "status": s.status, "updated_at": s.updated_at} for s in steps],
        blocking=blocking,
        updated_at=updated,
    )


def provisioning_step_of(*, account: Account, step: str) -> ProvisioningStep | None:
    """The account's ``step``, or None when its shape has no such step."""
    return ProvisioningStep.objects.filter(account=account, step=step).first()


def provisioning_step_times(account: Account) -> dict[str, datetime | None]:
    """When each step's current status happened (its event's time; ``updated_at`` only says
    when we processed it)."""
    return dict(ProvisioningStep.objects.filter(account=account).values_list("step", "status_at"))


def _overall_status(account: Account, steps: list[ProvisioningStep], blocking) -> str:
    if account.lifecycle_stage == LifecycleStage.CHURNED and not all(
        s.status == StepStatus.SUCCEEDED for s in steps
    ):
        return ProvisioningStatus.FAILED
    if blocking is not None:
        return ProvisioningStatus.ACTION_REQUIRED
    by_step = {s.step: s.status for s in steps}
    if "approve" in by_step and by_step["approve"] != StepStatus.SUCCEEDED:
        return ProvisioningStatus.UNDER_REVIEW
    if steps and all(s.status == StepStatus.SUCCEEDED for s in steps):
        return ProvisioningStatus.READY
    if any(s.status != StepStatus.PENDING for s in steps):
        return ProvisioningStatus.IN_PROGRESS
    return ProvisioningStatus.PENDING


# --- Entitlements -------------------------------------------------------------------------


@dataclass(frozen=True)
class Entitlement:
    key: str
    type: str  # "feature" or "limit"
    value: bool | int
    granted_by: str
    kind: str
    temporary: bool
    beta: bool
    grandfathered: bool
    expires_at: datetime | None


def entitlements_for(account: Account, *, now: datetime | None = None) -> list[Entitlement]:
    """Features and limits: the shape's, raised by the plan's, then the account's overrides."""
    now = now or timezone.now()
    shape = shape_for(account.shape)
    plan = plan_for(account.plan)
    merged: dict[str, Entitlement] = {}

    def standard(key, type_, value, granted_by):
        return Entitlement(key, type_, value, granted_by, EntitlementKind.STANDARD, False, False, False, None)

    for feature in shape.entitlements:
        merged[feature] = standard(feature, "feature", True, f"shape:{shape.code}")
    for feature in plan.features:
        merged.setdefault(feature, standard(feature, "feature", True, f"plan:{plan.code}"))
    for key, value in shape.limits.items():
        merged[key] = standard(key, "limit", value, f"shape:{shape.code}")
    for key, value in plan.limits.items():
        if key not in merged or value > merged[key].value:
            merged[key] = standard(key, "limit", value, f"plan:{plan.code}")
    overrides = EntitlementOverride.objects.filter(account=account).exclude(expires_at__lte=now)
    for o in overrides.order_by("key"):
        merged[o.key] = Entitlement(
            key=o.key,
            type="limit" if o.limit_value is not None else "feature",
            value=o.limit_value if o.limit_value is not None else True,
            granted_by=f"override:{o.pk}",
            kind=o.kind,
            temporary=o.kind == EntitlementKind.TEMPORARY or o.expires_at is not None,
            beta=o.kind == EntitlementKind.BETA,
            grandfathered=o.kind == EntitlementKind.GRANDFATHERED,
            expires_at=o.expires_at,
        )
    return sorted(merged.values(), key=lambda e: (e.type, e.key))


def open_exceptions(account: Account) -> QuerySet[OpsException]:
    return OpsException.objects.filter(
        account=account, status__in=UNRESOLVED_EXCEPTION_STATUSES
    ).select_related("reason_code", "owner_user")


def exceptions_by_overdue(exceptions: QuerySet[OpsException], *, overdue: bool) -> QuerySet[OpsException]:
    """The unresolved ``exceptions`` past their respond-by time with no first response yet
    (``overdue``): the response clock stops at the first response. Or all the others.
    ``OpsException.is_overdue`` is the same rule for one row in memory."""
    past_due = Q(
        status__in=UNRESOLVED_EXCEPTION_STATUSES,
        first_response_at__isnull=True,
        respond_by__lt=timezone.now(),
    )
    return exceptions.filter(past_due) if overdue else exceptions.exclude(past_due)


# --- Lookups for other apps (ticket intake, reports) -----------------------------------------

# Mail providers whose domain says nothing about which company wrote in.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "yahoo.com",
        "icloud.com",
        "me.com",
        "proton.me",
        "protonmail.com",
        "aol.com",
        "gmx.com",
        "gmx.de",
        "mail.com",
        "yandex.com",
    }
)


def account_find_by_contact(*, external_id: str | None = None, email: str = "") -> tuple[Account | None, str]:
    """The account a message is about, and how it was found: by ``external_id``, by the sender
    being the account's admin (``email``), or by the sender's company domain (``domain``, only
    when exactly one account has it). Returns (None, "none") when nothing fits."""
    base = Account.objects.select_related("channel", "owner")
    if external_id:
        account = base.filter(external_id=external_id).first()
        if account is not None:
            return account, "external_id"
    email = (email or "").strip()
    if "@" not in email:
        return None, "none"
    account = base.filter(admin_email__in={email, email.lower()}).order_by("-signed_up_at").first()
    if account is not None:
        return account, "email"
    domain = email.rsplit("@", 1)[1].lower()
    if domain in FREE_MAIL_DOMAINS:
        return None, "none"
    candidates = list(base.filter(admin_email__iendswith=f"@{domain}")[:2])
    if len(candidates) == 1:
        return candidates[0], "domain"
    return None, "none"


def account_counts_by_channel() -> dict[str, int]:
    """How many accounts each channel has brought, by channel code."""
    return dict(
        Account.objects.values_list("channel__code").annotate(n=Count("id")).values_list("channel__code", "n")
    )


def account_external_ids(*, prefix: str = "", limit: int | None = None) -> list[str]:
    """External ids in a stable order (demo and benchmark data pick accounts from it)."""
    ids = Account.objects.filter(external_id__startswith=prefix).order_by("external_id")
    return list(ids.values_list("external_id", flat=True)[:limit])


# --- The console's home (opsconsole.home): my exceptions, and finding an account -------------


def teams_of(user) -> list[str]:
    """The teams a staff member works in: their roles that are teams."""
    return list(user.groups.filter(name__in=Team.values).values_list("name", flat=True))


def my_exceptions(user, *, now: datetime) -> list[WorkItem]:
    """The unresolved exceptions ``user`` owns, as work items due at their respond-by time
    (``OpsException.is_overdue``'s rule). Their teams' unowned ones are counted apart
    (``team_exception_counts``): they are the team's to pick up, not this person's."""
    exceptions = (
        OpsException.objects.restrict(user, "view")
        .filter(owner_user=user, status__in=UNRESOLVED_EXCEPTION_STATUSES)
        .select_related("account", "reason_code")
        .order_by("respond_by", "pk")[:MY_WORK_LIMIT]
    )
    return [
        WorkItem(
            kind="Exception",
            label=f"#{e.pk} {e.reason_code.code}",
            title=e.summary or e.reason_code.title,
            url=admin_change_url(e),
            due_at=e.respond_by,
            status=e.get_status_display(),
            account=e.account.external_id,
        )
        for e in exceptions
    ]


def team_exception_counts(user, *, now: datetime) -> list[dict]:
    """Per team of ``user``: its unresolved exceptions nobody owns yet, and how many of those
    are past their respond-by time."""
    unowned = OpsException.objects.restrict(user, "view").filter(
        owner_user__isnull=True, status__in=UNRESOLVED_EXCEPTION_STATUSES, owner_team__in=teams_of(user)
    )
    rows = unowned.values("owner_team").annotate(
        open=Count("pk"), overdue=Count("pk", filter=Q(respond_by__lt=now))
    )
    return [{**row, "team": Team(row["owner_team"]).label} for row in rows.order_by("owner_team")]


def search_accounts_and_exceptions(user, query: str) -> list[SearchHit]:
    """Accounts ``user`` may see whose external id, admin email, email domain or Stripe
    customer or subscription id is ``query``, or that sent an event with that request id; and
    the exception ``#<n>`` when ``query`` names one they may see."""
    text = query.strip().lower()
    domain = text.lstrip("@")
    matches = [
        ("external id", Q(external_id__iexact=text)),
        ("email", Q(admin_email__iexact=text)),
        ("Stripe id", Q(stripe_customer_id=query.strip()) | Q(stripe_subscription_id=query.strip())),
        (
            "request id",
            Q(pk__in=AccountEvent.objects.filter(request_id=query.strip()).values("account_id")),
        ),
    ]
    if "@" not in domain and "." in domain:
        matches.append(("domain", Q(admin_email__iendswith=f"@{domain}")))
    visible = Account.objects.restrict(user, "view").select_related("channel")
    hits, seen = [], set()
    for matched, condition in matches:
        for account in visible.filter(condition).order_by("external_id")[:SEARCH_LIMIT]:
            if account.pk not in seen:
                seen.add(account.pk)
                hits.append(
                    SearchHit(
                        kind="Account",
                        label=account.external_id,
                        detail=f"{account.name} · {account.admin_email} · {account.channel.code}",
                        url=admin_change_url(account),
                        matched=matched,
                    )
                )
    number = text.removeprefix("#")
    if number.isascii() and number.isdigit():
        exception = (
            OpsException.objects.restrict(user, "view")
            .filter(pk=int(number))
            .select_related("account", "reason_code")
            .first()
        )
        if exception is not None:
            hits.append(
                SearchHit(
                    kind="Exception",
                    label=f"#{exception.pk} {exception.reason_code.code}",
                    detail=f"{exception.account.external_id} · {exception.get_status_display()}",
                    url=admin_change_url(exception),
                    matched="exception number",
                )
            )
    return hits[:SEARCH_LIMIT]
