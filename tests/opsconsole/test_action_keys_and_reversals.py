"""Two guarded-action gaps: an Idempotency-Key replays only the request it came with (another
action or other parameters answer 422 ``idempotency_key_reused``), and a reversal is never
reversed itself, from the API or the console."""

import functools

import pytest
from rest_framework.test import APIClient

from opsconsole.actions.services import action_run_reverse, run_action
from opsconsole.errors import Conflict
from opsconsole.models import ActionRun, ActionStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for(console_for):
    return functools.partial(console_for, client_class=APIClient)


def _post(client, name, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(f"/api/v1/actions/{name}/", body, format="json", secure=True, **headers)


def test_same_key_same_request_replays(client_for, account):
    client = client_for("billing")
    body = {"target": account.external_id, "params": {"plan": "starter"}}
    first = _post(client, "reassign_plan", body, "key-1")
    again = _post(client, "reassign_plan", body, "key-1")
    assert first.status_code == 201
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["action_run"]["id"] == first.json()["action_run"]["id"]


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("reassign_plan", {"params": {"plan": "business"}}),
        ("reassign_plan", {"params": {"plan": "starter", "note": "another note"}}),
        ("replay_webhook", {"params": {"stripe_event": "evt_1"}}),
    ],
)
def test_same_key_with_another_request_is_422_and_changes_nothing(client_for, account, name, body):
    client = client_for("billing")
    first = _post(
        client, "reassign_plan", {"target": account.external_id, "params": {"plan": "starter"}}, "k"
    )
    assert first.status_code == 201
    runs = ActionRun.objects.count()
    reused = _post(client, name, {"target": account.external_id, **body}, "k")
    assert reused.status_code == 422, reused.json()
    error = reused.json()["error"]
    assert error["code"] == "idempotency_key_reused"
    assert error["details"]["action_run"] == first.json()["action_run"]["id"]
    assert ActionRun.objects.count() == runs
    account.refresh_from_db()
    assert account.plan == "starter"


def test_same_key_on_another_target_is_422(client_for, make_account):
    one, two = make_account(), make_account()
    client = client_for("billing")
    assert (
        _post(
            client, "reassign_plan", {"target": one.external_id, "params": {"plan": "starter"}}, "k"
        ).status_code
        == 201
    )
    reused = _post(client, "reassign_plan", {"target": two.external_id, "params": {"plan": "starter"}}, "k")
    assert reused.status_code == 422 and reused.json()["error"]["code"] == "idempotency_key_reused"
    two.refresh_from_db()
    assert two.plan == "team"


def test_keys_are_per_person(client_for, account, make_account):
    """Two people may use the same key string: each key belongs to its actor."""
    other = make_account()
    a, b = client_for("billing"), client_for("billing")
    assert (
        _post(
            a, "reassign_plan", {"target": account.external_id, "params": {"plan": "starter"}}, "k"
        ).status_code
        == 201
    )
    assert (
        _post(
            b, "reassign_plan", {"target": other.external_id, "params": {"plan": "starter"}}, "k"
        ).status_code
        == 201
    )


def _reversed_plan_change(account, user):
    run = run_action(
        name="reassign_plan", target=account, actor=user, params={"plan": "starter"}, idempotency_key="k"
    ).run
    reversal = action_run_reverse(run=run, actor=user, idempotency_key="r").run
    assert reversal.status == ActionStatus.SUCCEEDED
    return run, reversal


def test_a_reversal_cannot_be_reversed_by_the_service(account, make_user):
    billing = make_user("billing")
    _, reversal = _reversed_plan_change(account, billing)
    runs = ActionRun.objects.count()
    for call in (
        lambda: action_run_reverse(run=reversal, actor=billing, dry_run=True),
        lambda: action_run_reverse(run=reversal, actor=billing, idempotency_key="again"),
    ):
        with pytest.raises(Conflict) as info:
            call()
        assert info.value.code == "reversal_not_reversible"
        assert "itself the reversal" in info.value.message
    assert ActionRun.objects.count() == runs
    account.refresh_from_db()
    assert account.plan == "team"


def test_a_reversal_cannot_be_reversed_through_the_api(client_for, account, make_user):
    client = client_for("billing")
    run, reversal = _reversed_plan_change(account, client.user)
    response = _post(client, "reassign_plan", {"target": account.external_id, "reverses": reversal.pk}, "x")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "reversal_not_reversible"
    account.refresh_from_db()
    assert account.plan == "team"


def test_a_reversal_cannot_be_reversed_in_the_console(console_for, account):
    client = console_for("billing")
    _, reversal = _reversed_plan_change(account, client.user)
    page = client.get(f"/opsconsole/actionrun/{reversal.pk}/change/")
    assert page.status_code == 200 and b'id="reverse-run"' not in page.content
    response = client.get(f"/opsconsole/actionrun/{reversal.pk}/reverse/", follow=True)
    assert "itself the reversal" in response.content.decode()
    posted = client.post(f"/opsconsole/actionrun/{reversal.pk}/reverse/", {"preview_token": ""}, follow=True)
    assert "itself the reversal" in posted.content.decode()
    assert not ActionRun.objects.filter(reversal_of=reversal).exists()
