"""Reads for billing: an account's billing state panel and the reconciliation overview."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count

from accounts.billing.rules import BILLING_FIELDS
from accounts.choices import DriftKind, DriftStatus
from accounts.models import Account, BillingDrift, OpsException


@dataclass(frozen=True)
class BillingFieldRow:
    label: str
    value: object
    system_of_record: str
    drift: BillingDrift | None


@dataclass(frozen=True)
class BillingState:
    rows: list[BillingFieldRow]
    last_synced_at: datetime | None
    stripe_state_at: datetime | None
    crm_state_at: datetime | None
    open_drift: list[BillingDrift]


def billing_state(account: Account) -> BillingState:
    """Every billing field with the system that owns it, the last sync and the open drift."""
    drift = list(
        BillingDrift.objects.filter(status=DriftStatus.OPEN)
        .filter(account=account)
        .select_related("exception")
        .order_by("kind")
    )
    by_field = {d.field: d for d in drift if d.field}
    rows = [
        BillingFieldRow(
            label=f.label,
            value=getattr(account, f.name),
            system_of_record=f.system_of_record(account),
            drift=by_field.get(f.name),
        )
        for f in BILLING_FIELDS
    ]
    return BillingState(
        rows=rows,
        last_synced_at=account.billing_synced_at,
        stripe_state_at=account.stripe_state_at,
        crm_state_at=account.crm_state_at,
        open_drift=drift,
    )


def open_drift_by_kind() -> list[dict]:
    counts = dict(
        BillingDrift.objects.filter(status=DriftStatus.OPEN)
        .values_list("kind")
        .annotate(n=Count("id"))
        .values_list("kind", "n")
    )
    return [{"kind": label, "code": kind, "count": counts.get(kind, 0)} for kind, label in DriftKind.choices]


def open_drift_by_channel() -> list[dict]:
    rows = (
        BillingDrift.objects.filter(status=DriftStatus.OPEN)
        .values("account__channel__code", "account__channel__name")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    return [{"channel": r["account__channel__name"] or "(no account)", "count": r["n"]} for r in rows]


def open_drift_of(exception: OpsException, *, system: str | None = None) -> BillingDrift | None:
    """The open drift an exception stands for, optionally only from one system (Stripe, CRM)."""
    drift = BillingDrift.objects.filter(exception=exception, status=DriftStatus.OPEN)
    if system is not None:
        drift = drift.filter(system=system)
    return drift.select_related("account__owner").order_by("-opened_at").first()
