"""Small helpers the API tests share: URLs, signup bodies and the error shape."""

import itertools

from django.urls import reverse

_numbers = itertools.count(1)

ACCOUNTS_URL = reverse("accounts-api:account-create")
EVENTS_URL = reverse("accounts-api:event-intake")


def detail_url(external_id: str) -> str:
    return reverse("accounts-api:account-detail", args=[external_id])


def provisioning_url(external_id: str) -> str:
    return reverse("accounts-api:account-provisioning-status", args=[external_id])


def entitlements_url(external_id: str) -> str:
    return reverse("accounts-api:account-entitlements", args=[external_id])


def signup_body(channel_code: str, **fields) -> dict:
    n = next(_numbers)
    body = {
        "external_id": f"prod_{n}",
        "name": f"Signup {n}",
        "admin_email": f"owner{n}@signup{n}.example.com",
        "shape": "self_serve_team",
        "channel": channel_code,
    }
    body.update(fields)
    return body


def create_account(client, body: dict, key: str | None = None):
    """POST a signup with an Idempotency-Key (a fresh one unless given)."""
    key = key or f"key-{next(_numbers)}"
    return client.post(ACCOUNTS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def error_code(response) -> str:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    return body["error"]["code"]
