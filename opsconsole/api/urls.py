from django.urls import path

from opsconsole.api.actions import ActionRunDetailView, ActionRunView

urlpatterns = [
    path("actions/<str:name>/", ActionRunView.as_view(), name="api-action-run"),
    path("action-runs/<str:pk>/", ActionRunDetailView.as_view(), name="api-action-run-detail"),
]
