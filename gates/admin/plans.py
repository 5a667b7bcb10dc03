"""The gates list (every channel's ramp) and the ramp page (stop rules and their history)."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from gates import permissions
from gates.admin.base import GatesPageAdmin
from gates.charts import rule_chart
from gates.models import RampPlan, StopRule
from gates.selectors import (
    gates_rows,
    latest_rule_evaluations,
    latest_signed_decision,
    open_pause,
    rule_history,
)
from gates.services import review_open

HISTORY_ROWS = 8


@admin.register(RampPlan)
class RampPlanAdmin(GatesPageAdmin):
    page_template = "admin/gates/ramp.html"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:plan_id>/rules/<int:rule_id>/chart.svg", view(self.chart_view), name="gates_rule_chart"
            ),
            path("<int:plan_id>/open-review/", view(self.open_review_view), name="gates_open_review"),
        ] + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Channel readiness gates",
            "rows": gates_rows(request.user),
        }
        return TemplateResponse(request, "admin/gates/gates_list.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        plan = get_object_or_404(
            self.get_queryset(request).select_related("channel", "executive_owner"), pk=object_id
        )
        rules = [
            {
                "rule": rule,
                "latest": latest,
                "chart_url": reverse("admin:gates_rule_chart", args=[plan.pk, rule.pk]),
                "history": rule_history(rule, limit=HISTORY_ROWS)[::-1],
            }
            for rule, latest in latest_rule_evaluations(plan)
        ]
        return self.render_page(
            request,
            plan,
            title=f"Ramp of {plan.channel.name}",
            rules=rules,
            decision=latest_signed_decision(plan),
            pause=open_pause(plan),
            reviews=plan.reviews.order_by("-opened_at")[:10],
            cycles=plan.cycles.order_by("-starts_on"),
            may_review=permissions.may_run_review(request.user, plan),
        )

    def chart_view(self, request, plan_id, rule_id):
        plan = get_object_or_404(self.get_queryset(request), pk=plan_id)
        rule = get_object_or_404(StopRule, plan=plan, pk=rule_id)
        response = HttpResponse(rule_chart(rule, rule_history(rule)), content_type="image/svg+xml")
        response["Cache-Control"] = "private, max-age=60"
        return response

    def open_review_view(self, request, plan_id):
        refused = self.posted(request)
        if refused:
            return refused
        plan = get_object_or_404(self.get_queryset(request), pk=plan_id)
        review = self.call_service(request, review_open, plan=plan)
        if review is None:
            return self.back(request, reverse("admin:gates_rampplan_change", args=[plan.pk]))
        return self.back(
            request, reverse("admin:gates_gatereview_change", args=[review.pk]), "Review opened."
        )
