"""schemathesis against /api/schema/: every operation, every check, bounded and seeded.

Each operation gets at most MAX_EXAMPLES generated cases per phase (examples, coverage,
fuzzing), with a fixed seed, so the run is the same each time and stays well under a minute.
The requests go through the whole WSGI stack (middleware, auth, throttles) with a token that
holds every scope, as a service user in the product, analytics and ops_lead roles.

Two facts the schema cannot state are supplied as test data, as schemathesis recommends for
identifiers: an account's ``channel`` must name a channel that exists (the one the fixture
makes), and a report's ``until`` must come after its ``since``, within 366 days. Only positive cases are
filtered for them; a negative case is sent as generated.
"""

import datetime as dt

import pytest
import schemathesis
from django.contrib.auth.models import Group
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, settings

from opsconsole import roles
from opsconsole.api.scopes import all_scopes
from opsconsole.services import service_token_issue

MAX_EXAMPLES = 5
SEED = 20261201


@pytest.fixture
def wsgi_keeps_the_test_connection():
    """As Django's test client does: the handler must not close the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _https() -> dict:
    return {"X-Forwarded-Proto": "https"}


# schemathesis calls the app as host "localhost", which production settings don't allow.
FUZZ_HOST = "localhost"

# Loaded once at collection, through the app itself (the schema view reads no database).
with override_settings(ALLOWED_HOSTS=[FUZZ_HOST]):
    schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler(), headers=_https())
# The channel every database has (a migration makes it); a signup may name it.
KNOWN_CHANNEL = "unattributed"
# A report's window: until after since, at most this long (the reports API refuses longer).
REPORT_MAX_DAYS = 366


@schema.hook("filter_case")
def only_meaningful_positive_cases(ctx, case):
    if case.meta is None or case.meta.generation.mode.is_negative:
        return True
    body, query = case.body, case.query or {}
    if isinstance(body, dict) and body.get("channel") not in (None, KNOWN_CHANNEL):
        body["channel"] = KNOWN_CHANNEL
    since, until = query.get("since"), query.get("until")
    if isinstance(since, str) and isinstance(until, str):
        try:
            days = (dt.date.fromisoformat(until) - dt.date.fromisoformat(since)).days
            return 0 < days <= REPORT_MAX_DAYS
        except ValueError:
            return True
    return True


SENT: dict[str, int] = {}


@schema.hook("after_call")
def count_cases(ctx, case, response):
    SENT[case.operation.label] = SENT.get(case.operation.label, 0) + 1


@pytest.fixture
def token_headers(db, system, settings, wsgi_keeps_the_test_connection):
    settings.API_TOKEN_RATE = "100000/min"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, FUZZ_HOST]
    token, key = service_token_issue(name="fuzzer", role=roles.PRODUCT, scopes=all_scopes(), actor=system)
    token.user.groups.add(*Group.objects.filter(name__in=[roles.ANALYTICS, roles.OPS_LEAD]))
    return {**_https(), "Authorization": f"Token {key}"}


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, token_headers):
    case.call_and_validate(headers={**token_headers, **(case.headers or {})})
    print(f"schemathesis: {case.operation.label}: {SENT.get(case.operation.label)} cases so far")
