from django.urls import path

from reports.api.views import ChannelReportView, CohortsView

urlpatterns = [
    path("reports/channels/", ChannelReportView.as_view(), name="api-reports-channels"),
    path("reports/cohorts/", CohortsView.as_view(), name="api-reports-cohorts"),
]
