"""Routing's pure rules: functions of values that both reads and writes need, with no queries.

Which SLA policy applies, when each target of a ticket falls due, which targets are past due,
and the percentile the queue figures use. Services and selectors import these; nothing here
imports either of them.
"""

from datetime import datetime, timedelta

from routing.choices import SlaTarget
from routing.sla import CalendarSpec, add_business_time, parse_pauses

# Each target's due-time field and the field that records it met.
SLA_FIELDS = {
    SlaTarget.OWNER: ("owner_due_at", "owner_assigned_at"),
    SlaTarget.FIRST_RESPONSE: ("first_response_due_at", "first_response_at"),
    SlaTarget.RESOLUTION: ("resolution_due_at", "solved_at"),
}


def choose_policy(
    policies, *, severity: str, shape: str | None, channel_code: str | None, via: str | None = None
):
    """The most specific policy for a severity: one for the channel, else the way the ticket
    came (chat, email, ...), else the shape, else general."""
    best, best_score = None, -1
    for policy in policies:
        if policy.severity != severity:
            continue
        if policy.channel_id and (policy.channel.code != channel_code):
            continue
        if policy.via and policy.via != via:
            continue
        if policy.shape and policy.shape != shape:
            continue
        score = (4 if policy.channel_id else 0) + (2 if policy.via else 0) + (1 if policy.shape else 0)
        if score > best_score:
            best, best_score = policy, score
    return best


def due_times(ticket, policy, clock: CalendarSpec | None) -> dict[str, datetime | None]:
    """The due time of each unmet target, counted from the ticket's creation on ``clock`` and
    skipping the time it waited. An open pause leaves them None (the clock is stopped), and so
    does having no policy. Met targets are left out: their due time stays as it was."""
    pauses = parse_pauses(ticket.pauses)
    due = {}
    for target, (due_field, met_field) in SLA_FIELDS.items():
        if getattr(ticket, met_field) is not None:
            continue
        due[due_field] = None
        if policy is not None:
            minutes = timedelta(minutes=policy.minutes_for(target))
            due[due_field] = add_business_time(clock, ticket.created_at, minutes, pauses)
    return due


def unmet_due_times(ticket) -> list[datetime]:
    """The due times of the targets a ticket has not met yet."""
    return [
        getattr(ticket, due_field)
        for due_field, met_field in SLA_FIELDS.values()
        if getattr(ticket, due_field) is not None and getattr(ticket, met_field) is None
    ]


def past_target(ticket, now: datetime) -> bool:
    """Whether any unmet SLA target of an open ticket is already due."""
    return any(due <= now for due in unmet_due_times(ticket))


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks, as PostgreSQL's percentile_cont."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)
