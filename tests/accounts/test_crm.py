"""CRM reconciliation against a small local server speaking HubSpot's CRM v3 shapes."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from accounts import crm
from accounts.choices import DriftKind, DriftStatus, ReconciliationStatus
from accounts.crm import HubSpotAdapter
from accounts.models import BillingDrift
from accounts.reconciliation import reconciliation_execute, reconciliation_start
from opsconsole.history import SYSTEM_RECONCILER, system_user

STAMP = "2026-11-01T00:00:00.000Z"


class FakeHubSpot:
    """Companies search (with limit/after paging) and owners, as HubSpot answers them."""

    def __init__(self):
        self.companies: list[dict] = []
        self.owners = [{"id": "501", "email": "owner@ops.example", "firstName": "O", "lastName": "W"}]
        self.requests: list[tuple[str, str]] = []
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

            def do_GET(self):
                fake.requests.append(("GET", self.path, self.headers.get("Authorization")))
                if self.path.startswith("/crm/v3/owners"):
                    owners = [
                        {**o, "userId": 1, "createdAt": STAMP, "updatedAt": STAMP, "archived": False}
                        for o in fake.owners
                    ]
                    return self._send({"results": owners})
                self._send({"status": "error", "message": "not found"}, 404)

            def do_POST(self):
                fake.requests.append(("POST", self.path, self.headers.get("Authorization")))
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path != "/crm/v3/objects/companies/search":
                    return self._send({"status": "error", "message": "not found"}, 404)
                start = int(body.get("after") or 0)
                limit = int(body.get("limit") or 10)
                page = fake.companies[start : start + limit]
                results = [
                    {
                        "id": c["id"],
                        "properties": c["properties"],
                        "createdAt": STAMP,
                        "updatedAt": STAMP,
                        "archived": False,
                    }
                    for c in page
                ]
                answer = {"total": len(fake.companies), "results": results}
                if start + limit < len(fake.companies):
                    answer["paging"] = {"next": {"after": str(start + limit)}}
                self._send(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

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
    fake = FakeHubSpot()
    settings.HUBSPOT_API_BASE = fake.url
    settings.HUBSPOT_ACCESS_TOKEN = "pat-test-token"
    monkeypatch.setattr(crm, "PAGE_SIZE", 2)
    yield fake
    fake.close()


def reconcile_crm():
    run, _ = reconciliation_start(target="crm", actor=system_user(SYSTEM_RECONCILER))
    return reconciliation_execute(run)


@pytest.mark.django_db
def test_crm_mismatches_become_drift_and_resolve_when_fixed(hubspot, make_account, make_user):
    owner = make_user("ops_lead", email="owner@ops.example")
    agreeing = make_account(owner=owner)
    hubspot.add_company(agreeing, owner_id="501", stage="opportunity")
    wrong = make_account()
    company = hubspot.add_company(wrong, owner_id="501", plan="enterprise", stage="other")
    for _ in range(3):  # more pages than one
        hubspot.add_company(make_account(), stage="opportunity")

    run = reconcile_crm()

    assert run.status == ReconciliationStatus.COMPLETED
    assert run.objects_scanned == 5
    open_kinds = set(BillingDrift.objects.filter(status=DriftStatus.OPEN).values_list("subject", "kind"))
    assert open_kinds == {
        (wrong.external_id, DriftKind.CRM_OWNER),
        (wrong.external_id, DriftKind.CRM_PLAN),
        (wrong.external_id, DriftKind.CRM_LIFECYCLE),
    }
    plan = BillingDrift.objects.get(kind=DriftKind.CRM_PLAN)
    assert plan.theirs == {"plan": "enterprise", "record": f"hubspot:{company['id']}"}
    assert plan.ours == {"plan": wrong.plan}
    assert plan.exception.reason_code.code == "crm_plan_mismatch" and plan.exception.is_open
    assert ("POST", "/crm/v3/objects/companies/search", "Bearer pat-test-token") in hubspot.requests

    again = reconcile_crm()
    assert again.drift_opened == 0
    assert BillingDrift.objects.count() == 3

    company["properties"]["opsconsole_plan"] = wrong.plan
    third = reconcile_crm()
    plan.refresh_from_db()
    assert plan.status == DriftStatus.RESOLVED and "hubspot plan now agrees" in plan.resolution_note
    assert third.drift_resolved == 1
    plan.exception.refresh_from_db()
    assert not plan.exception.is_open


@pytest.mark.django_db
def test_crm_down_fails_the_run(settings, make_account, monkeypatch):
    monkeypatch.setattr(crm, "RETRY", crm.RETRY.new(total=1, backoff_factor=0.01))
    settings.HUBSPOT_API_BASE = "http://127.0.0.1:9"
    run = reconcile_crm()
    assert run.status == ReconciliationStatus.FAILED
    assert "CrmUnavailable" in run.last_error


def test_another_crm_adapter_plugs_in_by_setting(settings):
    settings.CRM_ADAPTER = "tests.accounts.test_crm.StaticAdapter"
    assert isinstance(crm.crm_adapter(), StaticAdapter)
    settings.CRM_ADAPTER = "accounts.crm.HubSpotAdapter"
    assert isinstance(crm.crm_adapter(), HubSpotAdapter)


class StaticAdapter:
    """What a Salesforce adapter needs to provide: nothing in the reconciler changes."""

    name = "static"
    configured = True

    def companies_page(self, *, cursor):
        return crm.CrmPage(companies=[], next_cursor=None)

    def expected_lifecycle_stage(self, stage):
        return stage

    def expected_plan(self, plan):
        return plan


@pytest.mark.django_db
def test_reconciler_runs_on_a_non_hubspot_adapter(settings):
    settings.CRM_ADAPTER = "tests.accounts.test_crm.StaticAdapter"
    run = reconcile_crm()
    assert run.status == ReconciliationStatus.COMPLETED and run.objects_scanned == 0
