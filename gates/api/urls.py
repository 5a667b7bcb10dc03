from django.urls import path

from gates.api.views import RampStatusView

urlpatterns = [
    path("channels/<slug:code>/ramp-status/", RampStatusView.as_view(), name="api-channel-ramp-status"),
]
