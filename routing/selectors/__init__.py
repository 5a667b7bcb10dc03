"""Routing's reads, one module per topic. Other layers import from here; inside routing, import
from the submodule. A selector never imports a service.

- ``setup``: the compiled active rules, queues, SLA policies and clocks intake routes with
- ``context``: what a ticket or escalation carries about its account
- ``tickets``: tickets and what follows them, as a user may see them
- ``figures``: queue figures, the board, the weekly rule review, backtest rows
"""

from routing.selectors.context import escalation_telemetry, ticket_context
from routing.selectors.figures import queue_board, queue_stats, queues_stats, rule_review
from routing.selectors.setup import active_rule_set, compiled_rules, routing_setup, sla_policy_for
from routing.selectors.tickets import (
    account_escalations,
    account_tickets,
    least_loaded_member,
    ticket_decisions,
    tickets_past_due,
)

__all__ = [
    "account_escalations",
    "account_tickets",
    "active_rule_set",
    "compiled_rules",
    "escalation_telemetry",
    "least_loaded_member",
    "queue_board",
    "queue_stats",
    "queues_stats",
    "routing_setup",
    "rule_review",
    "sla_policy_for",
    "ticket_context",
    "ticket_decisions",
    "tickets_past_due",
]
