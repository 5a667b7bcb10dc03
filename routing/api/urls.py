from django.urls import path

from routing.api.views import TicketIntakeView

urlpatterns = [
    path("tickets/", TicketIntakeView.as_view(), name="api-ticket-intake"),
]
