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
import socket
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


class _NotSent(Exception):
    """A request the help desk certainly did not act on (429, a refused connection): safe to
    repeat, after ``wait`` seconds (None: the adapter's backoff)."""

    def __init__(self, error: HelpdeskUnavailable, wait: float | None = None):
        super().__init__(str(error))
        self.error = error
        self.wait = wait


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

    def public_reply(self, *, external_id: str, body: str, key: str) -> None:
        """Add a public reply the requester receives, once per ``key`` however often it is
        called (a retry after a lost answer must not post it twice). Raises
        ``HelpdeskUnavailable``."""


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
            adapter.public_reply(
                external_id=payload["external_id"], body=payload["body"], key=str(message.pk)
            )
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

    Setting a ticket's fields is idempotent: 429 waits the ``Retry-After`` it is told (up to
    ``MAX_RETRY_AFTER``; longer goes back to the outbox, which retries later), 5xx and transport
    errors back off exponentially, both up to ``tries`` attempts.

    A public reply is not: Zendesk has no idempotency key for a ticket update, so a reply that
    timed out, lost its connection or got a 5xx may have been posted. The reply carries a
    marker tag (``opsconsole_reply_<key>``, added in the same update), every attempt first
    reads the ticket's tags, and one that finds the marker does not post again. Within one
    attempt only a request Zendesk certainly did not act on is repeated (429, a refused
    connection); anything else goes back to the outbox, whose next attempt (after its backoff)
    finds the marker if the reply arrived.
    """

    name = "zendesk"
    PRIORITY = {"sev1": "urgent", "sev2": "high", "sev3": "normal", "sev4": "low"}
    MAX_RETRY_AFTER = 30
    REPLY_TAG = "opsconsole_reply_{key}"

    def __init__(
        self,
        *,
        base_url=None,
        email=None,
        token=None,
        tries=4,
        backoff=0.5,
        sleep=time.sleep,
        timeout=None,
    ):
        self.base_url = (base_url or settings.ZENDESK_API_BASE).rstrip("/")
        self.email = email or settings.ZENDESK_EMAIL
        self.token = token or settings.ZENDESK_API_TOKEN
        self.configured = bool(self.base_url and self.token)
        self.tries = tries
        self.backoff = backoff
        self.sleep = sleep
        self.timeout = timeout or TIMEOUT_SECONDS

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
        self._call("PUT", external_id, {"ticket": self.ticket_changes(news)}, idempotent=True)

    def public_reply(self, *, external_id: str, body: str, key: str) -> None:
        marker = self.REPLY_TAG.format(key=key)
        ticket = self._call("GET", external_id, None, idempotent=True).get("ticket") or {}
        if marker in (ticket.get("tags") or []):
            return  # an earlier attempt posted it; its answer was lost
        update = {"comment": {"body": body, "public": True}, "additional_tags": [marker]}
        self._call("PUT", external_id, {"ticket": update}, idempotent=False)

    def _call(self, method: str, external_id: str, body: dict | None, *, idempotent: bool) -> dict:
        """One request, repeated up to ``tries`` times while repeating it is safe: always for an
        idempotent one, and only after a certain non-delivery (``_NotSent``) otherwise."""
        if not str(external_id).isdigit():
            raise HelpdeskUnavailable(f"Zendesk ticket ids are numbers, not {external_id!r}", status=400)
        last: HelpdeskUnavailable | None = None
        for attempt in range(self.tries):
            try:
                return self._send(method, external_id, body)
            except _NotSent as exc:
                last, wait = exc.error, exc.wait
            except HelpdeskUnavailable as exc:
                if not idempotent or exc.status is not None and 400 <= exc.status < 500:
                    raise
                last, wait = exc, None
            if wait is None:
                wait = self.backoff * (2**attempt)
            if attempt + 1 < self.tries:
                self.sleep(wait)
        raise last

    def _send(self, method: str, external_id: str, body: dict | None) -> dict:
        """One HTTP request. Raises ``_NotSent`` (with the error and how long to wait) when
        Zendesk certainly did not act on it, ``HelpdeskUnavailable`` otherwise."""
        auth = base64.b64encode(f"{self.email}/token:{self.token}".encode()).decode()
        request = urllib.request.Request(
            f"{self.base_url}/api/v2/tickets/{external_id}.json",
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Content-Type": "application/json", "Authorization": f"Basic {auth}"},
        )
        where = f"Zendesk ticket {external_id}"
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            error = HelpdeskUnavailable(f"{where}: HTTP {exc.code}", status=exc.code)
            if exc.code != 429:
                raise error from exc
            # Rate-limited requests are refused before Zendesk acts on them.
            wait = _retry_after(exc.headers.get("Retry-After"))
            if wait > self.MAX_RETRY_AFTER:
                raise error from exc
            raise _NotSent(error, wait) from exc
        except urllib.error.URLError as exc:
            error = HelpdeskUnavailable(f"{where}: {type(exc.reason).__name__}: {exc.reason}")
            if isinstance(exc.reason, (ConnectionRefusedError, socket.gaierror)):
                raise _NotSent(error) from exc  # never connected
            raise error from exc
        except OSError as exc:  # a timeout or a reset while waiting for the answer
            raise HelpdeskUnavailable(f"{where}: {type(exc).__name__}: {exc}") from exc


def _retry_after(value: str | None) -> float:
    try:
        return max(float(value), 0.0)
    except (TypeError, ValueError):
        return 1.0
