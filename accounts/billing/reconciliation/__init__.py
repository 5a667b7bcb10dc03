"""Reconciliation of Stripe and the CRM with the accounts: start a run, execute it, say how far
it got. The phases and their pages are this package's own."""

from accounts.billing.reconciliation.runs import (
    describe_progress,
    reconciliation_execute,
    reconciliation_start,
)

__all__ = ["describe_progress", "reconciliation_execute", "reconciliation_start"]
