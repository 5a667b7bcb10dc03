"""Who may call which endpoint with which method: the role x endpoint matrix of REST API v1.

Staff roles may read accounts but not create them or post events; the product service role
may do both; anything a role does not grant is 403, and a missing or revoked credential 401.
"""

from datetime import timedelta

import pytest
from django.urls import get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Account, AccountEvent
from opsconsole import roles
from opsconsole.services import service_token_revoke
from tests.helpers import api
from tests.helpers.clients import https_client

pytestmark = pytest.mark.django_db

STAFF = roles.STAFF_ROLES
PRINCIPALS = (*STAFF, roles.PRODUCT, "no_role", "anonymous", "revoked_token")

# endpoint name -> (method, url builder, body builder or None, {principal group: status})
# Groups: "product", "staff" (every staff role), "no_role", "anonymous", "revoked_token".
READ = {"product": 200, "staff": 200}
REFUSED = {"product": 403, "staff": 403}

ENDPOINTS = {
    "create account": ("post", lambda a: api.ACCOUNTS_URL, "signup", {"product": 201, "staff": 403}),
    "account detail": ("get", lambda a: api.detail_url(a.external_id), None, READ),
    "provisioning status": ("get", lambda a: api.provisioning_url(a.external_id), None, READ),
    "entitlements": ("get", lambda a: api.entitlements_url(a.external_id), None, READ),
    "post events": ("post", lambda a: api.EVENTS_URL, "event", {"product": 200, "staff": 403}),
    # Methods no view declares are refused for everyone, the product included (fail closed).
    "list accounts": ("get", lambda a: api.ACCOUNTS_URL, None, REFUSED),
    "replace account": ("put", lambda a: api.detail_url(a.external_id), "signup", REFUSED),
    "patch account": ("patch", lambda a: api.detail_url(a.external_id), "signup", REFUSED),
    "delete account": ("delete", lambda a: api.detail_url(a.external_id), None, REFUSED),
    "post to detail": ("post", lambda a: api.detail_url(a.external_id), "signup", REFUSED),
    "write provisioning status": ("post", lambda a: api.provisioning_url(a.external_id), "event", REFUSED),
    "delete entitlements": ("delete", lambda a: api.entitlements_url(a.external_id), None, REFUSED),
    "list events": ("get", lambda a: api.EVENTS_URL, None, REFUSED),
}

CREDENTIAL_REFUSALS = {"no_role": 403, "anonymous": 401, "revoked_token": 401}
ERROR_CODES = {"anonymous": "not_authenticated", "revoked_token": "authentication_failed"}
COVERED_ROUTES = {
    "account-create",
    "account-detail",
    "account-provisioning-status",
    "account-entitlements",
    "event-intake",
}


def expected_status(principal: str, endpoint: str) -> int:
    if principal in CREDENTIAL_REFUSALS:
        return CREDENTIAL_REFUSALS[principal]
    group = "staff" if principal in STAFF else principal
    return ENDPOINTS[endpoint][3][group]


@pytest.fixture
def client_for(console_for, api_client_for, system):
    def _make(principal: str):
        if principal == roles.PRODUCT:
            return api_client_for(roles.PRODUCT)
        if principal == "revoked_token":
            client = api_client_for(roles.PRODUCT)
            service_token_revoke(token=client.token, actor=system)
            return client
        if principal == "anonymous":
            return https_client(APIClient)
        # Staff (and a user with no role) use the console session, as people do.
        return console_for(None if principal == "no_role" else principal, client_class=APIClient)

    return _make


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("principal", PRINCIPALS)
def test_role_endpoint_matrix(principal, endpoint, client_for, make_account, channel):
    account = make_account(signed_up_at=timezone.now() - timedelta(days=1))
    method, url, body_kind, _ = ENDPOINTS[endpoint]
    bodies = {
        "signup": api.signup_body(channel.code),
        "event": {
            "event_id": f"perm-{principal}-{endpoint}",
            "account": account.external_id,
            "type": "user.login",
            "occurred_at": timezone.now().isoformat(),
        },
        None: None,
    }
    client = client_for(principal)
    before = (Account.objects.count(), AccountEvent.objects.count())

    response = getattr(client, method)(
        url(account), bodies[body_kind], format="json", HTTP_IDEMPOTENCY_KEY=f"perm-{principal}"
    )

    expected = expected_status(principal, endpoint)
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert api.error_code(response) == ERROR_CODES.get(principal, "permission_denied")
        assert (Account.objects.count(), AccountEvent.objects.count()) == before


def test_the_matrix_covers_every_accounts_api_route():
    """A new route without rows in the matrix fails here, so it cannot skip the review."""
    _, namespace = get_resolver().namespace_dict["accounts-api"]
    routes = {name for name in namespace.reverse_dict if isinstance(name, str)}
    assert routes == COVERED_ROUTES


def test_a_staff_role_holding_a_service_token_is_still_held_to_its_role(api_client_for, account):
    """Roles, not the kind of credential, decide: a support token cannot create accounts."""
    support = api_client_for(roles.SUPPORT)
    response = support.post(
        api.ACCOUNTS_URL, api.signup_body(account.channel.code), format="json", HTTP_IDEMPOTENCY_KEY="s1"
    )
    assert response.status_code == 403
    assert support.get(api.detail_url(account.external_id)).status_code == 200
