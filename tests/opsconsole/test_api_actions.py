"""POST /api/v1/actions/{name}/: the API entry point, its answers and its refusals."""

import functools

import pytest
from rest_framework.test import APIClient

from opsconsole.models import ActionRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for(console_for):
    """``client_for(role)``: the API with a console session in that role, as staff call it."""
    return functools.partial(console_for, client_class=APIClient)


def _post(client, name, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(f"/api/v1/actions/{name}/", body, format="json", secure=True, **headers)


@pytest.mark.parametrize(
    ("name", "body", "key", "status", "code", "detail"),
    [
        ("no_such_action", {"target": "x"}, "k", 404, "unknown_action", None),
        ("reassign_plan", {}, "k", 400, "invalid", "target"),
        ("reassign_plan", {"target": "{acct}", "params": "business"}, "k", 400, "invalid", "params"),
        (
            "reassign_plan",
            {"target": "{acct}", "params": {"plan": "platinum"}},
            "k",
            400,
            "invalid_parameters",
            "plan",
        ),
        ("reassign_plan", {"target": "{acct}", "params": {}}, "k", 400, "invalid_parameters", "plan"),
        (
            "reassign_plan",
            {"target": "nobody", "params": {"plan": "starter"}},
            "k",
            404,
            "target_not_found",
            None,
        ),
        (
            "reassign_plan",
            {"target": "{acct}", "params": {"plan": "starter"}},
            None,
            400,
            "idempotency_key_required",
            None,
        ),
        (
            "reassign_plan",
            {"target": "{acct}", "preview_token": "forged"},
            None,
            400,
            "preview_invalid",
            None,
        ),
        (
            "reassign_plan",
            {"target": "{acct}", "params": {"plan": "team"}},
            "k",
            409,
            "plan_unchanged",
            "action_run",
        ),
        ("reassign_plan", {"target": "{acct}", "dry_run": "maybe"}, "k", 400, "invalid", "dry_run"),
    ],
)
def test_bad_input_gets_a_clear_4xx(client_for, account, name, body, key, status, code, detail):
    body = {
        k: (v.replace("{acct}", account.external_id) if isinstance(v, str) else v) for k, v in body.items()
    }
    response = _post(client_for("billing"), name, body, key)
    assert response.status_code == status, response.json()
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    if detail:
        assert detail in error["details"]
    account.refresh_from_db()
    assert account.plan == "team"


def test_service_token_without_the_role_is_refused(product_api, account):
    response = _post(
        product_api, "reassign_plan", {"target": account.external_id, "params": {"plan": "starter"}}, "k"
    )
    assert response.status_code == 403
    assert not ActionRun.objects.exists()


def test_role_without_the_action_permission_gets_403_and_a_recorded_refusal(client_for, account):
    response = _post(
        client_for("support"),
        "reassign_plan",
        {"target": account.external_id, "params": {"plan": "starter"}},
        "k",
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "action_not_permitted"
    run = ActionRun.objects.get(pk=response.json()["error"]["details"]["action_run"])
    assert run.status == "refused"


def test_dry_run_then_commit_then_replay(client_for, account):
    client = client_for("billing")
    preview = _post(
        client,
        "reassign_plan",
        {"target": account.external_id, "params": {"plan": "starter"}, "dry_run": True},
    )
    assert preview.status_code == 200
    body = preview.json()
    assert body["dry_run"] is True and body["preview"]["needs_approval"] is None
    commit = {"target": account.external_id, "preview_token": body["preview_token"]}
    created = _post(client, "reassign_plan", commit)
    assert created.status_code == 201
    run = created.json()["action_run"]
    assert run["status"] == "succeeded" and run["params"] == {"plan": "starter", "note": ""}
    replay = _post(client, "reassign_plan", commit)
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["action_run"]["id"] == run["id"]
    detail = client.get(f"/api/v1/action-runs/{run['id']}/", secure=True)
    assert detail.status_code == 200 and detail.json()["status"] == "succeeded"


def test_change_needing_approval_answers_202(client_for, account):
    response = _post(
        client_for("billing"),
        "reassign_plan",
        {"target": account.external_id, "params": {"plan": "enterprise"}},
        "k",
    )
    assert response.status_code == 202
    assert response.json()["action_run"]["approval"]["status"] == "pending"


def test_exception_target_by_id_and_evidence_required(client_for, account, fail_import):
    exception = fail_import(account)
    client = client_for("support")
    missing = _post(client, "restart_import", {"target": str(exception.pk)}, "k")
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "evidence_required"
    ok = _post(
        client, "restart_import", {"target": str(exception.pk), "evidence": {"note": "timeout seen"}}, "k"
    )
    assert ok.status_code == 201
    assert ok.json()["action_run"]["deliveries"][0]["command"] == "import.restart"
