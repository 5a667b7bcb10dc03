"""The ticket actions as tests run them: the parameters each takes, the state where each applies.

Shared by routing's tests of the actions and the framework's role x action matrix.
"""

from routing.services import ticket_wait

# Every guarded action on a ticket, with parameters it accepts.
TICKET_ACTIONS = {
    "take_ticket": {},
    "mark_first_response": {},
    "wait_on_customer": {},
    "resume_ticket": {},
    "reassign_ticket": {"queue": "triage", "reason": "belongs in triage"},
    "solve_ticket": {"final_category": "billing"},
    "escalate_ticket": {"summary": "look at this"},
}


def ticket_ready_for(name: str, ticket, *, actor):
    """``ticket`` in a state where the ticket action ``name`` applies: a new ticket does for all
    but ``resume_ticket``, which needs it waiting on the customer."""
    if name == "resume_ticket":
        return ticket_wait(ticket=ticket, actor=actor)
    return ticket
