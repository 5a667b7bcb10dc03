"""News routing sends upward. Higher layers (reports keeps its per-account facts from these)
subscribe in their ``AppConfig.ready()``; routing names no receiver.

Each is sent inside the writing service's transaction, after the row is written.
"""

from django.dispatch import Signal

# A ticket was taken in: ``ticket`` (its ``account`` is the matched account, or None). A
# service that later changes a ticket's account must announce it too, so facts follow.
ticket_created = Signal()

# A problem was handed on: ``escalation`` (its ``kind`` says ops or engineering).
escalation_created = Signal()
