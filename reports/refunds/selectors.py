"""Refunds, disputes and billing tickets by channel, from the rows already stored: Stripe's
``charge.refunded`` and ``charge.dispute.created`` events (by ``created``) and tickets of
category billing (by ``created_at``), in [since, until).

A Stripe event belongs to the account it was processed for (the handler records it against
the account of its customer or metadata), else, while it waits to be processed, to the account
whose Stripe customer the charge names, else to the account its metadata names (under
``account_external_id``, the key opsconsole writes on Stripe objects). Rows that match no
account go to ``unmatched``. Amounts are Stripe's, in cents: ``amount_refunded`` of a refunded charge,
``amount`` of a dispute.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import CharField, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce

from accounts.billing.stripe_gateway import ACCOUNT_METADATA_KEY
from accounts.models import Account, StripeEvent
from reports.metrics import UNMATCHED
from reports.query import query_date
from reports.rowlists import register_list, rows_url
from reports.scope import bounds, channel_named
from routing.choices import Category
from routing.models import Ticket

REFUNDED = "charge.refunded"
DISPUTED = "charge.dispute.created"
KINDS = {"refunds": REFUNDED, "disputes": DISPUTED}


@dataclass(frozen=True)
class BillingIssues:
    channel: str
    refunds: int
    refunded_cents: int
    disputes: int
    disputed_cents: int
    billing_tickets: int
    refunds_url: str
    disputes_url: str
    tickets_url: str


def _channel_of_customer():
    return Account.objects.filter(stripe_customer_id=OuterRef("customer")).exclude(stripe_customer_id="")


def _channel_of_metadata():
    return Account.objects.filter(external_id=OuterRef("named_account"))


def stripe_rows(kind: str, *, since: date, until: date, channel: str | None = None) -> QuerySet[StripeEvent]:
    """The refund (``kind="refunds"``) or dispute events of the range, each annotated with
    ``channel_code`` (``unmatched`` when no account) and ``amount_cents``."""
    start, end = bounds(since, until)
    qs = StripeEvent.objects.filter(type=KINDS[kind], created__gte=start, created__lt=end).annotate(
        customer=KT("payload__data__object__customer"),
        named_account=KT(f"payload__data__object__metadata__{ACCOUNT_METADATA_KEY}"),
        amount_text=KT(
            "payload__data__object__amount_refunded" if kind == "refunds" else "payload__data__object__amount"
        ),
    )
    qs = qs.annotate(
        channel_code=Coalesce(
            F("account__channel__code"),
            Subquery(_channel_of_customer().values("channel__code")[:1]),
            Subquery(_channel_of_metadata().values("channel__code")[:1]),
            output_field=CharField(),
        )
    )
    if channel == UNMATCHED:
        return qs.filter(channel_code__isnull=True)
    found = channel_named(channel)
    return qs.filter(channel_code=found.code) if found is not None else qs


def billing_tickets(*, since: date, until: date, channel: str | None = None) -> QuerySet[Ticket]:
    start, end = bounds(since, until)
    qs = Ticket.objects.filter(
        Q(category=Category.BILLING) | Q(final_category=Category.BILLING),
        created_at__gte=start,
        created_at__lt=end,
    )
    if channel == UNMATCHED:
        return qs.filter(account__isnull=True)
    found = channel_named(channel)
    return qs.filter(account__channel=found) if found is not None else qs


def billing_issues(*, since: date, until: date) -> list[BillingIssues]:
    """One row per channel with any refund, dispute or billing ticket (and ``unmatched``)."""
    counts: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    for kind in KINDS:
        for code, amount in stripe_rows(kind, since=since, until=until).values_list(
            "channel_code", "amount_text"
        ):
            row = counts[code or UNMATCHED]
            row[kind] += 1
            row[f"{kind}_cents"] += int(amount or 0)
    tickets = billing_tickets(since=since, until=until).values_list("account__channel__code", flat=True)
    for code in tickets:
        counts[code or UNMATCHED]["tickets"] += 1
    rows = []
    for code in sorted(counts):
        c = counts[code]
        scope = {"since": since, "until": until, "channel": code}
        rows.append(
            BillingIssues(
                channel=code,
                refunds=c["refunds"],
                refunded_cents=c["refunds_cents"],
                disputes=c["disputes"],
                disputed_cents=c["disputes_cents"],
                billing_tickets=c["tickets"],
                refunds_url=rows_url("billing_refunds", **scope),
                disputes_url=rows_url("billing_disputes", **scope),
                tickets_url=rows_url("billing_tickets", **scope),
            )
        )
    return rows


def _params(params: dict) -> dict:
    return {
        "since": query_date(params, "since"),
        "until": query_date(params, "until"),
        "channel": params.get("channel") or None,
    }


_STRIPE_COLUMNS = (
    ("id", "pk"),
    ("Stripe event", "stripe_id"),
    ("Created", "created"),
    ("Customer", "customer"),
    ("Channel", "channel_code"),
    ("Amount (cents)", "amount_text"),
)
register_list("billing_refunds", "Refunds", _STRIPE_COLUMNS, lambda p: stripe_rows("refunds", **_params(p)))
register_list(
    "billing_disputes", "Disputes", _STRIPE_COLUMNS, lambda p: stripe_rows("disputes", **_params(p))
)
register_list(
    "billing_tickets",
    "Billing tickets",
    (
        ("id", "pk"),
        ("Ticket", "external_id"),
        ("Subject", "subject"),
        ("Account", "account__external_id"),
        ("Created", "created_at"),
        ("Status", "status"),
    ),
    lambda p: billing_tickets(**_params(p)),
)
