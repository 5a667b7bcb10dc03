"""The constraint pages' addresses, hung on the cost model's admin (``admin:reports_constraints_*``)."""

from django.contrib import admin
from django.shortcuts import redirect
from django.urls import path

from opsconsole.adminkit import HistoryAdmin
from opsconsole.roles import VIEW_DASHBOARD
from reports.models import CostSettings
from reports.pages import constraints, costs, drag, funnel, timeline


@admin.register(CostSettings)
class CostSettingsAdmin(HistoryAdmin):
    """The cost model's inputs are edited on the cost page (a service); here, their history.
    The admin index's entry leads to the constraint pages."""

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(VIEW_DASHBOARD)

    def has_module_permission(self, request):
        return request.user.has_perm(VIEW_DASHBOARD)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        """The admin index links here: the constraint pages' index."""
        return redirect("admin:reports_constraints_index")

    def get_urls(self):
        pages = [
            ("constraints/", constraints.index_view, "index"),
            ("constraints/failures/", constraints.failures_view, "failures"),
            ("constraints/ranked/", constraints.ranked_view, "ranked"),
            ("constraints/quality/", constraints.quality_view, "quality"),
            ("constraints/rows/", constraints.rows_view, "rows"),
            ("constraints/costs/", costs.costs_view, "costs"),
            ("constraints/billing/", costs.billing_view, "billing"),
            ("constraints/funnel/", funnel.funnel_view, "funnel"),
            ("constraints/funnel/chart.svg", funnel.funnel_chart, "funnel_chart"),
            ("constraints/timeline/<int:account_id>/", timeline.timeline_view, "timeline"),
            ("constraints/drag/", drag.drag_view, "drag"),
            ("constraints/drag/chart.svg", drag.drag_chart, "drag_chart"),
        ]
        return [
            path(route, self.admin_site.admin_view(view), name=f"reports_constraints_{name}")
            for route, view, name in pages
        ] + super().get_urls()
