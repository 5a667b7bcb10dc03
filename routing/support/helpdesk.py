"""The help desk behind a small adapter interface, as ``accounts/billing/crm.py`` does for the
CRM; Zendesk is the first implementation.

Routing tells the help desk where a ticket went (group or queue, assignee, priority from the
severity, tags from category and type) and, when a known issue closes, replies publicly to the
requester. Both travel through the outbox (destination ``helpdesk``): the payload says what to
say in our vocabulary, and the adapter configured when it is delivered translates it. An
Intercom or HubSpot adapter is another class with the same methods, chosen by
``HELPDESK_ADAPTER``.
"""

import base64
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from opsconsole.outbox import Attempt
from routing.models import Ticket

# The outbox destination, registered from routing/apps.py.
OUTBOX_DESTINATION = "helpdesk"
TIMEOUT_SECONDS = 10


class HelpdeskUnavailable(Exception):
    """The help desk could not be reached or refused the request."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class RoutingNews:
    """Where routing sent a ticket, in our vocabulary."""

    queue: str
    group: str  # the queue's help-desk group id, or ""
    tier: int
    assignee_email: str
    severity: str
    category: str
    ticket_type: str

    @classmethod
    def from_payload(cls, payload: dict) -> "RoutingNews":
        return cls(**{name: payload.get(name) or "" for name in cls.__dataclass_fields__})


class HelpdeskAdapter(Protocol):
    name: str
    # False when the help desk has no credentials here: messages are logged, not sent.
    configured: bool

    def route_ticket(self, *, external_id: str, news: RoutingNews) -> None:
        """Set the ticket's group, assignee, priority and tags. Raises ``HelpdeskUnavailable``."""

    def public_reply(self, *, external_id: str, body: str) -> None:
        """Add a public reply the requester receives. Raises ``HelpdeskUnavailable``."""


def helpdesk_adapter() -> HelpdeskAdapter:
    return import_string(settings.HELPDESK_ADAPTER)()


def helpdesk_outbox_sender():
    """How this process delivers a help-desk message: through the configured adapter, or None
    when the help desk has no credentials here."""
    adapter = helpdesk_adapter()
    return partial(_deliver, adapter) if adapter.configured else None


def _deliver(adapter: HelpdeskAdapter, message) -> Attempt:
    payload = message.payload
    if payload.get("helpdesk") != adapter.name:
        return Attempt(
            ok=False,
            error=f"queued for the {payload.get('helpdesk')} help desk; HELPDESK_ADAPTER is {adapter.name}",
            retry=False,
        )
    try:
        if message.command == "helpdesk.route":
            # The newest decision wins: the ticket as it stands now, not as it was queued.
            news = current_routing(payload.get("ticket_id")) or payload
            adapter.route_ticket(external_id=payload["external_id"], news=RoutingNews.from_payload(news))
        elif message.command == "helpdesk.reply":
            adapter.public_reply(external_id=payload["external_id"], body=payload["body"])
        else:
            return Attempt(ok=False, error=f"unknown help-desk command {message.command}", retry=False)
    except HelpdeskUnavailable as exc:
        return Attempt.failed(status=exc.status, error=str(exc)[:2000])
    return Attempt(ok=True)


def current_routing(ticket_id) -> dict | None:
    ticket = Ticket.objects.select_related("queue", "owner").filter(pk=ticket_id).first()
    if ticket is None:
        return None
    return {
        "queue": ticket.queue.code,
        "group": ticket.queue.helpdesk_group,
        "tier": ticket.queue.tier,
        "assignee_email": ticket.owner.email if ticket.owner_id else "",
        "severity": ticket.severity,
        "category": ticket.category,
        "ticket_type": ticket.final_type or ticket.ticket_type,
    }


class ZendeskAdapter:
    """Zendesk Support API v2: ``PUT /api/v2/tickets/{id}.json`` with an API token.

    429 waits the ``Retry-After`` it is told (up to ``MAX_RETRY_AFTER``; longer goes back to the
    outbox, which retries later), 5xx and transport errors back off exponentially, both up to
    ``tries`` attempts. Setting the same fields twice changes nothing there; a reply is sent
    once because the outbox message is claimed before each attempt.
    """

    name = "zendesk"
    PRIORITY = {"sev1": "urgent", "sev2": "high", "sev3": "normal", "sev4": "low"}
    MAX_RETRY_AFTER = 30

    def __init__(self, *, base_url=None, email=None, token=None, tries=4, backoff=0.5, sleep=time.sleep):
        self.base_url = (base_url or settings.ZENDESK_API_BASE).rstrip("/")
        self.email = email or settings.ZENDESK_EMAIL
        self.token = token or settings.ZENDESK_API_TOKEN
        self.configured = bool(self.base_url and self.token)
        self.tries = tries
        self.backoff = backoff
        self.sleep = sleep

    def ticket_changes(self, news: RoutingNews) -> dict:
        """Our routing decision in Zendesk's ticket fields."""
        tags = [f"queue_{news.queue}", f"tier_{news.tier}", f"category_{news.category}"]
        if news.ticket_type:
            tags.append(f"type_{news.ticket_type}")
        changes: dict = {"priority": self.PRIORITY.get(news.severity, "normal"), "tags": tags}
        if news.group.isdigit():
            changes["group_id"] = int(news.group)
        if news.assignee_email:
            changes["assignee_email"] = news.assignee_email
        return changes

    def route_ticket(self, *, external_id: str, news: RoutingNews) -> None:
        self._put(external_id, {"ticket": self.ticket_changes(news)})

    def public_reply(self, *, external_id: str, body: str) -> None:
        self._put(external_id, {"ticket": {"comment": {"body": body, "public": True}}})

    def _put(self, external_id: str, body: dict) -> dict:
        if not str(external_id).isdigit():
            raise HelpdeskUnavailable(f"Zendesk ticket ids are numbers, not {external_id!r}", status=400)
        auth = base64.b64encode(f"{self.email}/token:{self.token}".encode()).decode()
        data = json.dumps(body).encode()
        last: HelpdeskUnavailable | None = None
        for attempt in range(self.tries):
            request = urllib.request.Request(
                f"{self.base_url}/api/v2/tickets/{external_id}.json",
                data=data,
                method="PUT",
                headers={"Content-Type": "application/json", "Authorization": f"Basic {auth}"},
            )
            try:
                with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                    return json.loads(response.read() or b"{}")
            except urllib.error.HTTPError as exc:
                last = HelpdeskUnavailable(f"Zendesk ticket {external_id}: HTTP {exc.code}", status=exc.code)
                if exc.code == 429:
                    wait = _retry_after(exc.headers.get("Retry-After"))
                    if wait > self.MAX_RETRY_AFTER:
                        raise last from exc
                elif exc.code >= 500:
                    wait = self.backoff * (2**attempt)
                else:
                    raise last from exc
            except OSError as exc:
                last = HelpdeskUnavailable(f"Zendesk ticket {external_id}: {type(exc).__name__}: {exc}")
                wait = self.backoff * (2**attempt)
            if attempt + 1 < self.tries:
                self.sleep(wait)
        raise last


def _retry_after(value: str | None) -> float:
    try:
        return max(float(value), 0.0)
    except (TypeError, ValueError):
        return 1.0
