"""Clients as people and services reach the console: ``console_for("billing")`` in a test,
``logged_in(user)`` for a user the test already has, ``api_client_for("product")`` for a
service with a real token, ``https_client(APIClient)`` for nobody in particular.

Loaded with ``pytest_plugins`` (tests/conftest.py). Every client here arrives over TLS through
the proxy, as production traffic does: with DJANGO_DEBUG unset plain HTTP is redirected.
"""

import itertools

import pytest
from django.test import Client
from rest_framework.test import APIClient

from opsconsole import roles
from opsconsole.services import service_token_issue

_counter = itertools.count(1)


def https_client(client_class=Client):
    """A client of ``client_class`` (Django's ``Client`` or DRF's ``APIClient``) whose requests
    arrive over HTTPS through the proxy (``X-Forwarded-Proto``)."""
    return client_class(HTTP_X_FORWARDED_PROTO="https")


def logged_in(user, *, client_class=Client):
    """An HTTPS client of ``client_class`` with ``user``'s console session (``client.user``)."""
    client = https_client(client_class)
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def console_for(make_user):
    """``console_for(role)``: a client logged in as a new user in that role (None: no role).
    ``client_class=APIClient`` gives the same session to the API, as staff call it from the
    console."""

    def _login(role=None, *, client_class=Client):
        return logged_in(make_user(role), client_class=client_class)

    return _login


@pytest.fixture
def api_client_for(db, system):
    """``api_client_for("product")`` gives an APIClient holding a fresh token in that role."""

    def _make(role: str = roles.PRODUCT):
        token, key = service_token_issue(name=f"{role}-{next(_counter)}", role=role, actor=system)
        client = https_client(APIClient)
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        client.token = token
        return client

    return _make


@pytest.fixture
def product_api(api_client_for):
    return api_client_for(roles.PRODUCT)
