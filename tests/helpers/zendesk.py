"""pytest fixture for a small local server speaking Zendesk Support API v2's ticket shapes, so
the Zendesk adapter makes real HTTP calls: ``PUT /api/v2/tickets/{id}.json``. Load with
``pytest_plugins``.
"""

import base64
import contextlib
import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from routing.support import helpdesk

TICKET_PATH = re.compile(r"^/api/v2/tickets/(\d+)\.json$")
STAMP = "2026-12-01T10:00:00Z"


class FakeZendesk:
    """The part of Zendesk the adapter uses, as Zendesk answers it.

    ``tickets`` maps id -> ticket (created on first write, as if it existed); ``puts`` lists
    (id, body) of each accepted update; ``comments`` (id, comment) of each public reply;
    ``statuses`` queues (status, headers) answers for the next updates (429 with Retry-After,
    503); ``lost_answers`` queues what happens to the answer of the next updates that are
    applied: ``"drop"`` (the connection closes unanswered, as after a reset) or a delay in
    seconds (the caller times out); ``auth`` holds the last Authorization header.
    ``GET /api/v2/tickets/{id}.json`` answers the ticket as it stands.
    """

    def __init__(self):
        self.tickets: dict[str, dict] = {}
        self.puts: list[tuple[str, dict]] = []
        self.comments: list[tuple[str, dict]] = []
        self.statuses: list[tuple[int, dict]] = []
        self.lost_answers: list[str | float] = []
        self.requests: list[tuple[str, str]] = []
        self.auth = None
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, body: dict, status: int = 200, headers: dict | None = None):
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(raw)

            def _ticket(self, ticket_id: str) -> dict:
                return fake.tickets.setdefault(
                    ticket_id, {"id": int(ticket_id), "tags": [], "priority": None, "created_at": STAMP}
                )

            def do_GET(self):
                fake.requests.append(("GET", self.path))
                match = TICKET_PATH.match(self.path)
                if match is None:
                    return self._send({"error": "InvalidEndpoint"}, 404)
                self._send({"ticket": self._ticket(match[1])})

            def do_PUT(self):
                fake.requests.append(("PUT", self.path))
                fake.auth = self.headers.get("Authorization")
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if fake.statuses:
                    status, headers = fake.statuses.pop(0)
                    return self._send(
                        {"error": "RecordInvalid" if status == 422 else "Busy"}, status, headers
                    )
                match = TICKET_PATH.match(self.path)
                if match is None or "ticket" not in body:
                    return self._send({"error": "InvalidEndpoint"}, 404)
                ticket_id = match[1]
                ticket = self._ticket(ticket_id)
                changes = dict(body["ticket"])
                comment = changes.pop("comment", None)
                if comment is not None:
                    fake.comments.append((ticket_id, comment))
                added = changes.pop("additional_tags", [])
                ticket.update(changes)
                ticket["tags"] = [*ticket["tags"], *(t for t in added if t not in ticket["tags"])]
                ticket["updated_at"] = STAMP
                fake.puts.append((ticket_id, body))
                lost = fake.lost_answers.pop(0) if fake.lost_answers else None
                if lost == "drop":
                    self.close_connection = True
                    return self.connection.shutdown(socket.SHUT_RDWR)
                if lost is not None:
                    time.sleep(lost)
                with contextlib.suppress(OSError):  # the caller may have stopped waiting
                    self._send({"ticket": ticket, "audit": {"events": []}})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def basic_user(self) -> str:
        return base64.b64decode(self.auth.split(" ", 1)[1]).decode()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def zendesk(settings, monkeypatch):
    """A fresh fake Zendesk the settings point at; the adapter's waits are not slept."""
    fake = FakeZendesk()
    settings.ZENDESK_API_BASE = fake.url
    settings.ZENDESK_EMAIL = "bot@ops.example"
    settings.ZENDESK_API_TOKEN = "zd-test-token"
    fake.slept = []
    original = helpdesk.ZendeskAdapter.__init__

    def init(self, **kwargs):
        kwargs.setdefault("sleep", fake.slept.append)
        original(self, **kwargs)

    monkeypatch.setattr(helpdesk.ZendeskAdapter, "__init__", init)
    yield fake
    fake.close()
