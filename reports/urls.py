"""The report pages in the console (mounted at ``/reports/`` beside the admin, behind its login
and second factor): the channel dashboard, the cohort heat map and their SVG charts. The CSV
exports are admin URLs of their own (``reports/admin.py``)."""

from django.contrib import admin
from django.urls import path

from reports.dashboard import views

app_name = "reports"


def _console(view):
    return admin.site.admin_view(view)


urlpatterns = [
    path("dashboard/", _console(views.dashboard_view), name="dashboard"),
    path("cohorts/", _console(views.cohorts_view), name="cohorts"),
    path("charts/sparkline.svg", _console(views.sparkline_view), name="sparkline"),
    path("charts/<slug:code>.svg", _console(views.chart_view), name="chart"),
]
