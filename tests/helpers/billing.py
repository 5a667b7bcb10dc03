"""Billing helpers other tests share: a reconciliation run to completion, the open drift it
left, and a CRM adapter that is not HubSpot."""

import dataclasses

from django.utils import timezone

from accounts.billing import crm
from accounts.billing.reconciliation import reconciliation_execute, reconciliation_start
from accounts.choices import DriftStatus
from accounts.models import BillingDrift, StripeEvent
from opsconsole.history import SYSTEM_RECONCILER, system_user

STATIC_ADAPTER = "tests.helpers.billing.StaticAdapter"


def reconcile(mode="full", target="stripe"):
    """A run started and executed to its end, as the scheduled task does."""
    run, _ = reconciliation_start(target=target, mode=mode, actor=system_user(SYSTEM_RECONCILER))
    return reconciliation_execute(run)


def reconcile_crm():
    return reconcile(mode=None, target="crm")


def open_drift(kind=None):
    drift = BillingDrift.objects.filter(status=DriftStatus.OPEN)
    return drift.filter(kind=kind) if kind else drift


class StaticAdapter:
    """What a Salesforce adapter needs to provide: nothing in the reconciler or the actions
    changes. Its companies live on the class, as a CRM outlives one adapter instance."""

    name = "static"
    configured = True
    companies: dict[str, crm.CrmCompany] = {}

    def companies_page(self, *, cursor):
        return crm.CrmPage(companies=list(self.companies.values()), next_cursor=None)

    def expected_lifecycle_stage(self, stage):
        return stage

    def expected_plan(self, plan):
        return plan

    def company_properties(self, *, field, account):
        return {field: crm.expected_values(self, account)[field]}

    def update_company(self, *, record_id, properties):
        names = {"owner": "owner_email"}
        changes = {names.get(k, k): v for k, v in properties.items()}
        self.companies[record_id] = dataclasses.replace(self.companies[record_id], **changes)


def stored_stripe_event(stripe_id, type_, obj, status="failed"):
    """A Stripe event as the webhook stores it, here already ``status`` (failed by default)."""
    return StripeEvent.objects.create(
        stripe_id=stripe_id,
        type=type_,
        created=timezone.now(),
        object_id=obj["id"],
        payload={"id": stripe_id, "type": type_, "data": {"object": obj}},
        via="webhook",
        status=status,
    )
