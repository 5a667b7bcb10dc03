"""Reports in the console: the metric snapshots (read-only, with their history) and the CSV
exports the dashboard links to (``admin:reports_export_channels``, ``..._cohorts``,
``..._cohort_accounts``), and the Support page (``admin:reports_support``)."""

from django.contrib import admin
from django.urls import path

from opsconsole.adminkit import ReadOnlyHistoryAdmin
from reports import support_page, views
from reports.models import MetricSnapshot


@admin.register(MetricSnapshot)
class MetricSnapshotAdmin(ReadOnlyHistoryAdmin):
    list_display = ("period", "channel", "metric", "value", "numerator", "denominator", "complete", "pending")
    list_filter = ("metric", "channel", "complete", "version")
    list_select_related = ("channel",)
    date_hierarchy = "period"
    list_per_page = 100

    def get_urls(self):
        exports = [
            ("export/channels.csv", views.channel_report_export, "reports_export_channels"),
            ("export/cohorts.csv", views.cohorts_export, "reports_export_cohorts"),
            ("export/cohort-accounts.csv", views.cohort_accounts_export, "reports_export_cohort_accounts"),
        ]
        support = self.admin_site.admin_view(
            lambda request: support_page.support_view(request, self.admin_site)
        )
        return (
            [path(route, self.admin_site.admin_view(view), name=name) for route, view, name in exports]
            + [path("support/", support, name="reports_support")]
            + super().get_urls()
        )


# The constraint pages (issue 12) and the cost model's inputs.
from reports.pages import admin as constraint_pages  # noqa: E402, F401
