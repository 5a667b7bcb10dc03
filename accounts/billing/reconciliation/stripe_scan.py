"""Stripe full scan: customers -> subscriptions -> close.

Customers link the accounts they name; subscriptions settle the accounts that disagree;
close reports accounts with no subscription and two customers for one account, and resolves
drift the run no longer saw. Both listings mark which account each object matched, for close.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q

from accounts.billing import stripe_gateway
from accounts.billing.reconciliation.pages import DONE, Batch, PageReader, PageStep, batch_read
from accounts.billing.rules import (
    BILLING_FIELDS,
    LIVE_BILLING_STATUSES,
    STRIPE_LIVE_SUBSCRIPTION,
    subscription_agrees,
    subscription_superseded,
)
from accounts.billing.services import (
    AccountWrites,
    customer_link,
    drift_open,
    drift_resolve_unseen,
    duplicate_customer_drift_open,
    subscription_drift_lock,
    subscription_settle,
)
from accounts.choices import DriftKind, DriftStatus, ReconciliationTarget
from accounts.models import Account, BillingDrift, ReconciliationMark, ReconciliationRun

# What the scan compares; the locked re-read before a write loads the whole row.
SCAN_FIELDS = ("external_id", *(f.name for f in BILLING_FIELDS), "stripe_state_at")


def _accounts_for(*, customer_ids: set[str], external_ids: set[str]) -> list[Account]:
    """The accounts a page of Stripe objects names, read without locks: most agree, and only
    those that do not are locked (and read again) before anything is written. Linked
    customer ids find nearly all; the account ids in metadata only the rest."""
    found = list(Account.objects.only(*SCAN_FIELDS).filter(stripe_customer_id__in=customer_ids - {""}))
    known = {a.external_id for a in found}
    missing = external_ids - known - {""}
    if missing:
        found += Account.objects.only(*SCAN_FIELDS).filter(external_id__in=missing)
    return found


def _locked_many(pks: set[int], *, for_exceptions: bool = False) -> list[Account]:
    """Lock and read again, in primary-key order (as every writer does, so none deadlock).
    Opening an exception reads the channel's response target: load it only for that."""
    locked = Account.objects.select_for_update(of=("self",)).filter(pk__in=pks).order_by("pk")
    return list(locked.select_related("channel") if for_exceptions else locked)


@dataclass(frozen=True)
class _Listing:
    """A batch of one Stripe listing and the accounts its objects name, read without locks."""

    batch: Batch
    accounts: list[Account]
    # Each object with the account it names by linked customer or metadata (None: no account).
    matched: list[tuple[dict, Account | None]]


# Settles a listing's batch and returns the marks: [account pk, object id] of each match.
Settle = Callable[[PageStep, _Listing, AccountWrites], list]


def _listing_step(
    run: ReconciliationRun,
    actor,
    reader: PageReader | None,
    *,
    fetch,
    customer_of: Callable[[dict], str],
    object_type: str,
    settle: Settle,
    phase_next: str,
) -> ReconciliationRun:
    """One batch of a Stripe listing: fetch it, match its objects to accounts, settle them,
    and end the page (held-back writes, marks, progress, checkpoint)."""
    step = PageStep(run, actor)
    batch = batch_read(reader, fetch, starting_after=run.checkpoint.get("starting_after"))
    step.retries += batch.retries
    with step:
        accounts = _accounts_for(
            customer_ids={customer_of(o) for o in batch.objects},
            external_ids={stripe_gateway.metadata_account(o) for o in batch.objects},
        )
        by_customer = {a.stripe_customer_id: a for a in accounts if a.stripe_customer_id}
        by_external = {a.external_id: a for a in accounts}
        matched = [
            (o, by_customer.get(customer_of(o)) or by_external.get(stripe_gateway.metadata_account(o)))
            for o in batch.objects
        ]
        writes = AccountWrites()
        marks = settle(step, _Listing(batch=batch, accounts=accounts, matched=matched), writes)
        writes.flush()
        step.mark(object_type, marks)
        step.page_done(
            scanned=len(batch.objects),
            phase_next=phase_next,
            has_more=batch.has_more,
            starting_after=batch.last_id,
        )
    return step.run


def _unmatched(step: PageStep, obj: dict, *, what: str) -> None:
    _, created = drift_open(
        system=ReconciliationTarget.STRIPE,
        kind=DriftKind.UNMATCHED,
        subject=obj["id"],
        account=None,
        ours={"account": None},
        # A subscription names its customer; a customer's own id must not be overwritten by that.
        theirs={"customer": obj.get("customer"), "email": obj.get("email"), what: obj["id"]},
        summary=f"Stripe {what} {obj['id']} matches no account",
        run=step.run,
    )
    step.count_drift(created=created)


# --- customers ----------------------------------------------------------------------------


def _link_customers(step: PageStep, listing: _Listing, writes: AccountWrites) -> list:
    marks, unlinked = [], []
    for customer, account in listing.matched:
        if account is None:
            _unmatched(step, customer, what="customer")
            continue
        marks.append([account.pk, customer["id"]])
        if not account.stripe_customer_id:
            unlinked.append((account.pk, customer["id"]))
    # Locked and read again together; a customer linked meanwhile (by a webhook, or by an
    # earlier customer of this page naming the same account) is left for the close phase.
    locked = {a.pk: a for a in _locked_many({pk for pk, _ in unlinked})}
    for pk, customer_id in unlinked:
        account = locked[pk]
        if not account.stripe_customer_id:
            customer_link(
                account=account,
                customer_id=customer_id,
                by=f"reconciliation run #{step.run.pk}",
                writes=writes,
            )
            step.run.fields_corrected += 1
    return marks


def _step_customers(run: ReconciliationRun, actor, reader: PageReader | None = None) -> ReconciliationRun:
    return _listing_step(
        run,
        actor,
        reader,
        fetch=stripe_gateway.customers_page,
        customer_of=lambda customer: customer["id"],
        object_type="customer",
        settle=_link_customers,
        phase_next="subscriptions",
    )


# --- subscriptions ------------------------------------------------------------------------


def _settle_subscriptions(step: PageStep, listing: _Listing, writes: AccountWrites) -> list:
    with_drift = set(
        BillingDrift.objects.filter(
            system=ReconciliationTarget.STRIPE,
            status=DriftStatus.OPEN,
            subject__in=[a.external_id for a in listing.accounts],
        ).values_list("subject", flat=True)
    )
    marks, disagreeing = [], []
    for subscription, account in listing.matched:
        if account is None:
            if subscription.get("status") in STRIPE_LIVE_SUBSCRIPTION:
                _unmatched(step, subscription, what="subscription")
            continue
        marks.append([account.pk, subscription["id"]])
        if account.external_id in with_drift or not subscription_agrees(account, subscription):
            disagreeing.append((account.pk, subscription))
    # Only the accounts that disagree are locked, read again and settled, all together.
    locked = {a.pk: a for a in _locked_many({pk for pk, _ in disagreeing})}
    open_drift = subscription_drift_lock(list(locked.values()))
    observed_at = listing.batch.fetched_at
    for pk, subscription in disagreeing:
        account = locked[pk]
        if subscription_superseded(account, subscription):
            continue
        if account.stripe_state_at is not None and account.stripe_state_at > observed_at:
            continue  # a webhook applied newer state after this page was fetched
        result = subscription_settle(
            account=account,
            subscription=subscription,
            observed_at=observed_at,
            open_drift=open_drift.get(account.external_id, {}),
            origin=f"reconciliation run #{step.run.pk}",
            run=step.run,
            writes=writes,
        )
        step.tally(result)
    return marks


def _step_subscriptions(run: ReconciliationRun, actor, reader: PageReader | None = None) -> ReconciliationRun:
    return _listing_step(
        run,
        actor,
        reader,
        fetch=stripe_gateway.subscriptions_page,
        customer_of=lambda subscription: subscription.get("customer") or "",
        object_type="subscription",
        settle=_settle_subscriptions,
        phase_next="close",
    )


# --- close --------------------------------------------------------------------------------


def _step_close(run: ReconciliationRun, actor, reader: PageReader | None = None) -> ReconciliationRun:
    step = PageStep(run, actor)
    with step:
        customers_of: dict[int, set[str]] = {}
        with_subscription: set[int] = set()
        for mark in ReconciliationMark.objects.filter(run=step.run):
            for account_id, object_id in mark.pairs:
                if mark.object_type == "subscription":
                    with_subscription.add(account_id)
                else:
                    customers_of.setdefault(account_id, set()).add(object_id)
        live = Account.objects.filter(
            Q(billing_status__in=LIVE_BILLING_STATUSES) | ~Q(stripe_subscription_id="")
        )
        without_subscription = set(live.values_list("pk", flat=True)) - with_subscription
        for account in _locked_many(without_subscription, for_exceptions=True):
            _, created = drift_open(
                system=ReconciliationTarget.STRIPE,
                kind=DriftKind.NO_SUBSCRIPTION,
                subject=account.external_id,
                account=account,
                field="stripe_subscription_id",
                ours={
                    "billing_status": account.billing_status,
                    "stripe_subscription_id": account.stripe_subscription_id,
                },
                theirs={"subscription": None, "customer": account.stripe_customer_id or None},
                summary=f"Billing status {account.billing_status} here, no subscription in Stripe",
                run=step.run,
            )
            step.count_drift(created=created)
        doubled = {pk for pk, customers in customers_of.items() if len(customers) > 1}
        for account in _locked_many(doubled, for_exceptions=True):
            _, created = duplicate_customer_drift_open(
                account=account, customer_ids=customers_of[account.pk], run=step.run
            )
            step.count_drift(created=created)
        step.run.drift_resolved += drift_resolve_unseen(system=ReconciliationTarget.STRIPE, run=step.run)
        step.run.events_cursor = int(step.run.started_at.timestamp())
        step.run.checkpoint = {"phase": DONE}
    return step.run


PHASES = {"customers": _step_customers, "subscriptions": _step_subscriptions, "close": _step_close}
