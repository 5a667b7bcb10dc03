from django.urls import path

from routing.api.views import TicketIntakeView
from routing.support.api import KnownIssueListView, TicketUpdateView

urlpatterns = [
    path("tickets/", TicketIntakeView.as_view(), name="api-ticket-intake"),
    path(
        "tickets/<str:source>/<str:external_id>/updates/",
        TicketUpdateView.as_view(),
        name="api-ticket-updates",
    ),
    path("known-issues/", KnownIssueListView.as_view(), name="api-known-issues"),
]
