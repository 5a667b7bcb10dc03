"""CRM reconciliation and pushes against a small local server speaking HubSpot's CRM v3
shapes (the ``hubspot`` fixture, tests/helpers/hubspot.py)."""

import pytest

from accounts.billing import crm
from accounts.billing.crm import OUTBOX_DESTINATION, CrmCannotRepresent, CrmUnavailable, HubSpotAdapter
from accounts.choices import DriftKind, DriftStatus, ExceptionStatus, LifecycleStage, ReconciliationStatus
from accounts.models import AccountEvent, BillingDrift
from opsconsole.actions.services import run_action
from opsconsole.errors import Conflict
from opsconsole.history import SYSTEM_RECONCILER
from opsconsole.models import OutboxMessage, OutboxStatus
from opsconsole.outbox import outbox_deliver_once
from tests.helpers.billing import STATIC_ADAPTER, StaticAdapter, reconcile_crm


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
    assert plan.fix_action == "push_to_crm" and plan.exception.evidence["fix_action"] == "push_to_crm"
    assert {d.fix_action for d in BillingDrift.objects.all()} == {"push_to_crm"}
    assert not OutboxMessage.objects.exists()  # CRM_PUSH_LIFECYCLE is off: nothing pushed
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
    settings.CRM_ADAPTER = STATIC_ADAPTER
    assert isinstance(crm.crm_adapter(), StaticAdapter)
    settings.CRM_ADAPTER = "accounts.billing.crm.HubSpotAdapter"
    assert isinstance(crm.crm_adapter(), HubSpotAdapter)


@pytest.fixture
def static_crm(settings):
    settings.CRM_ADAPTER = STATIC_ADAPTER
    StaticAdapter.companies = {}
    yield StaticAdapter.companies
    StaticAdapter.companies = {}


@pytest.mark.django_db
def test_reconciler_runs_on_a_non_hubspot_adapter(static_crm):
    run = reconcile_crm()
    assert run.status == ReconciliationStatus.COMPLETED and run.objects_scanned == 0


@pytest.mark.django_db
def test_push_to_crm_works_on_a_non_hubspot_adapter(static_crm, make_account, make_user):
    account = make_account()
    static_crm["7"] = crm.CrmCompany("7", account.external_id, "", "enterprise", account.lifecycle_stage)
    reconcile_crm()
    drift = BillingDrift.objects.get(status=DriftStatus.OPEN)
    assert (drift.kind, drift.theirs["record"]) == (DriftKind.CRM_PLAN, "static:7")
    assert drift.fix_action == "push_to_crm"

    run = push(drift.exception, make_user("billing")).run
    deliver(run.outbox_messages.get())
    assert static_crm["7"].plan == account.plan

    reconcile_crm()
    drift.refresh_from_db()
    assert drift.status == DriftStatus.RESOLVED


# --- Pushing our values to HubSpot ---------------------------------------------------------


def push(exception, actor, key="push-1", **kwargs):
    return run_action(name="push_to_crm", target=exception, actor=actor, idempotency_key=key, **kwargs)


def deliver(message):
    assert outbox_deliver_once(message.pk) is None
    message.refresh_from_db()
    return message


@pytest.mark.django_db
def test_adapter_translates_our_values_and_patches_the_company(hubspot, make_account, make_user):
    hubspot.owners.append({"id": "502", "email": "other@ops.example", "firstName": "A", "lastName": "B"})
    account = make_account(owner=make_user("ops_lead", email="Other@Ops.example"))
    account.lifecycle_stage = LifecycleStage.CHURNED
    company = hubspot.add_company(account, owner_id="501", plan="enterprise", stage="customer")
    adapter = HubSpotAdapter()

    # Owners are matched by email whatever its case; plan and stage in HubSpot's vocabulary.
    assert adapter.company_properties(field="owner", account=account) == {"hubspot_owner_id": "502"}
    assert adapter.company_properties(field="plan", account=account) == {"opsconsole_plan": account.plan}
    assert adapter.company_properties(field="lifecycle_stage", account=account) == {"lifecyclestage": "other"}

    adapter.update_company(record_id=company["id"], properties={"hubspot_owner_id": "502"})
    path = f"/crm/v3/objects/companies/{company['id']}"
    assert ("PATCH", path, "Bearer pat-test-token") in hubspot.requests
    assert hubspot.patches == [(company["id"], {"properties": {"hubspot_owner_id": "502"}})]
    assert company["properties"]["hubspot_owner_id"] == "502"


@pytest.mark.django_db
def test_adapter_refuses_what_hubspot_cannot_hold(hubspot, make_account, make_user):
    account = make_account(owner=make_user("ops_lead", email="nobody@ops.example"))
    adapter = HubSpotAdapter()
    with pytest.raises(CrmCannotRepresent, match="nobody@ops.example"):
        adapter.company_properties(field="owner", account=account)
    with pytest.raises(CrmUnavailable) as info:
        adapter.update_company(record_id="999", properties={"opsconsole_plan": "starter"})
    assert info.value.status == 404


@pytest.fixture
def plan_drift(hubspot, make_account, make_user):
    """An account whose HubSpot company says enterprise, reconciled: one open plan drift."""
    account = make_account(owner=make_user("ops_lead", email="owner@ops.example"))
    company = hubspot.add_company(account, owner_id="501", plan="enterprise", stage="opportunity")
    reconcile_crm()
    drift = BillingDrift.objects.get(status=DriftStatus.OPEN)
    assert drift.kind == DriftKind.CRM_PLAN
    return account, company, drift


@pytest.mark.django_db
def test_push_to_crm_dry_run_lists_the_call_and_writes_nothing(plan_drift, hubspot, make_user):
    account, company, drift = plan_drift
    outcome = push(drift.exception, make_user("billing"), dry_run=True)

    (call,) = outcome.preview["external_calls"]
    assert (call["system"], call["operation"], call["performed"]) == ("crm", "crm.update_company", False)
    assert call["payload"]["record_id"] == company["id"]
    assert call["payload"]["properties"] == {"opsconsole_plan": account.plan}
    assert not OutboxMessage.objects.exists()
    assert not AccountEvent.objects.filter(type="crm.push_queued").exists()
    drift.exception.refresh_from_db()
    assert drift.exception.status == ExceptionStatus.OPEN and "crm_push" not in drift.exception.evidence
    assert hubspot.patches == []


@pytest.mark.django_db
def test_push_to_crm_queues_once_delivers_and_the_next_run_resolves(plan_drift, hubspot, make_user):
    account, company, drift = plan_drift
    billing = make_user("billing")
    outcome = push(drift.exception, billing)
    run = outcome.run
    assert run.status == "succeeded", run.error_message
    message = run.outbox_messages.get()
    assert (message.destination, message.status) == (OUTBOX_DESTINATION, OutboxStatus.PENDING)
    assert message.payload["properties"] == {"opsconsole_plan": account.plan}
    assert run.result == {"field": "plan", "command_id": str(message.pk)}
    drift.exception.refresh_from_db()
    assert drift.exception.status == ExceptionStatus.IN_PROGRESS
    assert drift.exception.evidence["crm_push"]["command_id"] == str(message.pk)
    note = AccountEvent.objects.get(account=account, type="crm.push_queued")
    assert note.payload["value"] == account.plan
    assert note.payload["by"] == f"push_to_crm by {billing.username}"

    # Another person pushing the same value while it is on its way joins that message.
    again = push(drift.exception, make_user("ops_lead"), key="push-2").run
    assert again.result["command_id"] == str(message.pk)
    assert OutboxMessage.objects.count() == 1

    assert deliver(message).status == OutboxStatus.DELIVERED
    assert company["properties"]["opsconsole_plan"] == account.plan

    reconcile_crm()
    drift.refresh_from_db()
    assert drift.status == DriftStatus.RESOLVED and "plan now agrees" in drift.resolution_note


@pytest.mark.django_db
def test_push_to_crm_may_push_another_field(plan_drift, hubspot, make_user):
    account, company, drift = plan_drift
    company["properties"]["hubspot_owner_id"] = ""
    run = push(drift.exception, make_user("ops_lead"), params={"field": "owner"}).run
    message = run.outbox_messages.get()
    assert message.payload["properties"] == {"hubspot_owner_id": "501"}
    deliver(message)
    assert company["properties"]["hubspot_owner_id"] == "501"


@pytest.mark.django_db
def test_push_to_crm_is_refused_once_the_crm_agrees(plan_drift, make_user):
    account, company, drift = plan_drift
    company["properties"]["opsconsole_plan"] = account.plan
    reconcile_crm()
    drift.exception.refresh_from_db()
    with pytest.raises(Conflict) as info:
        push(drift.exception, make_user("billing"))
    assert info.value.code == "exception_resolved"
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_push_to_crm_is_refused_when_no_crm_is_configured(plan_drift, make_user, settings):
    account, company, drift = plan_drift
    settings.HUBSPOT_ACCESS_TOKEN = ""
    with pytest.raises(Conflict) as info:
        push(drift.exception, make_user("billing"), dry_run=True)
    assert info.value.code == "crm_not_configured"
    assert "The hubspot CRM has no credentials here" in info.value.message
    assert not OutboxMessage.objects.exists()
    drift.exception.refresh_from_db()
    assert drift.exception.status == ExceptionStatus.OPEN


# --- CRM_PUSH_LIFECYCLE ---------------------------------------------------------------------


@pytest.mark.django_db
def test_lifecycle_push_on_queues_one_push_and_the_next_run_resolves(hubspot, make_account, settings):
    settings.CRM_PUSH_LIFECYCLE = True
    account = make_account()  # signed up: "opportunity" in HubSpot
    company = hubspot.add_company(account, stage="customer")

    reconcile_crm()
    reconcile_crm()  # seen again before the push went out: still one push

    drift = BillingDrift.objects.get(status=DriftStatus.OPEN)
    assert drift.kind == DriftKind.CRM_LIFECYCLE  # recorded, so it is visible
    message = OutboxMessage.objects.get()
    assert message.destination == OUTBOX_DESTINATION and message.action_run is None
    assert message.payload["properties"] == {"lifecyclestage": "opportunity"}
    assert message.dedupe_key == f"crm:hubspot:{company['id']}:lifecycle_stage=opportunity"
    pushed = drift.exception.evidence["crm_push"]
    assert pushed["command_id"] == str(message.pk) and pushed["by"].startswith("reconciliation run #")
    assert drift.exception.status == ExceptionStatus.OPEN
    assert message.history.first().history_user.username == SYSTEM_RECONCILER

    assert deliver(message).status == OutboxStatus.DELIVERED
    assert company["properties"]["lifecyclestage"] == "opportunity"

    run = reconcile_crm()
    drift.refresh_from_db()
    assert drift.status == DriftStatus.RESOLVED and run.drift_resolved == 1
    assert f"run #{run.pk}" in drift.resolution_note and "lifecycle_stage now agrees" in drift.resolution_note
    assert OutboxMessage.objects.count() == 1


@pytest.mark.django_db
def test_lifecycle_push_is_not_repeated_when_the_crm_keeps_its_value(hubspot, make_account, settings):
    settings.CRM_PUSH_LIFECYCLE = True
    account = make_account()
    company = hubspot.add_company(account, stage="customer")
    reconcile_crm()
    deliver(OutboxMessage.objects.get())
    # Something on the CRM side (a workflow) sets its own value again.
    company["properties"]["lifecyclestage"] = "customer"

    reconcile_crm()

    assert OutboxMessage.objects.count() == 1  # the drift stays open for a person instead
    assert BillingDrift.objects.get(status=DriftStatus.OPEN).kind == DriftKind.CRM_LIFECYCLE
