from csp.constants import SELF as CSP_SELF
from csp.constants import UNSAFE_INLINE as CSP_UNSAFE_INLINE
from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from accounts.billing.webhooks import stripe_webhook
from opsconsole import errorpages
from opsconsole.api.permissions import PublicEndpoint

urlpatterns = [
    path("webhooks/stripe/", stripe_webhook, name="stripe-webhook"),
    path("api/v1/", include("accounts.api.urls")),
    path("api/v1/", include("opsconsole.api.urls")),
    path("api/v1/", include("routing.api.urls")),
    path("api/v1/", include("reports.api.urls")),
    path("api/v1/", include("gates.api.urls")),
    path(
        "api/schema/",
        SpectacularAPIView.as_view(permission_classes=[PublicEndpoint]),
        name="api-schema",
    ),
    # The API docs, from our own static files (drf-spectacular-sidecar); the Swagger UI's setup
    # script is a separate response (``?script``), so neither page has an inline script or style.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema",
            permission_classes=[PublicEndpoint],
            template_name="opsconsole/api/swagger_ui.html",
        ),
        name="api-docs",
    ),
    # Redoc styles itself with <style> elements it writes at run time (styled-components), and
    # renders its search index in a blob: worker: this one page, which shows only the public
    # schema, allows both. Scripts stay 'self' only.
    path(
        "api/redoc/",
        csp_update({"style-src": [CSP_UNSAFE_INLINE], "worker-src": [CSP_SELF, "blob:"]})(
            SpectacularRedocView.as_view(
                url_name="api-schema",
                permission_classes=[PublicEndpoint],
                template_name="opsconsole/api/redoc.html",
            )
        ),
        name="api-redoc",
    ),
    # Passkey ceremonies (JSON) for the sign-in steps and the security page.
    path("login/passkey/", include("opsconsole.staffauth.urls")),
    # Benchmarks' bare baselines (bench/urls.py), only where the bench app is installed.
    *([path("bench/", include("bench.urls"))] if settings.BENCHMARKS else []),
    # The report pages (dashboard, cohorts, charts), behind the admin's login; before the admin,
    # whose catch-all would take them.
    path("reports/", include("reports.urls")),
    # Anything else under /api/ is a JSON 404, never the admin's catch-all (a 302 to login).
    re_path(r"^api/", errorpages.api_not_found, name="api-not-found"),
    # Last: the admin, mounted at the root, ends in a catch-all that would swallow the API.
    path("", admin.site.urls),
]

# Styled console pages that say why; the API's JSON envelope under /api/.
handler400 = errorpages.bad_request
handler403 = errorpages.permission_denied
handler404 = errorpages.page_not_found
handler500 = errorpages.server_error
