"""pytest fixture for a small local server speaking HubSpot's CRM v3 shapes, so
``hubspot-api-client`` makes real HTTP calls: companies search (with limit/after paging),
company updates (PATCH) and owners. Load with ``pytest_plugins``.
"""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from accounts.billing import crm

STAMP = "2026-11-01T00:00:00.000Z"
COMPANY_PATH = re.compile(r"^/crm/v3/objects/companies/(\d+)$")


class FakeHubSpot:
    """The parts of HubSpot the adapter uses, as HubSpot answers them.

    ``requests`` lists (method, path, Authorization); ``patches`` lists (company id, body) of
    each update; ``patch_statuses`` queues error statuses for the next updates.
    """

    def __init__(self):
        self.companies: list[dict] = []
        self.owners = [{"id": "501", "email": "owner@ops.example", "firstName": "O", "lastName": "W"}]
        self.requests: list[tuple[str, str]] = []
        self.patches: list[tuple[str, dict]] = []
        self.patch_statuses: list[int] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, body: dict, status: int = 200):
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _body(self) -> dict:
                return json.loads(self.rfile.read(int(self.headers["Content-Length"])))

            def do_GET(self):
                fake.requests.append(("GET", self.path, self.headers.get("Authorization")))
                if self.path.startswith("/crm/v3/owners"):
                    owners = [
                        {**o, "userId": 1, "createdAt": STAMP, "updatedAt": STAMP, "archived": False}
                        for o in fake.owners
                    ]
                    return self._send({"results": owners})
                self._send({"status": "error", "message": "not found"}, 404)

            def do_PATCH(self):
                fake.requests.append(("PATCH", self.path, self.headers.get("Authorization")))
                body = self._body()
                match = COMPANY_PATH.match(self.path)
                company = next((c for c in fake.companies if match and c["id"] == match[1]), None)
                if company is None:
                    return self._send({"status": "error", "message": "resource not found"}, 404)
                if fake.patch_statuses:
                    return self._send({"status": "error", "message": "try later"}, fake.patch_statuses.pop(0))
                fake.patches.append((company["id"], body))
                company["properties"].update(body["properties"])
                self._send(fake.answer(company))

            def do_POST(self):
                fake.requests.append(("POST", self.path, self.headers.get("Authorization")))
                body = self._body()
                if self.path != "/crm/v3/objects/companies/search":
                    return self._send({"status": "error", "message": "not found"}, 404)
                start = int(body.get("after") or 0)
                limit = int(body.get("limit") or 10)
                page = fake.companies[start : start + limit]
                answer = {"total": len(fake.companies), "results": [fake.answer(c) for c in page]}
                if start + limit < len(fake.companies):
                    answer["paging"] = {"next": {"after": str(start + limit)}}
                self._send(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    @staticmethod
    def answer(company: dict) -> dict:
        return {
            "id": company["id"],
            "properties": company["properties"],
            "createdAt": STAMP,
            "updatedAt": STAMP,
            "archived": False,
        }

    def add_company(self, account, *, owner_id="", plan=None, stage="customer"):
        self.companies.append(
            {
                "id": str(1000 + len(self.companies)),
                "properties": {
                    "opsconsole_account_id": account.external_id,
                    "opsconsole_plan": plan if plan is not None else account.plan,
                    "lifecyclestage": stage,
                    "hubspot_owner_id": owner_id,
                },
            }
        )
        return self.companies[-1]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hubspot(settings, monkeypatch):
    """A fresh fake HubSpot the settings point at, paging two companies at a time, and
    without the client's own retries (a 5xx reaches the caller at once)."""
    fake = FakeHubSpot()
    settings.HUBSPOT_API_BASE = fake.url
    settings.HUBSPOT_ACCESS_TOKEN = "pat-test-token"
    monkeypatch.setattr(crm, "PAGE_SIZE", 2)
    monkeypatch.setattr(crm, "RETRY", crm.RETRY.new(total=0))
    yield fake
    fake.close()
