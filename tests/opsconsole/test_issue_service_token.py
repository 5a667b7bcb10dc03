"""``manage.py issue_service_token``: the key on the last line works; bad input is refused."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from opsconsole.models import ServiceToken
from tests.helpers.api import detail_url
from tests.helpers.clients import https_client

pytestmark = pytest.mark.django_db


def _issue(*args) -> list[str]:
    out = StringIO()
    call_command("issue_service_token", *args, stdout=out)
    return out.getvalue().splitlines()


def test_the_last_line_is_a_key_that_authenticates_as_the_role(account):
    lines = _issue("product-app", "--role", "product")
    assert len(lines) > 1  # the explanation comes first
    key = lines[-1]
    token = ServiceToken.objects.get(name="product-app")
    assert token.user.groups.get().name == "product"
    assert token.key_prefix == key[:8]
    assert key not in token.key_hash  # only the hash is stored

    client = https_client(APIClient)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(detail_url(account.external_id)).status_code == 200
    assert token.history.earliest("history_date").history_user.username == "system:cli"


def test_an_unknown_role_is_refused_with_the_roles_listed():
    with pytest.raises(CommandError, match=r"Unknown role 'wizard'; one of: support, .*product"):
        _issue("x", "--role", "wizard")
    assert not ServiceToken.objects.exists()


def test_an_existing_name_is_refused():
    _issue("product-app", "--role", "product")
    with pytest.raises(CommandError, match="already exists"):
        _issue("product-app", "--role", "product")
    assert ServiceToken.objects.count() == 1


def test_the_role_is_required():
    with pytest.raises(CommandError, match="--role"):
        _issue("no-role")


def test_an_analytics_token_reads_the_reports_api_and_nothing_else(account):
    key = _issue("warehouse", "--role", "analytics")[-1]
    client = https_client(APIClient)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/reports/channels/?since=2026-11-01&until=2026-12-01").status_code == 200
    assert client.get(detail_url(account.external_id)).status_code == 403
