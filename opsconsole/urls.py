from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.billing.webhooks import stripe_webhook
from opsconsole import errorpages
from opsconsole.api.permissions import PublicEndpoint

urlpatterns = [
    path("webhooks/stripe/", stripe_webhook, name="stripe-webhook"),
    path("api/v1/", include("accounts.api.urls")),
    path("api/v1/", include("opsconsole.api.urls")),
    path("api/v1/", include("routing.api.urls")),
    path("api/v1/", include("reports.api.urls")),
    path(
        "api/schema/",
        SpectacularAPIView.as_view(permission_classes=[PublicEndpoint]),
        name="api-schema",
    ),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="api-schema", permission_classes=[PublicEndpoint]),
        name="api-docs",
    ),
    # Passkey ceremonies (JSON) for the sign-in steps and the security page.
    path("login/passkey/", include("opsconsole.staffauth.urls")),
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
