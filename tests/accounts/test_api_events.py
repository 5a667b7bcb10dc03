"""POST /api/v1/events/: one event or a batch, each judged on its own, duplicates counted once."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import AccountEvent, OpsException, ReasonCode
from tests.helpers.api import EVENTS_URL, error_code, provisioning_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(make_account):
    """Signed up days ago, so the events of its first hours are in the past."""
    return make_account(signed_up_at=timezone.now() - timedelta(days=3))


def _iso(dt) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def _event(account, event_id: str, type_: str, minutes: int = 1, **fields) -> dict:
    return {
        "event_id": event_id,
        "account": account.external_id,
        "type": type_,
        "occurred_at": _iso(account.signed_up_at + timedelta(minutes=minutes)),
        **fields,
    }


def _nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"child": value}
    return value


def _post(client, body):
    return client.post(EVENTS_URL, body, format="json")


def _product_events():
    return AccountEvent.objects.filter(source="product")


def test_a_single_event_is_stored_with_its_fields(product_api, account):
    event = _event(
        account,
        "evt-1",
        "report.viewed",
        request_id="req-9",
        feature_area="reports",
        data={"report": "pipeline", "ms": 120},
    )
    response = _post(product_api, event)
    assert response.status_code == 200
    assert response.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    stored = AccountEvent.objects.get(event_id="evt-1")
    assert stored.account == account
    assert stored.channel_id == account.channel_id
    assert stored.source == "product"
    assert stored.request_id == "req-9"
    assert stored.feature_area == "reports"
    assert stored.payload == {"report": "pipeline", "ms": 120}
    assert stored.recorded_by == product_api.token.user


def test_duplicates_are_counted_not_stored(product_api, account):
    batch = {
        "events": [
            _event(account, "dup-1", "user.login"),
            _event(account, "dup-1", "user.login"),  # twice in one batch
            _event(account, "dup-2", "user.login", minutes=2),
        ]
    }
    first = _post(product_api, batch)
    assert first.json() == {"accepted": 2, "duplicates": 1, "rejected": []}
    again = _post(product_api, batch)
    assert again.status_code == 200
    assert again.json() == {"accepted": 0, "duplicates": 3, "rejected": []}
    assert _product_events().count() == 2


def test_within_a_batch_the_first_copy_of_an_event_id_wins(product_api, account):
    batch = {
        "events": [
            _event(account, "twice", "integration.failed", error_code="token_expired"),
            _event(account, "twice", "integration.failed"),  # a retry that lost its error_code
        ]
    }
    assert _post(product_api, batch).json() == {"accepted": 1, "duplicates": 1, "rejected": []}
    stored = AccountEvent.objects.get(event_id="twice")
    assert (stored.error_code, stored.reason_code.code) == ("token_expired", "token_expired")
    status = product_api.get(provisioning_url(account.external_id)).json()
    assert status["blocking"]["reason_code"] == "token_expired"


def test_a_batch_of_500_is_accepted(product_api, account):
    batch = {"events": [_event(account, f"b500-{i}", "user.login", minutes=i) for i in range(500)]}
    response = _post(product_api, batch)
    assert response.status_code == 200
    assert response.json() == {"accepted": 500, "duplicates": 0, "rejected": []}
    assert _product_events().count() == 500


def test_a_batch_over_500_is_refused_whole(product_api, account):
    batch = {"events": [_event(account, f"b501-{i}", "user.login", minutes=i) for i in range(501)]}
    response = _post(product_api, batch)
    assert response.status_code == 400
    assert error_code(response) == "batch_too_large"
    assert response.json()["error"]["details"] == {"max": 500, "received": 501}
    assert not _product_events().exists()


@pytest.mark.parametrize(
    "body",
    [[], {"events": []}, {"events": "evt"}, {"events": {"event_id": "x"}}, "just a string"],
    ids=["bare-list", "empty-batch", "string-batch", "object-batch", "string"],
)
def test_a_body_that_is_neither_an_event_nor_a_batch_is_refused(product_api, body):
    response = _post(product_api, body)
    assert response.status_code == 400
    assert error_code(response) == "invalid_batch"


def test_malformed_json_is_a_400_and_stores_nothing(product_api):
    response = product_api.post(EVENTS_URL, '{"events": [{"event_id": ', content_type="application/json")
    assert response.status_code == 400
    assert error_code(response) == "malformed_request"
    assert not _product_events().exists()


def test_json_nested_beyond_the_parser_is_malformed_not_a_crash(product_api):
    response = product_api.post(EVENTS_URL, "[" * 100_000 + "]" * 100_000, content_type="application/json")
    assert response.status_code == 400
    assert error_code(response) == "malformed_request"


def test_a_body_over_the_upload_limit_is_413_and_stores_nothing(product_api, account, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    events = [_event(account, f"big-{i}", "user.login", data={"pad": "x" * 900}) for i in range(20)]
    response = _post(product_api, {"events": events})
    assert response.status_code == 413
    assert error_code(response) == "request_too_large"
    assert not _product_events().exists()


def test_each_event_is_judged_alone(product_api, account):
    batch = {
        "events": [
            _event(account, "ok-1", "user.login"),  # 0
            {**_event(account, "bad-type", "Not A Type")},  # 1
            {**_event(account, "bad-time", "user.login"), "occurred_at": "tuesday"},  # 2
            _event(account, "x" * 101, "user.login"),  # 3
            {**_event(account, "ghost", "user.login"), "account": "no-such-account"},  # 4
            "not an object",  # 5
            {"event_id": "missing-fields"},  # 6
            {**_event(account, "future", "user.login"), "occurred_at": "2999-01-01T00:00:00Z"},  # 7
            {**_event(account, "bad-data", "user.login"), "data": ["not", "an", "object"]},  # 8
            _event(account, "ok-2", "report.viewed", minutes=3),  # 9
            {**_event(account, "nul", "user.login"), "data": {"note": "a\u0000b"}},  # 10
            {**_event(account, "deep", "user.login"), "data": _nested(12)},  # 11
            {**_event(account, "fat", "user.login"), "data": {"pad": "x" * 5000}},  # 12
            _event(account, "opsconsole:account.approved:x", "account.approved"),  # 13
        ]
    }
    response = _post(product_api, batch)
    assert response.status_code == 200
    data = response.json()
    assert (data["accepted"], data["duplicates"]) == (2, 0)
    rejected = {r["index"]: set(r["errors"]) for r in data["rejected"]}
    assert rejected == {
        1: {"type"},
        2: {"occurred_at"},
        3: {"event_id"},
        4: {"account"},
        5: {"non_field_errors"},
        6: {"account", "type", "occurred_at"},
        7: {"occurred_at"},
        8: {"data"},
        10: {"data"},
        11: {"data"},
        12: {"data"},
        13: {"event_id"},
    }
    assert [r["index"] for r in data["rejected"]] == sorted(rejected)
    assert set(_product_events().values_list("event_id", flat=True)) == {"ok-1", "ok-2"}


def test_a_single_invalid_event_is_reported_as_rejected(product_api, account):
    response = _post(product_api, {**_event(account, "lonely", "user.login"), "account": "nobody"})
    assert response.status_code == 200
    assert response.json() == {
        "accepted": 0,
        "duplicates": 0,
        "rejected": [{"index": 0, "errors": {"account": ["No account with external_id 'nobody'."]}}],
    }


def test_a_batch_reads_its_accounts_in_one_query(product_api, make_account):
    accounts = [make_account(signed_up_at=timezone.now() - timedelta(days=1)) for _ in range(6)]
    events = [_event(a, f"nq-{a.pk}-{i}", "user.login", minutes=i) for a in accounts for i in range(3)]
    with CaptureQueriesContext(connection) as queries:
        response = _post(product_api, {"events": events})
    assert response.json()["accepted"] == 18
    account_reads = [q["sql"] for q in queries.captured_queries if 'FROM "accounts_account"' in q["sql"]]
    lookups = [sql for sql in account_reads if "FOR UPDATE" not in sql]
    assert len(lookups) == 1, lookups
    # Each account's events are recorded in one call: the account is locked once per account.
    locks = [sql for sql in account_reads if "FOR UPDATE" in sql]
    assert len(locks) == len(accounts)


# --- Events drive provisioning ---------------------------------------------------------------


def test_a_failure_blocks_with_the_customer_message_then_a_success_clears_it(product_api, account):
    failed = _event(
        account, "int-fail", "integration.failed", minutes=5, error_code="token_expired", request_id="req-1"
    )
    assert _post(product_api, failed).json()["accepted"] == 1

    status = product_api.get(provisioning_url(account.external_id)).json()
    token_expired = ReasonCode.objects.get(code="token_expired")
    assert status["status"] == "action_required"
    assert status["blocking"] == {
        "step": "connect_integration",
        "reason_code": "token_expired",
        "message": token_expired.customer_message,
        "next_action": token_expired.customer_next_action,
        # No help article covers this reason in this test; tier 0's tests cover a matching one.
        "help_url": None,
    }
    exception = OpsException.objects.get(account=account)
    assert (exception.reason_code_id, exception.status) == (token_expired.pk, "open")
    assert exception.evidence["request_id"] == "req-1"

    _post(product_api, _event(account, "int-ok", "integration.connected", minutes=9))
    status = product_api.get(provisioning_url(account.external_id)).json()
    assert status["blocking"] is None
    assert status["status"] == "in_progress"
    assert {s["step"]: s["status"] for s in status["steps"]}["connect_integration"] == "succeeded"
    exception.refresh_from_db()
    assert exception.status == "resolved"
    assert "integration.connected" in exception.resolution_note


def test_a_failure_without_a_known_error_code_takes_its_steps_default_reason(product_api, account):
    _post(product_api, _event(account, "imp-fail", "import.failed", error_code="E_TIMEOUT"))
    status = product_api.get(provisioning_url(account.external_id)).json()
    assert status["blocking"]["reason_code"] == "import_failed"


def test_an_older_failure_arriving_after_a_success_does_not_move_the_step_back(product_api, account):
    _post(product_api, _event(account, "late-ok", "import.succeeded", minutes=20))
    response = _post(product_api, _event(account, "late-fail", "import.failed", minutes=10))
    assert response.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    status = product_api.get(provisioning_url(account.external_id)).json()
    assert status["blocking"] is None
    assert {s["step"]: s["status"] for s in status["steps"]}["import_data"] == "succeeded"
    assert not OpsException.objects.filter(account=account).exists()
    assert AccountEvent.objects.filter(event_id="late-fail").exists()  # kept on the timeline


def test_a_batch_sent_newest_first_is_applied_in_time_order(product_api, account):
    batch = {
        "events": [
            _event(account, "ooo-3", "workspace.provisioned", minutes=30),
            _event(account, "ooo-2", "workspace.failed", minutes=20),
            _event(account, "ooo-1", "plan.assigned", minutes=10),
        ]
    }
    assert _post(product_api, batch).json()["accepted"] == 3
    status = product_api.get(provisioning_url(account.external_id)).json()
    steps = {s["step"]: s["status"] for s in status["steps"]}
    assert steps["create_workspace"] == "succeeded"
    assert steps["assign_plan"] == "succeeded"
    assert status["blocking"] is None
    # The failure did happen, between plan and workspace: it opened and then resolved.
    assert OpsException.objects.get(account=account).status == "resolved"


def test_an_account_under_review_stays_under_review_until_approved(product_api, make_account):
    account = make_account(shape="enterprise", signed_up_at=timezone.now() - timedelta(days=1))
    _post(product_api, _event(account, "ent-1", "workspace.provisioned"))
    assert product_api.get(provisioning_url(account.external_id)).json()["status"] == "under_review"
    _post(product_api, _event(account, "ent-2", "account.approved", minutes=2))
    assert product_api.get(provisioning_url(account.external_id)).json()["status"] == "in_progress"
