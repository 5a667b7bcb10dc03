"""Logged-in console clients: ``console_for("billing")`` in a test, or ``logged_in(user)``.

Loaded with ``pytest_plugins`` (tests/conftest.py). The console is served over HTTPS only:
pass ``secure=True`` on each request, or build the client with ``https=True``.
"""

import pytest
from django.test import Client


def logged_in(user, *, client_class=Client, https: bool = False):
    """A client of ``client_class`` with ``user`` logged in (``client.user``)."""
    client = client_class(HTTP_X_FORWARDED_PROTO="https") if https else client_class()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def console_for(make_user):
    """``console_for(role)``: a client logged in as a new user in that role (None: no role)."""

    def _login(role=None, *, https: bool = False):
        return logged_in(make_user(role), https=https)

    return _login
