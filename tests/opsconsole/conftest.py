"""Fixtures for the guarded actions: failed imports, a finished run, local HTTP receivers."""

import itertools
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from accounts.services import EventInput, account_events_record
from opsconsole.actions.services import run_action
from tests.opsconsole.access_world import world  # noqa: F401  (a fixture: the object-access world)
from tests.routing.conftest import activate_rules, intake, make_queue  # noqa: F401  (fixtures it needs)

_events = itertools.count(1)


def transactional(test):
    """For tests that need real commits (threads, on_commit delivery, a live server)."""
    return pytest.mark.django_db(transaction=True)(test)


@pytest.fixture
def fail_import(system):
    """``fail_import(account, "timeout")`` records an import.failed event; returns the exception."""

    def _fail(account, error_code="timeout"):
        n = next(_events)
        account_events_record(
            account=account,
            events=[
                EventInput(
                    f"import-failed-{n}",
                    "import.failed",
                    account.signed_up_at + timedelta(minutes=n),
                    error_code=error_code,
                    request_id=f"req-{n}",
                    feature_area="imports",
                )
            ],
            actor=system,
        )
        return account.exceptions.get(reason_code__code="import_failed", status="open")

    return _fail


@pytest.fixture
def resolved_run(account, fail_import, make_user):
    """A succeeded run: support resolved a failed import of ``account`` with a note."""
    return run_action(
        name="resolve_exception",
        target=fail_import(account),
        actor=make_user("support"),
        params={"note": "done"},
        evidence={"note": "n"},
        idempotency_key="k",
    ).run


class Receiver:
    """A local HTTP server that records what it receives and answers with queued statuses."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(
                    {"headers": dict(self.headers), "body": body, "json": json.loads(body or b"null")}
                )
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    """Stands in for the product (or any webhook target)."""
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def alert_receiver(settings):
    """Stands in for Slack: ALERT_WEBHOOK_URL points at it for the test."""
    server = Receiver()
    settings.ALERT_WEBHOOK_URL = server.url
    yield server
    server.close()
