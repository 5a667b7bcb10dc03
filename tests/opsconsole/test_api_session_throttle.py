"""Staff calling the API with their console session are throttled per user, on the same cache
as the service tokens (API_SESSION_RATE): past it, 429 with Retry-After and the error envelope."""

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from opsconsole.settings.env import cache_from_env
from tests.helpers.api import detail_url

pytestmark = pytest.mark.django_db


def _statuses(client, account, n: int) -> list[int]:
    return [client.get(detail_url(account.external_id)).status_code for _ in range(n)]


def _session_throttle_check(settings, console_for, api_client_for, account):
    settings.API_SESSION_RATE = "3/min"
    settings.API_TOKEN_RATE = "1000/min"
    staff = console_for("support", client_class=APIClient)
    assert _statuses(staff, account, 4) == [200, 200, 200, 429]

    refused = staff.get(detail_url(account.external_id))
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 60
    assert refused["X-Request-ID"]

    # Each user counts on their own; a service token is not counted at the session rate.
    assert _statuses(console_for("support", client_class=APIClient), account, 3) == [200] * 3
    assert _statuses(api_client_for("product"), account, 5) == [200] * 5


def test_a_staff_session_over_its_rate_gets_429_with_retry_after(
    settings, console_for, api_client_for, account
):
    caches["default"].clear()
    _session_throttle_check(settings, console_for, api_client_for, account)


def test_session_throttling_counts_in_redis_when_configured(
    settings, redis_url, console_for, api_client_for, account
):
    settings.CACHES = {"default": cache_from_env("", redis_url)}
    caches["default"].clear()
    try:
        _session_throttle_check(settings, console_for, api_client_for, account)
        assert any(b"staff_session" in k for k in caches["default"]._cache.get_client().keys("*"))
    finally:
        caches["default"].clear()


def test_the_console_pages_themselves_are_not_throttled(settings, console_for, account):
    """The rate covers the API; a person clicking through the console is never answered 429."""
    caches["default"].clear()
    settings.API_SESSION_RATE = "2/min"
    client = console_for("support")
    statuses = [client.get(f"/accounts/account/{account.pk}/change/").status_code for _ in range(4)]
    assert statuses == [200] * 4
