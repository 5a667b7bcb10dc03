"""``X-Request-ID``: one id per request, on its response, in its log lines and in the rows it writes.

An incoming id is kept when it is well formed (1 to 100 of ``A-Z a-z 0-9 . _ : -``), so a
caller's id follows its request through our logs; anything else is replaced by a fresh UUID.
The id lives in structlog's context variables: django-structlog binds it for the request
(and for the Celery tasks the request enqueues, through the task headers), and models that
record where they came from take :func:`current_request_id` as a field default.
"""

import re
import uuid

import structlog
from django.db import models

HEADER = "X-Request-ID"
META_KEY = "HTTP_X_REQUEST_ID"
MAX_LENGTH = 100
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{1,100}")


def is_well_formed(value: str | None) -> bool:
    return bool(value) and _WELL_FORMED.fullmatch(value) is not None


def current_request_id() -> str:
    """The id of the request (or of the task a request enqueued) running now; ``""`` outside one."""
    value = structlog.contextvars.get_contextvars().get("request_id", "")
    return str(value)[:MAX_LENGTH] if value else ""


class RequestIdMiddleware:
    """First in the stack: settle the id before django-structlog binds it, and answer with it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get(META_KEY, "")
        request_id = incoming if is_well_formed(incoming) else str(uuid.uuid4())
        # django-structlog (DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID) binds what it finds here.
        request.META[META_KEY] = request_id
        request.request_id = request_id
        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            response = self.get_response(request)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")
        response[HEADER] = request_id
        return response


def request_id_field():
    """The column a model adds to remember which request (or task) wrote each row."""
    return models.CharField(
        "X-Request-ID",
        max_length=MAX_LENGTH,
        blank=True,
        default=current_request_id,
        editable=False,
        help_text="The X-Request-ID of the request (or of the task it enqueued) that wrote this row.",
    )
