"""``Idempotency-Key`` for API writes: the one request-level flow every idempotent endpoint uses.

The ledger (``opsconsole.services.idempotency_*``) does the database work; this module ties it
to a DRF request: it requires the header, fingerprints the body, claims the key, runs the
effect and stores its response in the same transaction, and replays that response later.
"""

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from opsconsole.errors import ValidationFailed
from opsconsole.services import idempotency_claim, idempotency_complete, idempotency_release

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    name=HEADER,
    # 1 to 255 characters, not all whitespace (the key is stripped before use).
    type={"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"\S"},
    location=OpenApiParameter.HEADER,
    required=True,
    description=(
        "A client-chosen key (1 to 255 characters) naming this request. Retrying with the same "
        "key and body replays the first response with `Idempotent-Replayed: true`; the same key "
        "with another body answers 422 `idempotency_key_reused`; while the first request is "
        "still running the answer is 409 `idempotency_request_in_flight`."
    ),
)

REPLAYED_HEADER_PARAMETER = OpenApiParameter(
    name=REPLAYED_HEADER,
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    response=[200, 201, 202],  # success answers only: errors are never stored or replayed
    description="`true` when this is the stored response of an earlier request with the same key.",
)


def _as_json(value: Any) -> Any:
    """The value as plain JSON types, exactly as the client will receive it."""
    return json.loads(json.dumps(value, cls=JSONEncoder))


def request_fingerprint(data: Any) -> str:
    """A hash of the canonical JSON body: key order and whitespace do not make a new request."""
    canonical = json.dumps(_as_json(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent_response(request, *, scope: str, perform: Callable[[], tuple[int, Any]]) -> Response:
    """Run ``perform`` at most once per (user, scope, Idempotency-Key) and answer for it.

    ``perform`` returns ``(status, body)``. It runs in the transaction that also stores the
    response, so the effect and the ledger entry commit together. If it raises, the claim is
    released and the error propagates: a refused request does not use up the key.
    """
    key = request.headers.get(HEADER, "").strip()
    if not key:
        raise ValidationFailed(
            "idempotency_key_required", f"This endpoint needs an {HEADER} header.", {"header": HEADER}
        )
    outcome = idempotency_claim(
        principal=request.user, scope=scope, key=key, fingerprint=request_fingerprint(request.data)
    )
    record = outcome.record
    if outcome.replay:
        replayed = {REPLAYED_HEADER: "true"}
        return Response(record.response_body, status=record.response_status, headers=replayed)
    try:
        with transaction.atomic():
            status, body = perform()
            body = _as_json(body)
            idempotency_complete(record=record, status=status, body=body)
    except BaseException:
        idempotency_release(record=record)
        raise
    return Response(body, status=status)
