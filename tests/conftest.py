"""Fixtures shared by every test: users in each role, channels and accounts built through
services. Clients (console sessions, service tokens) are in tests/helpers/clients.py."""

import itertools
import os
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.servers.basehttp import WSGIServer
from django.test import override_settings

from accounts.models import Channel
from accounts.services import account_create
from opsconsole import roles
from opsconsole.celery import app
from opsconsole.history import system_user

pytest_plugins = [
    "tests.helpers.localstripe",
    "tests.helpers.hubspot",
    "tests.helpers.zendesk",
    "tests.helpers.clients",
    "tests.helpers.second_factor",
]

_counter = itertools.count(1)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2 is slow on purpose; in tests that only costs time (about 0.3 s per user)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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


@pytest.fixture(scope="session", autouse=True)
def plain_http_in_tests():
    """Tests run with production settings (DJANGO_DEBUG unset), whose HTTPS redirect would turn
    every test-client and live-server request into a 301. Tests speak plain HTTP; the production
    HTTPS settings are checked by tests/opsconsole/test_settings.py."""
    with override_settings(SECURE_SSL_REDIRECT=False):
        yield


@pytest.fixture(scope="session", autouse=True)
def live_server_takes_a_burst():
    """Django's development server listens with a backlog of 10 connections; a burst of 50
    parallel requests (the lockout test) would see resets a production server (gunicorn's
    backlog is 2048) never gives. Set before the session's live server starts listening."""
    with mock.patch.object(WSGIServer, "request_queue_size", 128):
        yield


@pytest.fixture
def redis_url():
    """The Redis that scripts/services.py found or started (``make test`` sets TEST_REDIS_URL)."""
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.fail("TEST_REDIS_URL is not set: run the suite with `make test`, or set it to a Redis")
    return url


@pytest.fixture
def celery_worker_on_redis(redis_url):
    """A real Celery worker (a thread in this process) consuming from Redis: ``task.delay()``
    goes through the broker instead of running eagerly. Tasks that read rows the test wrote
    need ``@pytest.mark.django_db(transaction=True)``, since the worker has its own connection."""
    from celery.contrib.testing.worker import start_worker

    def use_broker_settings(values):
        app.conf.update(values)
        # The producer pools are built once from the broker URL of their first use (an eager
        # run builds them for Celery's default amqp://localhost); rebuild them for this URL.
        app._pool = None
        app.amqp._producer_pool = None

    overrides = {"broker_url": redis_url, "task_always_eager": False}
    previous = {key: app.conf[key] for key in overrides}
    use_broker_settings(overrides)
    try:
        # Messages left by an interrupted earlier run must not reach this worker.
        app.control.purge()
        with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING") as worker:
            yield worker
    finally:
        use_broker_settings(previous)


def pytest_collection_modifyitems(items):
    """Transactional tests (threads, live_server) end with a flush that empties every table,
    including the rows migrations seed (reason codes, runbooks). Serialized rollback restores
    that snapshot before each such test, so no test depends on running before another.

    The suite runs on several processes (pytest-xdist, ``--dist loadgroup``), each with its own
    test database; the tests that need the real broker share one Redis queue (and purge it), so
    they run on one process, one after another."""
    for item in items:
        if item.get_closest_marker("redis"):
            item.add_marker(pytest.mark.xdist_group("redis"))
        marker = item.get_closest_marker("django_db")
        transactional = (
            (marker is not None and marker.kwargs.get("transaction"))
            or "live_server" in item.fixturenames
            or "transactional_db" in item.fixturenames
        )
        if transactional:
            kwargs = dict(marker.kwargs) if marker is not None else {}
            kwargs.update(transaction=True, serialized_rollback=True)
            args = marker.args if marker is not None else ()
            item.add_marker(pytest.mark.django_db(*args, **kwargs), append=False)
