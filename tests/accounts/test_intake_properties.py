"""Hypothesis: whatever JSON the product posts to /api/v1/events/, the answer is a 200 with
every event accounted for (accepted, duplicate or rejected by index) or a 400; never a 5xx,
and nothing stored for what was rejected."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import AccountEvent
from tests.helpers.api import EVENTS_URL

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=10,
)
EVENT = st.fixed_dictionaries(
    {},
    optional={
        "event_id": st.text(max_size=20) | JSON,
        "account": st.just("__ACCOUNT__") | st.text(max_size=10) | JSON,
        "type": st.sampled_from(["report.viewed", "import.failed", "not a type", ""]) | JSON,
        "occurred_at": st.sampled_from(["2026-11-01T10:00:00Z", "yesterday", "2999-01-01T00:00:00Z"]) | JSON,
        "error_code": st.text(max_size=10) | JSON,
        "data": JSON,
    },
)
BODY = EVENT | st.fixed_dictionaries({"events": st.lists(EVENT, max_size=5) | JSON}) | JSON


def _with_account(value, external_id):
    if value == "__ACCOUNT__":
        return external_id
    if isinstance(value, dict):
        return {k: _with_account(v, external_id) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_account(v, external_id) for v in value]
    return value


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(body=BODY)
def test_any_body_is_answered_and_every_event_is_accounted_for(product_api, account, body):
    body = _with_account(body, account.external_id)
    before = AccountEvent.objects.filter(source="product").count()
    response = product_api.post(EVENTS_URL, body, format="json")
    after = AccountEvent.objects.filter(source="product").count()

    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert after == before
        assert response.json()["error"]["code"]
        return
    result = response.json()
    sent = len(body["events"]) if isinstance(body, dict) and "events" in body else 1
    assert result["accepted"] + result["duplicates"] + len(result["rejected"]) == sent
    assert after - before == result["accepted"]
