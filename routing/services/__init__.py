"""Routing's writes, one module per sub-domain. Other layers import from here; inside routing,
import from the submodule.

- ``intake``: ``ticket_intake``
- ``tickets``: working a ticket (reassign, respond, wait, resume, policy, solve)
- ``sla``: due times, pauses, breaches
- ``queues``: who works a queue
- ``rule_sets``: drafts, rules, activation
- ``backtests``: replaying tickets through a draft
- ``escalations``: handing a problem on to ops or engineering
"""

from routing.services.backtests import BACKTEST_DAYS, backtest_execute, backtest_request
from routing.services.escalations import escalation_create, ticket_escalate
from routing.services.intake import INTAKE_LIMITS, MAX_BODY_CHARS, ticket_intake
from routing.services.queues import queue_access_grant, queue_access_revoke
from routing.services.rule_sets import (
    RULE_FIELDS,
    rule_delete,
    rule_save,
    rule_set_activate,
    rule_set_draft_create,
)
from routing.services.sla import sla_breach_record
from routing.services.tickets import (
    ticket_policy_set,
    ticket_reassign,
    ticket_respond,
    ticket_resume,
    ticket_solve,
    ticket_wait,
)

__all__ = [
    "BACKTEST_DAYS",
    "INTAKE_LIMITS",
    "MAX_BODY_CHARS",
    "RULE_FIELDS",
    "backtest_execute",
    "backtest_request",
    "escalation_create",
    "queue_access_grant",
    "queue_access_revoke",
    "rule_delete",
    "rule_save",
    "rule_set_activate",
    "rule_set_draft_create",
    "sla_breach_record",
    "ticket_escalate",
    "ticket_intake",
    "ticket_policy_set",
    "ticket_reassign",
    "ticket_respond",
    "ticket_resume",
    "ticket_solve",
    "ticket_wait",
]
