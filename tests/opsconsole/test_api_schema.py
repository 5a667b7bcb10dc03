"""The OpenAPI schema generates cleanly and describes the contract's endpoints."""

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.helpers.clients import https_client


def test_schema_generates_and_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    # --fail-on-warn turns any drf-spectacular warning (an unresolvable serializer, an
    # ambiguous enum) into an error, so the published schema stays exact.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    paths = schema["paths"]
    assert set(paths) >= {
        "/api/v1/accounts/",
        "/api/v1/accounts/{external_id}/",
        "/api/v1/accounts/{external_id}/provisioning-status/",
        "/api/v1/accounts/{external_id}/entitlements/",
        "/api/v1/events/",
        "/api/v1/reports/channels/",
        "/api/v1/reports/cohorts/",
    }
    create = paths["/api/v1/accounts/"]["post"]
    assert {"201", "400", "409", "422"} <= set(create["responses"])
    header = next(p for p in create["parameters"] if p["name"] == "Idempotency-Key")
    assert header["in"] == "header" and header["required"] is True
    channels = paths["/api/v1/reports/channels/"]["get"]
    assert {"200", "400", "401", "403"} <= set(channels["responses"])
    assert {p["name"] for p in channels["parameters"]} == {"since", "until", "shape", "plan"}
    cohorts = paths["/api/v1/reports/cohorts/"]["get"]
    assert {"metric", "period", "since", "until"} <= {p["name"] for p in cohorts["parameters"]}
    intake = schema["components"]["schemas"]["TicketIntakeRequest"]["properties"]
    assert "created_at" in intake
    # Required texts may not be blank, in the schema as in the code; the key neither.
    for name in ("source", "external_id", "subject"):
        assert intake[name]["minLength"] == 1 and intake[name]["pattern"]
    assert header["schema"]["minLength"] == 1 and header["schema"]["maxLength"] == 255
    # Every operation documents the errors any of them can answer.
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert {"400", "401", "403", "404", "429"} <= set(operation["responses"]), (method, path)
            if method == "post":
                assert {"409", "422"} <= set(operation["responses"]), (method, path)


@pytest.mark.django_db
def test_schema_is_served_without_credentials():
    response = https_client(APIClient).get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/events/" in response.content
