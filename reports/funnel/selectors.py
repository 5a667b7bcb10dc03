"""The step-gap funnel: for each step of ``accounts.shapes.JOURNEY_STEPS``, how many cohort
accounts reached it, the median and p90 hours from the step before, and where accounts first
left the product for staff work.

When an account reached a step (the first time):

- created: ``signed_up_at``;
- identity verified or approved: its first ``account.approved`` or ``identity.verified``;
- workspace provisioned: ``workspace.provisioned``; import or integration set up: the first
  ``import.succeeded`` or ``integration.connected``; plan assigned: ``plan.assigned``; user
  invited: the first ``invite.sent`` or ``invite.accepted``;
- activation: ``activated_at``;
- support intake: its first ticket; escalation: its first escalation;
- refund, cancellation or change: its first ``subscription.cancelled``, or refund or dispute
  from Stripe (processed for the account, or naming its Stripe customer).

The gap of a step is the time from the latest earlier step the account had reached by then
(``created`` at least); a step dated before the signup (a ticket filed before it) has no gap.
Percentiles interpolate as ``percentile_cont``.

First staff touch: the earliest of the account's first exception, first ticket and first
guarded action run by a person. It is put at the first step, in journey order, that applies
to the account's shape and that it had not reached by then (approval applies to shapes with an
approval step, import or integration to shapes with either; support intake when every earlier
step was reached). ``share`` divides by the cohort's accounts.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Min, QuerySet

from accounts.choices import ProvisioningStepName as Step
from accounts.models import Account, AccountEvent, OpsException, StripeEvent
from accounts.shapes import JOURNEY_STEPS, SHAPES
from opsconsole.models import ActionRun
from reports.facts import person_q
from reports.query import query_date
from reports.rowlists import register_list, rows_url
from reports.scope import cohort
from routing.models import Escalation, Ticket
from routing.rules import percentile

CREATED, APPROVED, WORKSPACE, SETUP, PLAN, INVITED, ACTIVATION, SUPPORT, ESCALATION, CHANGE = JOURNEY_STEPS
STEP_EVENTS = {
    APPROVED: ("account.approved", "identity.verified"),
    WORKSPACE: ("workspace.provisioned",),
    SETUP: ("import.succeeded", "integration.connected"),
    PLAN: ("plan.assigned",),
    INVITED: ("invite.sent", "invite.accepted"),
    CHANGE: ("subscription.cancelled",),
}
# The provisioning steps that make a journey step apply to a shape (others apply to every shape).
STEP_APPLIES = {
    APPROVED: {Step.APPROVE},
    WORKSPACE: {Step.CREATE_WORKSPACE},
    SETUP: {Step.CONNECT_INTEGRATION, Step.IMPORT_DATA},
    PLAN: {Step.ASSIGN_PLAN},
    INVITED: {Step.INVITE_ADMIN},
}
# Where a first staff touch can land, in order.
TOUCH_STEPS = (APPROVED, WORKSPACE, SETUP, PLAN, INVITED, ACTIVATION, SUPPORT)
CHANGE_STRIPE_TYPES = ("charge.refunded", "charge.dispute.created")


@dataclass(frozen=True)
class FunnelStep:
    step: str
    reached: int
    median_gap_h: float | None
    p90_gap_h: float | None
    first_staff_touch: int
    first_staff_touch_share: float | None
    reached_url: str
    touch_url: str


@dataclass
class _Journey:
    account_id: int
    shape: str
    at: dict  # step -> first time
    touch: datetime | None = None
    touch_step: str | None = None


def _earliest(into: dict, key, step: str, at) -> None:
    if at is not None and (step not in into[key] or at < into[key][step]):
        into[key][step] = at


def journeys(accounts: QuerySet[Account]) -> list[_Journey]:
    """Each cohort account's journey: when it reached each step, and its first staff touch."""
    base = {
        pk: (shape, signed, activated)
        for pk, shape, signed, activated in accounts.values_list(
            "pk", "shape", "signed_up_at", "activated_at"
        )
    }
    at: dict[int, dict] = defaultdict(dict)
    for pk, (_, signed, activated) in base.items():
        at[pk][CREATED] = signed
        _earliest(at, pk, ACTIVATION, activated)
    ids = list(base)
    by_type = {t: step for step, types in STEP_EVENTS.items() for t in types}
    events = (
        AccountEvent.objects.filter(account_id__in=ids, type__in=list(by_type))
        .values("account_id", "type")
        .annotate(first=Min("occurred_at"))
        .order_by()
    )
    for row in events:
        _earliest(at, row["account_id"], by_type[row["type"]], row["first"])
    firsts = {
        SUPPORT: Ticket.objects.filter(account_id__in=ids),
        ESCALATION: Escalation.objects.filter(account_id__in=ids),
    }
    for step, qs in firsts.items():
        field = "created_at"
        for account_id, first in (
            qs.values("account_id").annotate(first=Min(field)).values_list("account_id", "first")
        ):
            _earliest(at, account_id, step, first)
    stripe = StripeEvent.objects.filter(account_id__in=ids, type__in=CHANGE_STRIPE_TYPES)
    for account_id, first in (
        stripe.values("account_id").annotate(first=Min("created")).values_list("account_id", "first")
    ):
        _earliest(at, account_id, CHANGE, first)
    touches: dict[int, dict] = defaultdict(dict)
    staff = (
        (OpsException.objects.filter(account_id__in=ids), "opened_at"),
        (Ticket.objects.filter(account_id__in=ids), "created_at"),
        (ActionRun.objects.filter(person_q("actor"), account_id__in=ids), "created_at"),
    )
    for qs, field in staff:
        for account_id, first in (
            qs.values("account_id").annotate(first=Min(field)).values_list("account_id", "first")
        ):
            _earliest(touches, account_id, "touch", first)
    found = []
    for pk, (shape, _, _) in base.items():
        journey = _Journey(pk, shape, at[pk], touches.get(pk, {}).get("touch"))
        if journey.touch is not None:
            journey.touch_step = _touch_step(journey)
        found.append(journey)
    return found


def _applies(step: str, shape: str) -> bool:
    needed = STEP_APPLIES.get(step)
    return needed is None or bool(needed & set(SHAPES[shape].steps)) if shape in SHAPES else True


def _touch_step(journey: _Journey) -> str:
    for step in TOUCH_STEPS:
        if not _applies(step, journey.shape):
            continue
        reached = journey.at.get(step)
        if reached is None or reached > journey.touch:
            return step
    return SUPPORT


def _gap_hours(journey: _Journey, index: int) -> float | None:
    step = JOURNEY_STEPS[index]
    when = journey.at.get(step)
    if when is None or index == 0 or when < journey.at[CREATED]:
        return None  # not reached, the start itself, or dated before the signup (data quality)
    earlier = [journey.at[s] for s in JOURNEY_STEPS[:index] if s in journey.at and journey.at[s] <= when]
    previous = max(earlier) if earlier else journey.at[CREATED]
    return (when - previous).total_seconds() / 3600


def step_funnel(*, since: date, until: date, channel: str | None = None) -> list[FunnelStep]:
    found = journeys(cohort(since=since, until=until, channel=channel))
    total = len(found)
    rows = []
    for index, step in enumerate(JOURNEY_STEPS):
        gaps = sorted(g for g in (_gap_hours(j, index) for j in found) if g is not None)
        touched = sum(1 for j in found if j.touch_step == step)
        scope = {"since": since, "until": until, "channel": channel, "step": step}
        rows.append(
            FunnelStep(
                step=step,
                reached=sum(1 for j in found if step in j.at),
                median_gap_h=None if not gaps else round(percentile(gaps, 0.5), 2),
                p90_gap_h=None if not gaps else round(percentile(gaps, 0.9), 2),
                first_staff_touch=touched,
                first_staff_touch_share=round(touched / total, 4) if total else None,
                reached_url=rows_url("funnel_reached", **scope),
                touch_url=rows_url("funnel_first_touch", **scope),
            )
        )
    return rows


def funnel_accounts(
    kind: str, *, step: str, since: date, until: date, channel: str | None = None
) -> QuerySet[Account]:
    """The accounts behind a funnel number: those that reached ``step`` (``kind="reached"``) or
    whose first staff touch was at it (``kind="touch"``)."""
    accounts = cohort(since=since, until=until, channel=channel)
    if kind == "reached":
        ids = [j.account_id for j in journeys(accounts) if step in j.at]
    else:
        ids = [j.account_id for j in journeys(accounts) if j.touch_step == step]
    return accounts.filter(pk__in=ids)


def _list(kind: str):
    def rows(params: dict) -> QuerySet:
        return funnel_accounts(
            kind,
            step=params.get("step", ""),
            since=query_date(params, "since"),
            until=query_date(params, "until"),
            channel=params.get("channel") or None,
        )

    return rows


_COLUMNS = (
    ("id", "pk"),
    ("Account", "external_id"),
    ("Name", "name"),
    ("Channel", "channel__code"),
    ("Shape", "shape"),
    ("Signed up", "signed_up_at"),
    ("Activated", "activated_at"),
)
register_list("funnel_reached", "Accounts that reached a journey step", _COLUMNS, _list("reached"))
register_list(
    "funnel_first_touch", "Accounts first touched by staff at a journey step", _COLUMNS, _list("touch")
)
