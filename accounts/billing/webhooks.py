"""POST /webhooks/stripe/: check the signature, store the event once, answer at once.

Processing happens in Celery (``accounts.process_stripe_event``), so Stripe gets its 2xx
quickly and a slow or failing handler never makes Stripe redeliver.
"""

import logging

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.billing.stripe_events import SYSTEM_STRIPE, stripe_event_record
from accounts.billing.stripe_gateway import WebhookEventInvalid, WebhookSignatureInvalid, event_from_webhook
from accounts.choices import StripeEventVia
from opsconsole.api.errors import error_body
from opsconsole.history import system_user

logger = logging.getLogger("accounts.webhooks")


@csrf_exempt
@require_POST
def stripe_webhook(request):
    try:
        event = event_from_webhook(request.body, request.headers.get("Stripe-Signature"))
    except WebhookSignatureInvalid as exc:
        logger.warning("Refused a Stripe webhook from %s: %s", request.META.get("REMOTE_ADDR", "?"), exc)
        return JsonResponse(
            error_body("invalid_signature", "The Stripe signature is missing, wrong or stale."),
            status=400,
        )
    except WebhookEventInvalid as exc:
        # Signed but not an event: a 400 Stripe will not fix by retrying, and nothing is stored.
        logger.warning("Refused a signed Stripe webhook that is not an event: %s", exc)
        return JsonResponse(error_body("invalid_event", f"The body is not a Stripe event: {exc}"), status=400)
    row, created = stripe_event_record(
        event=event, via=StripeEventVia.WEBHOOK, actor=system_user(SYSTEM_STRIPE)
    )
    return JsonResponse({"received": row.stripe_id, "duplicate": not created})
