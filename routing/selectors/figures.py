"""Figures for the console: open-ticket ages and targets per queue, a queue's board, the
weekly rule review and a backtest's rows."""

import statistics
from collections import defaultdict
from datetime import datetime, timedelta

from django.utils import timezone

from routing.choices import OPEN_TICKET_STATUSES, DecisionKind
from routing.models import Backtest, Queue, RoutingDecision, Ticket
from routing.rules import past_target, percentile

AGE_BUCKETS_HOURS = (1, 4, 8, 24, 72, 168)
# The board lists the oldest open tickets of a queue, this many at most.
BOARD_TICKETS = 50

_STATS_FIELDS = (
    "queue_id",
    "created_at",
    "owner_due_at",
    "owner_assigned_at",
    "first_response_due_at",
    "first_response_at",
    "resolution_due_at",
    "solved_at",
    "status",
)


def queue_stats(queue: Queue, *, now: datetime | None = None) -> dict:
    """Open tickets in a queue: count, age p50/p90/p99 in hours, past-target count, histogram."""
    return queues_stats([queue], now=now)[queue.pk]


def queues_stats(queues, *, now: datetime | None = None) -> dict[int, dict]:
    """``queue_stats`` for several queues, from one query over their open tickets."""
    now = now or timezone.now()
    queues = list(queues)
    open_by_queue: dict[int, list[Ticket]] = {queue.pk: [] for queue in queues}
    open_tickets = Ticket.objects.filter(queue__in=queues, status__in=OPEN_TICKET_STATUSES)
    for ticket in open_tickets.only(*_STATS_FIELDS):
        open_by_queue[ticket.queue_id].append(ticket)
    return {queue.pk: _figures(queue, open_by_queue[queue.pk], now) for queue in queues}


def _figures(queue: Queue, tickets: list[Ticket], now: datetime) -> dict:
    ages = sorted((now - t.created_at).total_seconds() / 3600 for t in tickets)
    edges = (0,) + AGE_BUCKETS_HOURS
    histogram = []
    for i, low in enumerate(edges):
        high = edges[i + 1] if i + 1 < len(edges) else None
        count = sum(1 for a in ages if a >= low and (high is None or a < high))
        label = f"{low}-{high} h" if high is not None else f"{low} h+"
        histogram.append({"label": label, "count": count})
    return {
        "queue": queue,
        "open": len(tickets),
        "p50_hours": percentile(ages, 0.50),
        "p90_hours": percentile(ages, 0.90),
        "p99_hours": percentile(ages, 0.99),
        "past_target": sum(1 for t in tickets if past_target(t, now)),
        "histogram": histogram,
        "histogram_max": max((b["count"] for b in histogram), default=0),
    }


def queue_board(queue: Queue, *, user, now: datetime | None = None) -> dict:
    """A queue's board: its figures and its oldest open tickets that ``user`` may see, each with
    its age in hours and whether a target is past due."""
    now = now or timezone.now()
    tickets = (
        Ticket.objects.restrict(user, "view")
        .filter(queue=queue, status__in=OPEN_TICKET_STATUSES)
        .select_related("owner")
        .order_by("created_at")[:BOARD_TICKETS]
    )
    return {
        "stats": queue_stats(queue, now=now),
        "rows": [
            {
                "ticket": t,
                "age_hours": (now - t.created_at).total_seconds() / 3600,
                "past": past_target(t, now),
            }
            for t in tickets
        ],
    }


HIGH_REASSIGNMENT_SHARE = 0.20
# Below this many tickets a week, a reassignment share is noise, not a signal.
HIGH_REASSIGNMENT_MIN_TICKETS = 5


def rule_review(*, weeks: int = 8, now: datetime | None = None) -> list[dict]:
    """Per rule and ISO week: tickets routed, share reassigned, share whose final category
    differed from the routed one, type accuracy (of the solved tickets the rule typed, the share
    whose type the agent confirmed), median minutes to owner; flags high reassignment."""
    now = now or timezone.now()
    since = now - timedelta(weeks=weeks)
    rows = (
        RoutingDecision.objects.filter(kind=DecisionKind.RULE, decided_at__gte=since)
        .values_list(
            "rule_key",
            "rule__name",
            "decided_at",
            "category",
            "ticket__reassignment_count",
            "ticket__final_category",
            "ticket__created_at",
            "ticket__owner_assigned_at",
            "ticket_type",
            "ticket__final_type",
        )
        .order_by()
    )
    groups: dict[tuple[str, str], dict] = defaultdict(
        lambda: {
            "routed": 0,
            "reassigned": 0,
            "solved": 0,
            "differed": 0,
            "typed": 0,
            "type_kept": 0,
            "to_owner": [],
            "name": "",
        }
    )
    for row in rows.iterator():
        (
            key,
            name,
            decided_at,
            category,
            reassigned,
            final_category,
            created_at,
            owner_at,
            typed,
            final_type,
        ) = row
        year, week, _ = decided_at.isocalendar()
        group = groups[(key, f"{year}-W{week:02d}")]
        group["name"] = name or key
        group["routed"] += 1
        group["reassigned"] += 1 if reassigned else 0
        if final_category:
            group["solved"] += 1
            group["differed"] += 1 if final_category != category else 0
        if typed and final_type:
            group["typed"] += 1
            group["type_kept"] += 1 if final_type == typed else 0
        if owner_at is not None:
            group["to_owner"].append((owner_at - created_at).total_seconds() / 60)
    report = []
    for (key, week), g in sorted(groups.items(), key=lambda item: (item[0][1], item[0][0]), reverse=True):
        share_reassigned = g["reassigned"] / g["routed"]
        report.append(
            {
                "rule_key": key,
                "rule_name": g["name"],
                "week": week,
                "routed": g["routed"],
                "share_reassigned": share_reassigned,
                "share_category_differed": (g["differed"] / g["solved"]) if g["solved"] else None,
                "type_accuracy": (g["type_kept"] / g["typed"]) if g["typed"] else None,
                "median_minutes_to_owner": statistics.median(g["to_owner"]) if g["to_owner"] else None,
                "high_reassignment": g["routed"] >= HIGH_REASSIGNMENT_MIN_TICKETS
                and share_reassigned > HIGH_REASSIGNMENT_SHARE,
            }
        )
    return report


# A rule set's page lists its newest backtests, this many.
RULE_SET_BACKTESTS = 5


def rule_set_backtests(rule_set) -> list[Backtest]:
    """A rule set's newest backtests."""
    return list(rule_set.backtests.order_by("-created_at")[:RULE_SET_BACKTESTS])


def backtest_rows(backtest: Backtest) -> list[tuple[str, dict]]:
    """A backtest's per-rule results, the rules that change the most tickets first."""
    return sorted(backtest.per_rule.items(), key=lambda item: -item[1]["changed"])
