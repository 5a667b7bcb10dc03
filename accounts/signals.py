"""News accounts sends upward. Higher layers (reports keeps its per-account facts from these)
subscribe in their ``AppConfig.ready()``; accounts names no receiver.

Each is sent inside the writing service's transaction, after the row it announces is written,
so a receiver's writes commit or roll back with it.
"""

from django.dispatch import Signal

# A signup was stored: ``account``. Sent before anything else is written about the account.
account_created = Signal()

# New rows reached an account's timeline: ``account`` and ``events`` (the AccountEvent rows
# just inserted, duplicates left out). Sent once per account per insert, whatever wrote them.
account_events_recorded = Signal()

# An exception was resolved: ``exception`` (with ``resolved_at`` and ``resolved_by`` set) and
# ``actor``, who resolved it (a person, a service user or a system user).
exception_resolved = Signal()
