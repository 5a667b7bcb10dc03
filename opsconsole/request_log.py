"""One structured log line per request: ``request_finished`` (or ``request_failed`` for a 500,
with its traceback), carrying the request id, method, path, status, user and duration.

django-structlog's ``RequestMiddleware`` writes a ``request_started`` line as well, and two
``streaming_*`` lines around a streamed response (the CSV exports): three or four lines for one
request. This subclass keeps its context handling (the request id bound for every line the
request writes, and the Celery tasks it enqueues) and its failure hook, and writes one line:

- at the response, for every status but an unhandled exception (4xx as a warning);
- ``request_failed`` instead, at error level with the traceback, for an exception Django
  turns into a 500;
- for a streamed response, one more line only if the stream breaks (``streaming_failed``,
  with the traceback): an error is never silent.
"""

import time
from collections.abc import Iterator

import structlog
from django.core.exceptions import PermissionDenied
from django.http import Http404, StreamingHttpResponse
from django.utils.functional import empty
from django_structlog.middlewares import RequestMiddleware

logger = structlog.getLogger("opsconsole.requests")

_STARTED = "_opsconsole_log_started"


def _username(request) -> str:
    """Who made the request, without loading a session nobody looked at ("-": nobody)."""
    user = getattr(request, "__dict__", {}).get("user")
    if user is None or getattr(user, "_wrapped", None) is empty:
        return "-"
    return user.get_username() if user.is_authenticated else "-"


def _fields(request, status: int) -> dict:
    started = getattr(request, _STARTED, None)
    duration = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
    return {
        "method": request.method,
        "path": request.path,
        "status": status,
        "user": _username(request),
        "duration_ms": duration,
    }


def _logged_if_broken(content: Iterator[bytes], context: dict) -> Iterator[bytes]:
    try:
        yield from content
    except Exception:
        with structlog.contextvars.bound_contextvars(**context):
            logger.exception("streaming_failed")
        raise


class RequestLogMiddleware(RequestMiddleware):
    sync_capable = True
    async_capable = False

    def prepare(self, request) -> None:
        # The id RequestIdMiddleware settled (and bound); nothing is logged yet.
        setattr(request, _STARTED, time.perf_counter())
        request_id = getattr(request, "request_id", None)
        if request_id:
            structlog.contextvars.bind_contextvars(request_id=request_id)

    def handle_response(self, request, response) -> None:
        if hasattr(request, "_raised_exception"):
            # request_failed said it, with the traceback.
            delattr(request, "_raised_exception")
            structlog.contextvars.clear_contextvars()
            return
        status = response.status_code
        logger.log(self._log_level_for_status_code(status), "request_finished", **_fields(request, status))
        if isinstance(response, StreamingHttpResponse) and not response.is_async:
            context = structlog.contextvars.get_contextvars()
            response.streaming_content = _logged_if_broken(response.streaming_content, context)
        structlog.contextvars.clear_contextvars()

    def _process_exception(self, request, exception: Exception) -> None:
        if isinstance(exception, (Http404, PermissionDenied)):
            return  # answered 404/403: request_finished says so
        request._raised_exception = exception
        logger.exception("request_failed", **_fields(request, 500))
