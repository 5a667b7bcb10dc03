"""Fixtures shared by every test: users in each role, channels and accounts built through
services, and an API client that authenticates with a real service token."""

import itertools

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from accounts.models import Channel
from accounts.services import account_create
from opsconsole import roles
from opsconsole.history import system_user
from opsconsole.services import service_token_issue

pytest_plugins = ["tests.localstripe"]

_counter = itertools.count(1)


@pytest.fixture
def make_user(db):
    """``make_user("support")`` gives a staff user in that role (None: no role)."""

    def _make(role: str | None = None, *, username: str | None = None, **extra):
        User = get_user_model()
        user = User.objects.create_user(
            username=username or f"{role or 'user'}{next(_counter)}",
            password="pw-for-tests-only",
            is_staff=role in roles.STAFF_ROLES,
            **extra,
        )
        if role:
            user.groups.add(Group.objects.get(name=role))
        return User.objects.get(pk=user.pk)

    return _make


@pytest.fixture
def system(db):
    return system_user("system:tests")


@pytest.fixture
def make_channel(db):
    def _make(code: str | None = None, **fields):
        code = code or f"channel-{next(_counter)}"
        fields.setdefault("name", code.replace("-", " ").title())
        fields.setdefault("kind", "paid_search")
        return Channel.objects.create(code=code, **fields)

    return _make


@pytest.fixture
def channel(make_channel):
    return make_channel("paid-search", kind="paid_search", support_sla_minutes=120)


@pytest.fixture
def make_account(db, channel, system):
    def _make(**fields):
        n = next(_counter)
        fields.setdefault("external_id", f"acct_{n}")
        fields.setdefault("name", f"Account {n}")
        fields.setdefault("admin_email", f"admin{n}@example{n}.com")
        fields.setdefault("shape", "self_serve_team")
        fields.setdefault("channel", channel)
        actor = fields.pop("actor", system)
        return account_create(**fields, actor=actor)

    return _make


@pytest.fixture
def account(make_account):
    return make_account()


@pytest.fixture
def api_client_for(db, system):
    """``api_client_for("product")`` gives an APIClient holding a fresh token in that role."""

    def _make(role: str = roles.PRODUCT):
        token, key = service_token_issue(name=f"{role}-{next(_counter)}", role=role, actor=system)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        client.token = token
        return client

    return _make


@pytest.fixture
def product_api(api_client_for):
    return api_client_for(roles.PRODUCT)


def pytest_collection_modifyitems(items):
    """Every transactional test starts from the migrated seed data (reason codes, roles,
    routing's default rules): without serialized rollback the flush after one transactional
    test would leave the next one with empty catalogues, depending on test order."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is None or not marker.kwargs.get("transaction") or marker.kwargs.get("serialized_rollback"):
            continue
        item.add_marker(
            pytest.mark.django_db(*marker.args, **marker.kwargs, serialized_rollback=True), append=False
        )
