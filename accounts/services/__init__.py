"""Writes for accounts, one module per sub-domain. Every write is ``<noun>_<verb>(*, ..., actor)``
and runs in one transaction (``@service``); the ``*_locked`` helpers run inside a caller's.

- ``accounts``: a signup, its review and approval, plan changes, duplicates
- ``events``: the account timeline (product, Stripe and ops events, once each)
- ``provisioning``: what recorded events do to steps, exceptions, lifecycle and activation
- ``exceptions``: open, work and resolve the exceptions that need a person
- ``catalogue``: channels and reason codes, as staff edit them

This module is the public face for other layers (billing, routing, opsconsole, bench, tests);
modules inside accounts import from the submodule.
"""

from accounts.services.accounts import (
    account_approve,
    account_create,
    account_mark_duplicate,
    account_plan_change,
)
from accounts.services.catalogue import (
    CHANNEL_EDITABLE_FIELDS,
    REASON_CODE_EDITABLE_FIELDS,
    channel_create,
    channel_update,
    reason_code_update,
)
from accounts.services.events import (
    SYSTEM_EVENT_ID_PREFIX,
    EventInput,
    EventIntakeResult,
    account_event_note,
    account_events_record,
    account_events_record_batch,
    insert_timeline_rows,
)
from accounts.services.exceptions import (
    exception_open,
    exception_open_locked,
    exception_reassign,
    exception_resolve,
    exception_resolve_locked,
    exception_set_status,
)

__all__ = [
    "CHANNEL_EDITABLE_FIELDS",
    "REASON_CODE_EDITABLE_FIELDS",
    "SYSTEM_EVENT_ID_PREFIX",
    "EventInput",
    "EventIntakeResult",
    "account_approve",
    "account_create",
    "account_event_note",
    "account_events_record",
    "account_events_record_batch",
    "account_mark_duplicate",
    "account_plan_change",
    "channel_create",
    "channel_update",
    "exception_open",
    "exception_open_locked",
    "exception_reassign",
    "exception_resolve",
    "exception_resolve_locked",
    "exception_set_status",
    "insert_timeline_rows",
    "reason_code_update",
]
