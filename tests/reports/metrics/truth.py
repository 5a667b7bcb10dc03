"""METRICS.md computed in plain Python from the raw rows, independently of reports' code (its
facts, its SQL and its percentile): the truth the reports are checked against.

Only what the contract says: cohorts, windows, maturity, the numerators and denominators, the
rounding (rates to 4 places, others to 2) and linear-interpolation percentiles.
"""

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from accounts.models import Account, AccountEvent, Channel, OpsException
from accounts.shapes import SHAPES
from opsconsole.actions.registry import get_action
from opsconsole.models import ActionRun, ServiceToken
from routing.models import Escalation, RoutingDecision, Ticket

H, D = timedelta(hours=1), timedelta(days=1)
FAILURES = {"workspace.failed", "invite.expired", "integration.failed", "import.failed"}
RETURNS = {"user.login", "report.viewed", "first_value.reached"}
WINDOWS = {
    "signups": timedelta(0),
    "activation_24h": 24 * H,
    "provisioning_failure_rate": 72 * H,
    "tickets_per_100": 7 * D,
    "escalations_per_100": 30 * D,
    "retention_30d": 30 * D,
    "manual_minutes_per_account": 30 * D,
}
KINDS = {
    "activation_24h": "rate",
    "activation": "rate",
    "provisioning_failure_rate": "rate",
    "retention_30d": "rate",
    "tickets_per_100": "per_100",
    "escalations_per_100": "per_100",
    "manual_minutes_per_account": "per_account",
}


def midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def pct(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks."""
    if not values:
        return None
    values = sorted(values)
    rank = q * (len(values) - 1)
    below = int(rank)
    above = min(below + 1, len(values) - 1)
    return values[below] * (1 - (rank - below)) + values[above] * (rank - below)


def person(user) -> bool:
    name = user.username
    return not (name.startswith(("system:", "service:")) or ServiceToken.objects.filter(user=user).exists())


def standing_resolution(exception):
    """The history record of the resolution that stands: the latest move into the resolved
    state. A resolution a reversal undid (the exception reopened, then resolved again by
    someone else) is not who resolved it."""
    standing, previous = None, None
    for record in exception.history.order_by("history_date"):
        if record.status == "resolved" and (previous is None or previous.status != "resolved"):
            standing = record
        previous = record
    return standing


def activated_at(account, events) -> datetime | None:
    """The latest of the first occurrences of the shape's required types within its window."""
    definition = SHAPES[account.shape].activation
    deadline = account.signed_up_at + definition.window
    firsts = []
    for kind in definition.required_event_types:
        times = [at for t, at in events if t == kind and at <= deadline]
        if not times:
            return None
        firsts.append(min(times))
    return max(firsts)


class Truth:
    """Everything each account contributes, read once from the raw tables."""

    def __init__(self):
        self.accounts = list(Account.objects.all())
        events = defaultdict(list)
        for account_id, kind, at in AccountEvent.objects.values_list("account_id", "type", "occurred_at"):
            events[account_id].append((kind, at))
        self.events = events
        self.activated = {a.pk: activated_at(a, events[a.pk]) for a in self.accounts}
        self.tickets = defaultdict(list)
        for ticket in Ticket.objects.exclude(account=None):
            self.tickets[ticket.account_id].append(ticket.created_at)
        self.escalations = defaultdict(list)
        for esc in Escalation.objects.filter(kind="engineering"):
            self.escalations[esc.account_id].append(esc.created_at)
        self.minutes = defaultdict(list)
        for run in ActionRun.objects.exclude(account=None).select_related("actor"):
            if run.status in ("succeeded", "failed", "reversed") and person(run.actor):
                self.minutes[run.account_id].append((run.created_at, get_action(run.action).handling_minutes))
        for exception in OpsException.objects.filter(status="resolved").select_related("reason_code"):
            record = standing_resolution(exception)
            if record.history_user is not None and person(record.history_user):
                at = exception.resolved_at
                self.minutes[exception.account_id].append(
                    (at, exception.reason_code.estimated_handling_minutes)
                )

    def contribution(self, code: str, a) -> int | bool:
        su, events = a.signed_up_at, self.events[a.pk]
        if code == "activation_24h":
            return self.activated[a.pk] is not None and self.activated[a.pk] <= su + 24 * H
        if code == "activation":
            return self.activated[a.pk] is not None
        if code == "provisioning_failure_rate":
            return any(t in FAILURES and at <= su + 72 * H for t, at in events)
        if code == "retention_30d":
            return any(t in RETURNS and su + 23 * D <= at <= su + 30 * D for t, at in events)
        if code == "tickets_per_100":
            return sum(1 for at in self.tickets[a.pk] if at <= su + 7 * D)
        if code == "escalations_per_100":
            return sum(1 for at in self.escalations[a.pk] if at <= su + 30 * D)
        if code == "manual_minutes_per_account":
            return sum(m for at, m in self.minutes[a.pk] if at <= su + 30 * D)
        raise KeyError(code)

    def window(self, code: str, a) -> timedelta:
        return SHAPES[a.shape].activation.window if code == "activation" else WINDOWS[code]

    def cohort(self, *, since, until, shape=None, plan=None) -> list[Account]:
        return [
            a
            for a in self.accounts
            if midnight(since) <= a.signed_up_at < midnight(until)
            and a.duplicate_of_id is None
            and (shape is None or a.shape == shape)
            and (plan is None or a.plan == plan)
        ]

    def metric(self, code: str, accounts: list[Account], now: datetime) -> dict:
        """The value of one account metric over ``accounts``, as the API gives it."""
        if code == "time_to_first_value_h":
            hours = [(self.activated[a.pk] - a.signed_up_at) / H for a in accounts if self.activated[a.pk]]
            p50, p90 = pct(hours, 0.5), pct(hours, 0.9)
            return {"p50": p50, "p90": p90, "n": len(hours), "version": 1}
        mature = [a for a in accounts if a.signed_up_at + self.window(code, a) <= now]
        pending = len(accounts) - len(mature)
        if code == "signups":
            n = len(mature)
            return _value(n, n, None, pending)
        num = sum(int(self.contribution(code, a)) for a in mature)
        den = len(mature)
        if not den:
            value = None
        elif KINDS[code] == "rate":
            value = round(num / den, 4)
        elif KINDS[code] == "per_100":
            value = round(100 * num / den, 2)
        else:
            value = round(num / den, 2)
        return _value(value, num, den, pending)

    def by_channel(self, code: str, accounts: list[Account], now: datetime) -> dict[str, dict]:
        channels = {c.pk: c.code for c in Channel.objects.all()}
        groups = {c: [] for c in channels.values()}
        for a in accounts:
            groups[channels[a.channel_id]].append(a)
        return {c: self.metric(code, members, now) for c, members in groups.items()}


def _value(value, numerator, denominator, pending) -> dict:
    return {
        "value": value,
        "numerator": numerator,
        "denominator": denominator,
        "complete": pending == 0,
        "pending": pending,
        "version": 1,
    }


def auto_owner(tickets) -> dict:
    """The share of tickets whose first owner came from a rule at intake."""
    auto = 0
    for ticket in tickets:
        decisions = sorted(RoutingDecision.objects.filter(ticket=ticket), key=lambda d: d.pk)
        for decision in decisions:
            if decision.kind == "manual":
                break
            if decision.owner_id is not None:
                auto += 1
                break
    n = len(tickets)
    return _value(round(auto / n, 4) if n else None, auto, n, 0)
