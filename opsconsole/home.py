"""The console's home page: "my work" for the person signed in, and the global search.

The framework names no domain, so the apps say what belongs here from their ``ready()``:

- ``register_work(source)``: ``source(user, now)`` returns the person's open work items
  (tickets, exceptions) as :class:`WorkItem`, from a selector that starts from ``restrict()``;
- ``register_search(searcher)``: ``searcher(user, query)`` returns :class:`SearchHit` rows for
  what that user may see (an account by external id, email, domain or Stripe id; a ticket by
  its id, requester or request id; ...);
- panels on :data:`HOME_PAGE` (``opsconsole.panels``): the queue figures, a lead's breaches.

The registries are filled at start-up and read-only afterwards, the same in every process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

HOME_PAGE = "opsconsole.home"
# Work items and search hits a page shows at most (per source for search).
MY_WORK_LIMIT = 100
SEARCH_LIMIT = 20
# Shorter queries would match half the company.
SEARCH_MIN_LENGTH = 3


@dataclass(frozen=True)
class WorkItem:
    kind: str  # what it is, as people say it: "Ticket", "Exception"
    label: str  # its handle: "zendesk:4711", "#12 invite_expired"
    title: str  # what it is about
    url: str
    due_at: datetime | None  # the next target it must meet; None when nothing is due
    status: str
    account: str = ""

    def overdue(self, now: datetime) -> bool:
        return self.due_at is not None and self.due_at <= now


@dataclass(frozen=True)
class SearchHit:
    kind: str
    label: str
    detail: str
    url: str
    matched: str  # which field matched: "email", "Stripe id", ...


WorkSource = Callable[..., Iterable[WorkItem]]
Searcher = Callable[..., Iterable[SearchHit]]
_WORK_SOURCES: list[WorkSource] = []
_SEARCHERS: list[Searcher] = []


def register_work(source: WorkSource) -> WorkSource:
    if source not in _WORK_SOURCES:
        _WORK_SOURCES.append(source)
    return source


def register_search(searcher: Searcher) -> Searcher:
    if searcher not in _SEARCHERS:
        _SEARCHERS.append(searcher)
    return searcher


def work_order(item: WorkItem) -> tuple:
    """Overdue first (the longest overdue at the top), then by due time; nothing due last."""
    return (item.due_at is None, item.due_at or datetime.max, item.kind, item.label)


def my_work(user, *, now: datetime) -> list[WorkItem]:
    """Every registered source's open items for ``user``, in one list in work order."""
    items = [item for source in _WORK_SOURCES for item in source(user, now=now)]
    return sorted(items, key=work_order)[:MY_WORK_LIMIT]


def search(user, query: str) -> list[SearchHit]:
    """What ``user`` may see that matches ``query`` exactly (an id) or by email or domain."""
    query = query.strip()
    # "#12" names a record by number, however short; any other query needs a few characters.
    numbered = query.startswith("#") and query[1:].isascii() and query[1:].isdigit()
    if len(query) < SEARCH_MIN_LENGTH and not numbered:
        return []
    return [hit for searcher in _SEARCHERS for hit in list(searcher(user, query))[:SEARCH_LIMIT]]
