"""Billing's rules: which system owns each billing field, what a Stripe subscription implies for
an account, and which guarded action fixes each kind of drift.

Pure functions of values, read by services, selectors and actions alike (no ORM writes).
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from accounts.billing import stripe_gateway
from accounts.choices import BillingStatus, DriftKind, SystemOfRecord

STRIPE_STATUS_TO_BILLING = {
    "trialing": BillingStatus.TRIALING,
    "active": BillingStatus.ACTIVE,
    "past_due": BillingStatus.PAST_DUE,
    "unpaid": BillingStatus.UNPAID,
    "canceled": BillingStatus.CANCELED,
    "incomplete": BillingStatus.INCOMPLETE,
    "incomplete_expired": BillingStatus.CANCELED,
    "paused": BillingStatus.UNPAID,
}
LIVE_BILLING_STATUSES = (BillingStatus.TRIALING, BillingStatus.ACTIVE, BillingStatus.PAST_DUE)
# Stripe subscription statuses that still bill (or may): one of these is a live subscription.
STRIPE_LIVE_SUBSCRIPTION = ("trialing", "active", "past_due", "unpaid", "incomplete")


@dataclass(frozen=True)
class BillingField:
    """An account billing field and who decides its value."""

    name: str
    label: str
    # The account field naming its system of record; None: only Stripe can know the value.
    source_field: str | None = None
    # The drift a disagreement opens, and the guarded action that fixes it when the product
    # (not Stripe) is right; None: a disagreement is corrected or ignored, never reported.
    drift_kind: str | None = None
    fix_action: str = ""
    # Whether a subscription implies the value (the customer id comes from the customer).
    from_subscription: bool = True

    def system_of_record(self, account) -> str:
        return getattr(account, self.source_field) if self.source_field else SystemOfRecord.STRIPE


# The system-of-record table: the account page shows it, and settling a subscription obeys it.
BILLING_FIELDS = (
    BillingField("plan", "Plan", "plan_source", DriftKind.PLAN, "reassign_plan"),
    BillingField(
        "billing_status",
        "Billing status",
        "billing_status_source",
        DriftKind.BILLING_STATUS,
        "adopt_stripe_value",
    ),
    BillingField(
        "trial_ends_at", "Trial ends", "trial_end_source", DriftKind.TRIAL_END, "adopt_stripe_value"
    ),
    BillingField("renews_at", "Renews", "renewal_source"),
    BillingField("mrr_cents", "MRR (cents)"),
    BillingField("stripe_customer_id", "Stripe customer", from_subscription=False),
    BillingField("stripe_subscription_id", "Stripe subscription"),
)
# Compared with every subscription: these by the system their source field names...
OWNED_SUBSCRIPTION_FIELDS = tuple(f for f in BILLING_FIELDS if f.source_field)
# ...and these, identifiers and amounts only Stripe can know, always taken from Stripe.
STRIPE_ONLY_FIELDS = tuple(f.name for f in BILLING_FIELDS if not f.source_field and f.from_subscription)

# The account fields a CRM company mirrors, and the drift each disagreement opens.
CRM_DRIFT_KINDS = {
    "owner": DriftKind.CRM_OWNER,
    "plan": DriftKind.CRM_PLAN,
    "lifecycle_stage": DriftKind.CRM_LIFECYCLE,
}

# The guarded action each drift kind names as its fix (the exception page offers it).
FIX_ACTIONS = {
    **{f.drift_kind: f.fix_action for f in BILLING_FIELDS if f.drift_kind},
    DriftKind.NO_SUBSCRIPTION: "end_product_billing",
    # On the account the record belongs to: the drift itself has no account.
    DriftKind.UNMATCHED: "link_stripe_customer",
    DriftKind.DUPLICATE_CUSTOMER: "merge_stripe_customers",
    # The CRM mirrors us: whatever field disagrees, the fix is to push our value there.
    **dict.fromkeys(CRM_DRIFT_KINDS.values(), "push_to_crm"),
}


def drift_kinds_fixed_by(action_name: str) -> tuple[str, ...]:
    return tuple(kind for kind, name in FIX_ACTIONS.items() if name == action_name)


def epoch_to_datetime(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def json_value(value: Any) -> Any:
    """A field value as drift evidence and timeline payloads store it."""
    return value.isoformat() if isinstance(value, datetime) else value


def subscription_state(subscription: dict) -> dict[str, Any]:
    """The account fields a Stripe subscription implies."""
    status = STRIPE_STATUS_TO_BILLING.get(subscription.get("status"), BillingStatus.INCOMPLETE)
    return {
        "plan": stripe_gateway.subscription_plan_code(subscription) or "",
        "billing_status": status,
        "trial_ends_at": epoch_to_datetime(subscription.get("trial_end")),
        "renews_at": epoch_to_datetime(stripe_gateway.subscription_period_end(subscription)),
        "stripe_subscription_id": subscription["id"],
        "mrr_cents": stripe_gateway.subscription_monthly_cents(subscription)
        if status in LIVE_BILLING_STATUSES
        else 0,
    }


def subscription_agrees(account, subscription: dict) -> bool:
    """Whether every field a subscription implies already has that value on the account."""
    theirs = subscription_state(subscription)
    return all(getattr(account, name) == value for name, value in theirs.items())


def subscription_superseded(account, subscription: dict) -> bool:
    """An ended subscription of an account that has another one now: history, not state."""
    other = account.stripe_subscription_id and account.stripe_subscription_id != subscription["id"]
    return bool(other) and subscription.get("status") in ("canceled", "incomplete_expired")
