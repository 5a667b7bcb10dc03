"""The client address the lockout and the audit record: the connection's, or behind trusted
proxies the one the nearest proxy saw (never what the client wrote into X-Forwarded-For)."""

import pytest
from django.test import RequestFactory

from opsconsole.staffauth.requests import client_ip, user_agent


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "", "192.0.2.10"),
        (0, "203.0.113.5", "192.0.2.10"),  # no trusted proxy: the header is ignored
        (1, "203.0.113.5", "203.0.113.5"),
        (1, "6.6.6.6, 203.0.113.5", "203.0.113.5"),  # the client's own claim stays ignored
        (2, "6.6.6.6, 203.0.113.5, 198.51.100.1", "203.0.113.5"),
        (2, "203.0.113.5", "192.0.2.10"),  # fewer hops than proxies: the connection's
        (1, "not-an-ip", "192.0.2.10"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_ip(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == expected


def test_user_agent_is_kept_short():
    request = RequestFactory().get("/", HTTP_USER_AGENT="x" * 2000)

    assert len(user_agent(request)) == 512
