from django.urls import path

from accounts.api import views

app_name = "accounts-api"

urlpatterns = [
    path("accounts/", views.AccountCreateView.as_view(), name="account-create"),
    path("accounts/<str:external_id>/", views.AccountDetailView.as_view(), name="account-detail"),
    path(
        "accounts/<str:external_id>/provisioning-status/",
        views.ProvisioningStatusView.as_view(),
        name="account-provisioning-status",
    ),
    path(
        "accounts/<str:external_id>/entitlements/",
        views.EntitlementsView.as_view(),
        name="account-entitlements",
    ),
    path("events/", views.EventIntakeView.as_view(), name="event-intake"),
]
