"""GET /api/v1/channels/{code}/ramp-status/: who may read it, its shape, may_ramp."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from gates.services import stop_rules_evaluate
from tests.gates.conftest import days_before, sign_proceed
from tests.helpers.clients import https_client

pytestmark = pytest.mark.django_db
TODAY = timezone.now().date()


def url(code):
    return f"/api/v1/channels/{code}/ramp-status/"


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("ops_lead", 200),
        ("leadership", 200),
        ("support", 403),
        ("billing", 403),
        ("engineering", 403),
    ],
)
def test_staff_roles(console_for, channel, role, status):
    client = console_for(role, client_class=APIClient)
    assert client.get(url(channel.code)).status_code == status


@pytest.mark.parametrize(("role", "status"), [("analytics", 200), ("product", 403)])
def test_service_roles(api_client_for, channel, role, status):
    assert api_client_for(role).get(url(channel.code)).status_code == status


def test_anonymous_is_refused(channel):
    assert https_client(APIClient).get(url(channel.code)).status_code in (401, 403)


def test_no_plan_answers_nulls(api_client_for, channel):
    body = api_client_for("analytics").get(url(channel.code)).json()
    assert body == {
        "channel": channel.code,
        "may_ramp": False,
        "ramp": None,
        "decision": None,
        "stop_rules": [],
        "tripped": False,
    }


def test_unknown_channel_is_a_json_404(api_client_for):
    response = api_client_for("analytics").get(url("nowhere"))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_channel"


def proceed(plan, owner):
    return sign_proceed(plan, owner, review_date=TODAY + timedelta(days=14))


def test_may_ramp_only_when_ramping_on_a_signed_proceed_with_every_rule_passing(
    api_client_for, plan, owner, snapshot, system
):
    client = api_client_for("analytics")
    plan.stop_rules.exclude(name="24 h activation below target").update(active=False)
    decision = proceed(plan, owner)
    type(plan).objects.filter(pk=plan.pk).update(ramp_started_on=TODAY - timedelta(days=10))
    body = client.get(url(plan.channel.code)).json()
    assert body["may_ramp"] is False  # not evaluated yet: held
    assert body["stop_rules"][0]["outcome"] == "insufficient_data"
    d1, d2 = days_before(TODAY, 2)
    snapshot("activation_24h", d1, 30, 50)
    snapshot("activation_24h", d2, 30, 50)
    stop_rules_evaluate(plan=plan, actor=system)
    body = client.get(url(plan.channel.code)).json()
    assert body["may_ramp"] is True
    assert body["ramp"] == {
        "status": "ramping",
        "current_step": "1.5x now",
        "next_review": str(TODAY + timedelta(days=14)),
    }
    assert body["decision"]["outcome"] == "proceed"
    assert body["decision"]["review"] == decision.review_id
    assert body["decision"]["signed_by"] == owner.username
    snapshot("activation_24h", TODAY, 10, 50)  # a bad, complete day: one is not two
    stop_rules_evaluate(plan=plan, actor=system)
    assert client.get(url(plan.channel.code)).json()["may_ramp"] is True
    snapshot("activation_24h", TODAY + timedelta(days=1), 10, 50)
    stop_rules_evaluate(plan=plan, now=timezone.now() + timedelta(days=1), actor=system)
    body = client.get(url(plan.channel.code)).json()
    assert body["may_ramp"] is False
    assert body["tripped"] is True
    assert body["ramp"]["status"] == "paused"
    [rule] = body["stop_rules"]
    assert rule["outcome"] == "tripped"
    assert [p["value"] for p in rule["measured"]["periods"]] == [0.2, 0.2]


def test_the_schema_describes_it():
    schema = https_client().get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/channels/{code}/ramp-status/"]["get"]
    assert operation["operationId"] == "channels_ramp_status"
    assert "may_ramp" in schema["components"]["schemas"]["RampStatus"]["properties"]
