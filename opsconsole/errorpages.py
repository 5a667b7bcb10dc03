"""The console's 400, 403, 404 and 500 pages, and the API's JSON for the same.

A refusal says why ("Your role may not run reassign_plan.") and where to go next, in the
console's own frame; under ``/api/`` every error is the API's envelope
``{"error": {"code", "message", "details"}}``, an unknown path included (a JSON 404, never
the console's login page). A 403 is logged as one line with its reason, without a traceback.
"""

import logging

from django.contrib import admin
from django.core.exceptions import DisallowedHost
from django.http import JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from opsconsole.api.errors import error_body

logger = logging.getLogger("opsconsole.errors")

API_PREFIX = "/api/"

_PAGES = {
    400: ("bad_request", "Bad request", "The request could not be understood."),
    403: ("permission_denied", "Not allowed", "You do not have permission to do this."),
    404: ("not_found", "Not found", "There is nothing at this address."),
    500: ("server_error", "Something went wrong", "The console hit an error; it has been logged."),
}


def is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def _reason(exception) -> str:
    """The message a view raised with (PermissionDenied("Your role may not run ...")), if it is
    written for people; Django's own resolver details are not."""
    if exception is None or not exception.args:
        return ""
    message = exception.args[0]
    return message if isinstance(message, str) and len(message) < 300 else ""


def _back_url(request) -> str:
    referer = request.META.get("HTTP_REFERER", "")
    try:
        host = request.get_host()
    except DisallowedHost:
        # The error page of a request with a foreign Host header: link nowhere it names.
        return ""
    # Behind a TLS proxy the host may carry the backend's port ("testserver:80").
    hosts = {host, host.rsplit(":", 1)[0]}
    if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts=hosts):
        return referer
    return ""


def _context(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"site_header": admin.site.site_header, "site_title": admin.site.site_title}
    try:
        return admin.site.each_context(request)
    except Exception:  # an error page must not fail on its frame
        logger.exception("The error page's context failed")
        return {"site_header": admin.site.site_header, "site_title": admin.site.site_title}


def error_response(request, status: int, exception=None):
    code, title, default = _PAGES[status]
    reason = _reason(exception) if status in (403, 404) else ""
    if is_api(request):
        message = reason or default
        if status == 404 and not reason:
            message = f"No API endpoint at {request.path}."
        return JsonResponse(error_body(code, message), status=status)
    context = {
        **_context(request),
        "title": title,
        "status": status,
        "reason": reason or default,
        "back_url": _back_url(request),
        "home_url": reverse("admin:index"),
        "path": request.path,
    }
    response = TemplateResponse(request, f"opsconsole/errors/{status}.html", context, status=status)
    response.render()
    return response


def bad_request(request, exception=None):
    return error_response(request, 400, exception)


def permission_denied(request, exception=None):
    response = error_response(request, 403, exception)
    user = getattr(request, "user", None)
    logger.warning(
        "Forbidden %s %s for %s: %s",
        request.method,
        request.path,
        user.get_username() if user is not None and user.is_authenticated else "anonymous",
        _reason(exception) or "no reason given",
    )
    # Django logs a 403 again, with the traceback, unless the response says it was logged.
    response._has_been_logged = True
    return response


def page_not_found(request, exception=None):
    return error_response(request, 404, exception)


def server_error(request):
    return error_response(request, 500)


def api_not_found(request, *args, **kwargs):
    """Any path under /api/ that no endpoint claims: a JSON 404, in debug mode too."""
    return error_response(request, 404)
