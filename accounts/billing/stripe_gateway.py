"""The one place that talks to Stripe, through the official SDK.

Everything returns plain dicts (stripe 16's ``StripeObject`` is not a dict), so callers never
depend on the SDK's object model. Rate limits, 5xx answers and timeouts are retried here with
exponential backoff and jitter; the SDK's own retries are off so there is one retry policy.
What a subscription's pricing says (its plan, its monthly amount, where its period ends) is
read here only: localstripe knows Plans, real Stripe has Prices, and this adapter reads either.
The account id our objects carry in their metadata is written and read here too.
"""

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import stripe
from django.conf import settings

logger = logging.getLogger("accounts.stripe")

PAGE_SIZE = 100  # Stripe's maximum page size.
WEBHOOK_TOLERANCE_SECONDS = 300
REQUEST_TIMEOUT_SECONDS = 20.0
MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 30.0


class StripeUnavailable(Exception):
    """Stripe kept failing with retryable errors after every attempt."""


class StripeNotFound(Exception):
    """Stripe answered 404 for the object asked for."""


class WebhookSignatureInvalid(Exception):
    """The payload is not signed by our endpoint secret, or the signature is stale."""


@dataclass(frozen=True)
class Page:
    objects: list[dict]
    has_more: bool

    @property
    def last_id(self) -> str | None:
        return self.objects[-1]["id"] if self.objects else None


_clients: dict[tuple, stripe.StripeClient] = {}


def client() -> stripe.StripeClient:
    """A client for the configured key and base address (one per configuration and process:
    it only caches an HTTP session, so every worker builds the same thing)."""
    config = (settings.STRIPE_API_KEY, settings.STRIPE_API_BASE, REQUEST_TIMEOUT_SECONDS)
    if config not in _clients:
        _clients[config] = stripe.StripeClient(
            settings.STRIPE_API_KEY or "sk_test_unset",
            base_addresses={"api": settings.STRIPE_API_BASE},
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=REQUEST_TIMEOUT_SECONDS),
        )
    return _clients[config]


def is_retryable(exc: Exception) -> bool:
    if isinstance(exc, stripe.RateLimitError | stripe.APIConnectionError):
        return True
    status = getattr(exc, "http_status", None)
    if status is not None:
        return status == 429 or status >= 500
    return isinstance(exc, stripe.APIError)


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with equal jitter: half fixed, half random, capped."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * (2**attempt))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


RetryHook = Callable[[Exception], None]


def call(
    fn: Callable[[], Any],
    *,
    what: str,
    on_retry: RetryHook | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Any:
    """Run one Stripe request, retrying 429s, 5xx and timeouts; other errors raise at once."""
    for attempt in range(MAX_ATTEMPTS):
        try:
            return fn()
        except stripe.StripeError as exc:
            if not is_retryable(exc):
                raise
            if attempt == MAX_ATTEMPTS - 1:
                raise StripeUnavailable(f"{what}: {exc.__class__.__name__}: {exc}") from exc
            delay = backoff_seconds(attempt)
            if on_retry is not None:
                on_retry(exc)
            logger.warning(
                "Stripe %s failed (%s, status %s); retry %d in %.2fs",
                what,
                exc.__class__.__name__,
                getattr(exc, "http_status", None),
                attempt + 1,
                delay,
            )
            sleep(delay)
    raise AssertionError("unreachable")


def _plain(obj) -> dict:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _page(service, what: str, on_retry: RetryHook | None = None, **params) -> Page:
    params = {k: v for k, v in params.items() if v is not None}
    params.setdefault("limit", PAGE_SIZE)
    result = call(lambda: service.list(params=params), what=what, on_retry=on_retry)
    return Page(objects=[_plain(o) for o in result.data], has_more=bool(result.has_more))


# --- Reads --------------------------------------------------------------------------------


def _retrieve(fn: Callable[[], Any], what: str) -> dict:
    try:
        return _plain(call(fn, what=what))
    except stripe.InvalidRequestError as exc:
        if getattr(exc, "http_status", None) == 404:
            raise StripeNotFound(what) from exc
        raise


def customer_retrieve(customer_id: str) -> dict:
    return _retrieve(lambda: client().v1.customers.retrieve(customer_id), f"customer {customer_id}")


def subscription_retrieve(subscription_id: str) -> dict:
    return _retrieve(
        lambda: client().v1.subscriptions.retrieve(subscription_id), f"subscription {subscription_id}"
    )


def subscriptions_page(*, starting_after: str | None = None, on_retry: RetryHook | None = None) -> Page:
    """One page of every subscription, canceled ones included (they prove a cancellation)."""
    subscriptions = client().v1.subscriptions
    return _page(subscriptions, "subscriptions list", on_retry, status="all", starting_after=starting_after)


def customers_page(*, starting_after: str | None = None, on_retry: RetryHook | None = None) -> Page:
    return _page(client().v1.customers, "customers list", on_retry, starting_after=starting_after)


def customer_subscriptions(customer_id: str) -> list[dict]:
    """Every subscription of one customer, ended ones included (a customer has a handful)."""
    subscriptions = client().v1.subscriptions
    return _page(subscriptions, f"subscriptions of {customer_id}", customer=customer_id, status="all").objects


def events_page(
    *, created_gte: int | None = None, starting_after: str | None = None, on_retry: RetryHook | None = None
) -> Page:
    created = {"gte": created_gte} if created_gte is not None else None
    return _page(client().v1.events, "events list", on_retry, created=created, starting_after=starting_after)


# --- Reading Stripe objects ---------------------------------------------------------------

# Where our objects in Stripe (customers, subscriptions, sessions) name their account.
ACCOUNT_METADATA_KEY = "account_external_id"


def metadata_account(obj: dict) -> str:
    """The account a Stripe object names in its metadata (our external id), or ""."""
    return (obj.get("metadata") or {}).get(ACCOUNT_METADATA_KEY, "") or ""


def subscription_item(subscription: dict) -> dict | None:
    items = (subscription.get("items") or {}).get("data") or []
    return items[0] if items else None


def _pricing(item: dict) -> dict:
    """The one adapter between Stripe's two pricing models: an item's Price, or the Plan
    localstripe (and older Stripe) puts in its place."""
    return item.get("price") or item.get("plan") or {}


def subscription_plan_code(subscription: dict) -> str | None:
    """Our plan code for a subscription: the price's lookup key or metadata, else the plan id."""
    item = subscription_item(subscription)
    if item is None:
        return None
    pricing = _pricing(item)
    metadata = pricing.get("metadata") or {}
    return pricing.get("lookup_key") or metadata.get("plan_code") or pricing.get("id")


def subscription_monthly_cents(subscription: dict) -> int:
    """What the subscription bills a month, in cents: a yearly price counts a twelfth."""
    item = subscription_item(subscription) or {}
    pricing = _pricing(item)
    amount = (pricing.get("unit_amount") or pricing.get("amount") or 0) * (item.get("quantity") or 1)
    interval = (pricing.get("recurring") or {}).get("interval") or pricing.get("interval") or "month"
    return amount // 12 if interval == "year" else amount


def subscription_period_end(subscription: dict) -> int | None:
    """When the current period ends (epoch seconds): on the subscription in older API
    versions, on its item in newer ones."""
    item = subscription_item(subscription) or {}
    return subscription.get("current_period_end") or item.get("current_period_end")


# --- Writes -------------------------------------------------------------------------------


def subscription_set_plan(subscription_id: str, plan_code: str) -> dict:
    """Move a subscription's single item to ``plan_code`` (a Price id/lookup key or a Plan id)."""
    subscription = subscription_retrieve(subscription_id)
    item = subscription_item(subscription)
    if item is None:
        raise ValueError(f"Subscription {subscription_id} has no item to change.")
    key = "price" if item.get("price") else "plan"
    return _plain(
        call(
            lambda: client().v1.subscriptions.update(
                subscription_id, params={"items": [{"id": item["id"], key: plan_code}]}
            ),
            what="subscription set plan",
        )
    )


def customer_name_account(customer_id: str, account_external_id: str) -> dict:
    """Put the account's id in the customer's metadata, where every later sync looks first."""
    params = {"metadata": {ACCOUNT_METADATA_KEY: account_external_id}}
    return _plain(
        call(lambda: client().v1.customers.update(customer_id, params=params), what="customer update")
    )


def customer_delete(customer_id: str) -> dict:
    return _plain(call(lambda: client().v1.customers.delete(customer_id), what="customer delete"))


# --- Webhooks -----------------------------------------------------------------------------


class WebhookEventInvalid(Exception):
    """A correctly signed body that is not a Stripe event (not an object, no id, odd fields)."""


# Deeper than this is no Stripe event; refusing it early keeps the parser and JSONB out of it.
WEBHOOK_MAX_DEPTH = 64


def _signed_at(signature_header: str) -> int | None:
    for part in signature_header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isascii() and value.isdigit():
            return int(value)
    return None


def _too_deep(payload: bytes) -> bool:
    """Whether brackets nest deeper than WEBHOOK_MAX_DEPTH, counted outside strings (no parse)."""
    depth, in_string, escaped = 0, False, False
    for byte in payload:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > WEBHOOK_MAX_DEPTH:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def _check_event_shape(event) -> dict:
    if not isinstance(event, dict):
        raise WebhookEventInvalid(f"The body is a JSON {type(event).__name__}, not an event object.")
    if not isinstance(event.get("id"), str) or not event["id"].strip():
        raise WebhookEventInvalid("The event has no id.")
    if len(event["id"]) > 255:
        raise WebhookEventInvalid("The event id is too long.")
    if not isinstance(event.get("type"), str) or not event["type"] or len(event["type"]) > 100:
        raise WebhookEventInvalid("The event has no type.")
    created = event.get("created")
    if created is not None and (isinstance(created, bool) or not isinstance(created, int) or created < 0):
        raise WebhookEventInvalid("`created` is not a Unix time in seconds.")
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise WebhookEventInvalid("`data.object` is not an object.")
    object_id = data["object"].get("id", "")
    if object_id is not None and not isinstance(object_id, str):
        raise WebhookEventInvalid("`data.object.id` is not a string.")
    return event


def event_from_webhook(payload: bytes, signature_header: str | None) -> dict:
    """The event in a webhook body, after checking its signature over the raw bytes.

    Raises WebhookSignatureInvalid for a missing, wrong, stale or future-dated signature, and
    WebhookEventInvalid for a signed body that is not an event of the shape Stripe sends.
    """
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise WebhookSignatureInvalid("STRIPE_WEBHOOK_SECRET is not configured.")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Stripe sends UTF-8 JSON; no signature makes other bytes an event.
        raise WebhookEventInvalid("The body is not UTF-8.") from exc
    try:
        stripe.WebhookSignature.verify_header(
            text,
            signature_header or "",
            secret,
            tolerance=WEBHOOK_TOLERANCE_SECONDS,
        )
    except stripe.SignatureVerificationError as exc:
        raise WebhookSignatureInvalid(str(exc)) from exc
    # Stripe's check bounds the age only; a signature from the future is as suspect as a stale one.
    signed_at = _signed_at(signature_header or "")
    if signed_at is None or signed_at > time.time() + WEBHOOK_TOLERANCE_SECONDS:
        raise WebhookSignatureInvalid("The signature's timestamp is in the future.")
    if _too_deep(payload):
        raise WebhookEventInvalid(f"The body nests deeper than {WEBHOOK_MAX_DEPTH} levels.")
    try:
        event = json.loads(payload)
    except (ValueError, RecursionError) as exc:
        raise WebhookEventInvalid(f"The body is not JSON: {exc}") from exc
    return _check_event_shape(event)
