"""Billing: Stripe webhooks and events, billing drift and its fixes, reconciliation, and the
CRM adapters and pushes. A package of accounts, not an app: its fields stay on Account.

What the rest of accounts and the layers above may use is re-exported here; everything else
is billing's own. (``actions``, ``admin`` and ``tasks`` register themselves: AccountsConfig
imports them in ready(), and the webhook view is wired in opsconsole/urls.py.)
"""

from accounts.billing.reconciliation import describe_progress, reconciliation_execute, reconciliation_start
from accounts.billing.selectors import billing_state
from accounts.billing.signals import payment_failed

__all__ = [
    "billing_state",
    "describe_progress",
    "payment_failed",
    "reconciliation_execute",
    "reconciliation_start",
]
