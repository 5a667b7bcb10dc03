"""Stripe objects and events as Stripe sends them, built by hand for tests that post webhooks or
store events without a Stripe server (``tests/helpers/localstripe.py`` is the server)."""

import hashlib
import hmac
import time
import uuid

WEBHOOK_SECRET = "whsec_test_secret"


def sign(payload: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header as Stripe computes it."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def make_event(
    event_type: str, obj: dict, *, created: int | None = None, event_id: str | None = None
) -> dict:
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()) if created is None else created,
        "data": {"object": obj},
        "livemode": False,
        "api_version": "2017-08-15",
    }


def subscription_object(
    *, sub_id="sub_1", customer="cus_1", plan="team", status="active", period_end=2_000_000_000
) -> dict:
    """A subscription on one monthly plan of 199.00, in localstripe's (Plans) shape."""
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "trial_end": None,
        "current_period_end": period_end,
        "metadata": {},
        "items": {
            "data": [
                {"id": "si_1", "quantity": 1, "plan": {"id": plan, "amount": 19_900, "interval": "month"}}
            ]
        },
    }
