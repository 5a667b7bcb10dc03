"""Candidate clusters on the triage page: tickets of the last N days not yet linked to a known
issue, grouped first by feature area and error code, then by subject similarity.

- Tickets sharing an error code are one candidate (with their feature area): the product named
  the failure, which is stronger evidence than any wording.
- Tickets without an error code are split within their feature area by subject similarity:
  PostgreSQL's ``pg_trgm`` (``similarity()``) on PostgreSQL, and the same trigram rule in
  Python elsewhere (the embedded SQLite of ``make run``). A ticket joins the first cluster
  whose seed (its oldest ticket) it resembles at least ``SIMILARITY``.

A read: nothing here writes.
"""

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection
from django.utils import timezone

from routing.models import Ticket

SIMILARITY = 0.3
MIN_SIZE = 2
EXAMPLES = 3


@dataclass
class Cluster:
    feature_area: str
    error_code: str
    tickets: list = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.feature_area or '-'}/{self.error_code or '-'}/{self.tickets[0].pk}"

    @property
    def size(self) -> int:
        return len(self.tickets)

    @property
    def ticket_ids(self) -> list[int]:
        return [t.pk for t in self.tickets]

    @property
    def channels(self) -> dict[str, int]:
        return dict(Counter(t.via or "unknown" for t in self.tickets).most_common())

    @property
    def types(self) -> dict[str, int]:
        return dict(Counter(t.final_type or t.ticket_type or "untyped" for t in self.tickets).most_common())

    @property
    def examples(self) -> list:
        return self.tickets[:EXAMPLES]

    @property
    def title(self) -> str:
        """A suggested known-issue title: the most common subject."""
        return Counter(t.subject for t in self.tickets).most_common(1)[0][0]

    @property
    def strategy_signal(self) -> bool:
        return self.types and next(iter(self.types)) == "strategy_signal"


def _trigrams(text: str) -> set[str]:
    """pg_trgm's trigrams: lower-case words of letters and digits, each padded with two spaces
    before and one after."""
    grams = set()
    for word in re.findall(r"[0-9a-z]+", text.lower()):
        padded = f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def trigram_similarity(a: str, b: str) -> float:
    """pg_trgm's ``similarity(a, b)``: shared trigrams over all trigrams of the two."""
    ta, tb = _trigrams(a), _trigrams(b)
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / len(ta | tb)


def _similar_to(seed: Ticket, others: list[Ticket]) -> set[int]:
    if connection.vendor == "postgresql":
        ids = [t.pk for t in others]
        return set(
            Ticket.objects.filter(pk__in=ids)
            .annotate(sim=TrigramSimilarity("subject", seed.subject))
            .filter(sim__gte=SIMILARITY)
            .values_list("pk", flat=True)
        )
    return {t.pk for t in others if trigram_similarity(seed.subject, t.subject) >= SIMILARITY}


def _by_subject(feature_area: str, tickets: list[Ticket]) -> list[Cluster]:
    clusters, left = [], list(tickets)
    while left:
        seed, rest = left[0], left[1:]
        joined = _similar_to(seed, rest) if rest else set()
        clusters.append(Cluster(feature_area, "", [seed, *(t for t in rest if t.pk in joined)]))
        left = [t for t in rest if t.pk not in joined]
    return clusters


def unlinked_tickets(user, *, days: int, now: datetime | None = None):
    now = now or timezone.now()
    return (
        Ticket.objects.restrict(user, "view")
        .filter(
            created_at__gte=now - timedelta(days=days), created_at__lte=now, known_issue_links__isnull=True
        )
        .order_by("created_at", "pk")
    )


def ticket_clusters(
    user, *, days: int = 14, now: datetime | None = None, min_size: int = MIN_SIZE
) -> list[Cluster]:
    """Candidate clusters of at least ``min_size`` tickets, largest first."""
    groups: dict[tuple[str, str], list[Ticket]] = {}
    for ticket in unlinked_tickets(user, days=days, now=now):
        groups.setdefault((ticket.feature_area, ticket.error_code), []).append(ticket)
    clusters = []
    by_area: dict[str, list[Ticket]] = {}
    for (area, code), tickets in groups.items():
        if code:
            clusters.append(Cluster(area, code, tickets))
        else:
            by_area.setdefault(area, []).extend(tickets)
    for area, tickets in by_area.items():
        clusters.extend(_by_subject(area, sorted(tickets, key=lambda t: (t.created_at, t.pk))))
    found = [c for c in clusters if c.size >= min_size]
    return sorted(found, key=lambda c: (-c.size, c.tickets[0].created_at, c.tickets[0].pk))
