"""Service tokens: rotation with an overlap, revocation, expiry, last use, scopes and throttling."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.cache import caches
from django.core.management import CommandError, call_command
from django.urls import get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from opsconsole.api.scopes import TokenScopes, _walk, all_scopes, endpoints
from opsconsole.models import ServiceToken
from opsconsole.services import service_token_issue, service_token_revoke, service_token_rotate
from opsconsole.settings.env import cache_from_env
from tests.helpers.api import EVENTS_URL, detail_url
from tests.helpers.clients import https_client

pytestmark = pytest.mark.django_db


def _client(key: str) -> APIClient:
    client = https_client(APIClient)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _status(key: str, account) -> int:
    return _client(key).get(detail_url(account.external_id)).status_code


@pytest.fixture
def issued(system):
    token, key = service_token_issue(name="product-app", role="product", actor=system)
    return token, key


def test_a_rotated_token_accepts_both_keys_during_the_overlap_then_only_the_new(issued, account, system):
    token, old = issued
    token, new = service_token_rotate(token=token, overlap=timedelta(minutes=30), actor=system)

    assert new != old
    assert _status(old, account) == 200
    assert _status(new, account) == 200

    # The overlap closes (as it would 30 minutes later).
    ServiceToken.objects.filter(pk=token.pk).update(
        previous_key_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert _status(old, account) == 401
    assert _status(new, account) == 200
    assert token.history.first().history_user == system


def test_rotation_without_overlap_ends_the_old_key_at_once(issued, account, system):
    token, old = issued
    _, new = service_token_rotate(token=token, overlap=timedelta(0), actor=system)
    assert _status(old, account) == 401
    assert _status(new, account) == 200


def test_revoking_ends_both_keys(issued, account, system):
    token, old = issued
    token, new = service_token_rotate(token=token, overlap=timedelta(hours=1), actor=system)
    service_token_revoke(token=token, actor=system)
    assert _status(old, account) == 401
    assert _status(new, account) == 401


def test_an_expired_token_is_refused(system, account):
    token, key = service_token_issue(
        name="short", role="product", expires_at=timezone.now() + timedelta(hours=1), actor=system
    )
    assert _status(key, account) == 200
    ServiceToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = _client(key).get(detail_url(account.external_id))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_last_used_is_recorded_without_a_history_row(issued, account):
    token, key = issued
    history_rows = token.history.count()
    assert token.last_used_at is None
    before = timezone.now()
    _status(key, account)
    _status(key, account)
    token.refresh_from_db()
    assert token.last_used_at >= before
    assert token.history.count() == history_rows


def test_a_new_token_gets_its_roles_scopes(issued):
    token, _ = issued
    assert token.scopes == [
        "accounts:read",
        "accounts:write",
        "events:write",
        "known-issues:read",
        "tickets:write",
    ]


def test_a_token_without_the_endpoints_scope_is_refused(system, account):
    _, key = service_token_issue(name="reader", role="product", scopes=["accounts:read"], actor=system)
    client = _client(key)
    assert client.get(detail_url(account.external_id)).status_code == 200
    refused = client.post(EVENTS_URL, {"events": []}, format="json")
    assert refused.status_code == 403
    assert "events:write" in refused.json()["error"]["message"]


def test_an_unknown_scope_is_refused(system):
    with pytest.raises(Exception, match="Unknown scope"):
        service_token_issue(name="x", role="product", scopes=["everything"], actor=system)
    assert not ServiceToken.objects.exists()


def test_a_view_that_declares_no_scope_refuses_every_token(issued, rf):
    token, _ = issued

    class Request:
        auth = token
        method = "GET"

    class Undeclared:
        pass

    class Declared:
        token_scopes = {"GET": "accounts:read"}

    assert TokenScopes().has_permission(Request, Undeclared) is False
    assert TokenScopes().has_permission(Request, Declared) is True


def test_every_api_method_that_requires_permissions_declares_a_scope():
    declared = {(e.view, e.method) for e in endpoints()}
    for path, callback in _walk(get_resolver().url_patterns):
        view = getattr(callback, "cls", None)
        for method in getattr(view, "required_permissions", None) or {}:
            assert (view, method) in declared, f"{path} {method} declares no token scope"
    assert set(all_scopes()) >= {"accounts:read", "accounts:write", "events:write", "tickets:write"}


# --- Throttling -----------------------------------------------------------------------------


def _throttle_check(settings, issued, account, system):
    settings.API_TOKEN_RATE = "3/min"
    _, key = issued
    statuses = [_status(key, account) for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = _client(key).get(detail_url(account.external_id))
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 60
    # Each token counts on its own.
    _, other = service_token_issue(name="other-app", role="product", actor=system)
    assert _status(other, account) == 200


def test_a_token_over_its_rate_gets_429_with_retry_after(settings, issued, account, system):
    caches["default"].clear()
    _throttle_check(settings, issued, account, system)


def test_throttling_counts_in_redis_when_configured(settings, redis_url, issued, account, system):
    settings.CACHES = {"default": cache_from_env("", redis_url)}
    caches["default"].clear()
    try:
        _throttle_check(settings, issued, account, system)
        assert any(b"service_token" in k for k in caches["default"]._cache.get_client().keys("*"))
    finally:
        caches["default"].clear()


@pytest.mark.parametrize(
    ("cache_url", "broker", "backend"),
    [
        ("", "", "locmem"),
        ("", "redis://h:6379/1", "redis"),
        ("redis://c:6379/2", "", "redis"),
        ("locmem://", "redis://h:6379/1", "locmem"),
        ("", "amqp://guest@h//", "locmem"),
    ],
)
def test_the_cache_follows_the_environment(cache_url, broker, backend):
    assert backend in cache_from_env(cache_url, broker)["BACKEND"].lower()


def test_a_cache_url_that_is_not_understood_is_refused():
    with pytest.raises(ValueError, match="CACHE_URL"):
        cache_from_env("memcached://x", "")


# --- The command ----------------------------------------------------------------------------


def _command(*args) -> list[str]:
    out = StringIO()
    call_command("issue_service_token", *args, stdout=out)
    return out.getvalue().splitlines()


def test_the_command_issues_scoped_expiring_tokens_rotates_and_revokes(account):
    key = _command("app", "--role", "product", "--scopes", "accounts:read", "--expires-in-days", "30")[-1]
    token = ServiceToken.objects.get(name="app")
    assert token.scopes == ["accounts:read"]
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    assert _status(key, account) == 200

    new = _command("app", "--rotate", "--overlap-minutes", "5")[-1]
    assert _status(key, account) == 200 and _status(new, account) == 200

    _command("app", "--revoke")
    assert _status(key, account) == 401 and _status(new, account) == 401


def test_the_command_refuses_to_rotate_an_unknown_token():
    with pytest.raises(CommandError, match="No service token named"):
        _command("ghost", "--rotate")
