"""Demo data for the constraint pages (a walk-through seeder, run after every layer's base
data): what ``make run`` would otherwise lack. The ops lead enters each channel's acquisition
spend; the event intake has refused events naming deleted accounts; reconciliation found Stripe
customers no account claims; some charges were refunded or disputed. All through the services,
deterministic for its ``rng`` and idempotent (fixed ids, skipped when present).
"""

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from accounts.billing.services import drift_open
from accounts.billing.stripe_events import stripe_event_process, stripe_event_record
from accounts.billing.stripe_gateway import ACCOUNT_METADATA_KEY
from accounts.choices import DriftKind, ReconciliationTarget, StripeEventVia
from accounts.models import Account, Channel
from accounts.rejections import RejectedEvent, RejectionReason
from accounts.services.events import Rejection, rejected_events_record
from opsconsole.history import acting_as
from reports.costs.services import channel_spend_set
from reports.models import ChannelSpend

# Monthly acquisition spend in dollars. The partner is cheap per signup (about $11) and, with
# its failed imports and its customers' refunds, the dearest per activated account.
DEMO_SPEND = {
    "northwind-partners": 3_900,
    "google-ads": 4_000,
    "workspace-marketplace": 2_150,
    "outbound": 1_000,
    "organic": 400,
    "customer-referral": 400,
}
# Reseller billing confuses the partner's customers: the refunds and disputes are theirs.
CHARGED_CHANNEL = "northwind-partners"
REJECTED = 7
ORPHAN_CUSTOMERS = ("cus_demo_orphan_1", "cus_demo_orphan_2")
# (event id, type, amount in cents) on demo accounts picked by rng
CHARGES = [(f"evt_demo_refund_{n}", "charge.refunded", 4_900 * (1 + n % 3)) for n in range(6)]
CHARGES += [(f"evt_demo_dispute_{n}", "charge.dispute.created", 19_900) for n in range(2)]


def seed_demo(*, rng: random.Random, actor, stdout) -> None:
    lead = get_user_model().objects.filter(username="ops_lead").first()
    spent = 0
    if lead is not None and not ChannelSpend.objects.exists():
        for channel in Channel.objects.filter(code__in=list(DEMO_SPEND)):
            channel_spend_set(channel=channel, monthly_spend_cents=DEMO_SPEND[channel.code] * 100, actor=lead)
            spent += 1
    now = timezone.now()
    if not RejectedEvent.objects.filter(event_id__startswith="demo-lost-").exists():
        rejected_events_record(
            rejections=[
                Rejection(
                    RejectionReason.UNKNOWN_ACCOUNT,
                    {"account": [f"No account with external_id 'deleted_{n:03d}'."]},
                    event_id=f"demo-lost-{n}",
                    account_ref=f"deleted_{n:03d}",
                    type=rng.choice(["user.login", "report.viewed"]),
                    occurred_at=now - timedelta(days=rng.randint(1, 20)),
                )
                for n in range(REJECTED)
            ],
            actor=actor,
        )
    with transaction.atomic(), acting_as(actor):
        for customer in ORPHAN_CUSTOMERS:
            drift_open(
                system=ReconciliationTarget.STRIPE,
                kind=DriftKind.UNMATCHED,
                subject=customer,
                account=None,
                ours={},
                theirs={"customer": customer},
                summary=f"Stripe customer {customer} belongs to no account",
            )
    accounts = list(
        Account.objects.filter(channel__code=CHARGED_CHANNEL, external_id__startswith="demo_").order_by(
            "external_id"
        )[:300]
    )
    charged = 0
    for event_id, type_, amount in CHARGES:
        account = rng.choice(accounts) if accounts else None
        if account is None:
            break
        field = "amount_refunded" if type_ == "charge.refunded" else "amount"
        created = now - timedelta(days=rng.randint(1, 25), minutes=rng.randint(0, 1_000))
        row, new = stripe_event_record(
            event={
                "id": event_id,
                "type": type_,
                "created": int(created.timestamp()),
                "data": {
                    "object": {
                        "id": f"ch_{event_id}",
                        "metadata": {ACCOUNT_METADATA_KEY: account.external_id},
                        field: amount,
                    }
                },
            },
            via=StripeEventVia.WEBHOOK,
            dispatch=False,
            actor=actor,
        )
        if new:
            # As the webhook's task would: recorded against the account its metadata names.
            stripe_event_process(stripe_event=row, actor=actor)
        charged += new
    stdout.write(
        f"constraints demo: {spent} channel spends, {REJECTED} refused events, "
        f"{len(ORPHAN_CUSTOMERS)} orphan Stripe customers, {charged} refunds and disputes"
    )
