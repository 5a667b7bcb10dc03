"""The review page (six checks with their evidence, overrides, evaluations, the decision draft)
and the decision record (one printable page; signed once)."""

from django.contrib import admin
from django.shortcuts import get_object_or_404
from django.urls import path, reverse

from gates import permissions
from gates.admin.base import GatesPageAdmin
from gates.checks import BOARD_TARGET_MIN, LIMITED_RAMP_MIN, get_check
from gates.forms import DecisionDraftForm, OverrideForm
from gates.models import CheckResult, Decision, GateReview
from gates.selectors import evaluation_tally
from gates.services import check_override, decision_draft, decision_sign, review_evaluate


def check_rows(evaluation) -> list[dict]:
    if evaluation is None:
        return []
    rows = []
    for result in evaluation.checks.select_related("override__overridden_by").order_by("id"):
        override = getattr(result, "override", None)
        rows.append(
            {
                "result": result,
                "rule": get_check(result.code).rule,
                "state": "passed" if result.passed else ("overridden" if override else "failed"),
                "override": override,
                "snapshots_url": reverse("admin:reports_metricsnapshot_changelist")
                + "?id__in="
                + ",".join(str(i) for i in result.snapshot_ids)
                if result.snapshot_ids
                else "",
            }
        )
    return rows


@admin.register(GateReview)
class GateReviewAdmin(GatesPageAdmin):
    page_template = "admin/gates/review.html"
    list_display = ("__str__", "kind", "held_on", "opened_at")
    list_filter = ("kind",)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:review_id>/evaluate/", view(self.evaluate_view), name="gates_review_evaluate"),
            path("<int:review_id>/override/", view(self.override_view), name="gates_review_override"),
            path("<int:review_id>/draft/", view(self.draft_view), name="gates_review_draft"),
        ] + super().get_urls()

    def page(self, request, review, *, draft_form=None):
        evaluations = list(review.evaluations.order_by("-evaluated_at", "-id"))
        chosen = request.GET.get("evaluation")
        evaluation = next(
            (e for e in evaluations if str(e.pk) == chosen), evaluations[0] if evaluations else None
        )
        plan = review.plan
        return self.render_page(
            request,
            review,
            title=f"{review.get_kind_display()} of {plan.channel.name}",
            plan=plan,
            evaluation=evaluation,
            evaluations=evaluations,
            checks=check_rows(evaluation),
            tally=evaluation_tally(evaluation) if evaluation else None,
            limited_min=LIMITED_RAMP_MIN,
            board_min=BOARD_TARGET_MIN,
            decisions=review.decisions.order_by("-drafted_at"),
            may_review=permissions.may_run_review(request.user, plan),
            may_override=permissions.may_override(request.user, plan),
            draft_form=draft_form or DecisionDraftForm(initial={"expected_volume": plan.weekly_signups}),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        review = get_object_or_404(self.get_queryset(request).select_related("plan__channel"), pk=object_id)
        return self.page(request, review)

    def _review(self, request, review_id):
        return get_object_or_404(self.get_queryset(request).select_related("plan__channel"), pk=review_id)

    def evaluate_view(self, request, review_id):
        refused = self.posted(request)
        if refused:
            return refused
        review = self._review(request, review_id)
        done = self.call_service(request, review_evaluate, review=review)
        url = reverse("admin:gates_gatereview_change", args=[review.pk])
        return self.back(request, url, f"Evaluated (evaluation #{done.pk})." if done else None)

    def override_view(self, request, review_id):
        refused = self.posted(request)
        if refused:
            return refused
        review = self._review(request, review_id)
        form = OverrideForm(request.POST)
        url = reverse("admin:gates_gatereview_change", args=[review.pk])
        if form.is_valid():
            result = get_object_or_404(CheckResult, pk=form.cleaned_data["result"], evaluation__review=review)
            self.call_service(
                request, check_override, result=result, justification=form.cleaned_data["justification"]
            )
            return self.back(request, url, "Check overridden.")
        return self.back(request, url)

    def draft_view(self, request, review_id):
        refused = self.posted(request)
        if refused:
            return refused
        review = self._review(request, review_id)
        form = DecisionDraftForm(request.POST)
        if not form.is_valid():
            return self.page(request, review, draft_form=form)
        decision = self.call_service(request, decision_draft, review=review, **form.cleaned_data)
        if decision is None:
            return self.page(request, review, draft_form=form)
        return self.back(
            request, reverse("admin:gates_decision_change", args=[decision.pk]), "Decision drafted."
        )


@admin.register(Decision)
class DecisionAdmin(GatesPageAdmin):
    page_template = "admin/gates/decision.html"
    list_display = ("__str__", "outcome", "drafted_at", "signed_at", "signed_by")
    list_filter = ("outcome",)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:decision_id>/sign/", view(self.sign_view), name="gates_decision_sign")
        ] + super().get_urls()

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("review__plan__channel", "signed_by", "drafted_by")
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        decision = get_object_or_404(self.get_queryset(request), pk=object_id)
        plan = decision.review.plan
        timelines = [
            (
                label,
                account_id,
                reverse("admin:accounts_account_change", args=[account_id]) if account_id else "",
            )
            for label, account_id in (
                ("A failed account", decision.example_timelines.get("failed")),
                ("An account with a ticket", decision.example_timelines.get("with_ticket")),
                ("An activated account", decision.example_timelines.get("activated")),
            )
        ]
        return self.render_page(
            request,
            decision,
            title=f"Gate decision: {plan.channel.name}",
            plan=plan,
            review=decision.review,
            fixes=decision.fixes.select_related("owner"),
            conditions=decision.restart_conditions.all(),
            timelines=timelines,
            checks=check_rows(decision.evaluation),
            tally=evaluation_tally(decision.evaluation) if decision.evaluation else None,
            cycle=getattr(decision, "cycle", None),
            may_sign=not decision.is_signed and permissions.may_sign(request.user, plan),
        )

    def sign_view(self, request, decision_id):
        refused = self.posted(request)
        if refused:
            return refused
        decision = get_object_or_404(self.get_queryset(request), pk=decision_id)
        self.call_service(request, decision_sign, decision=decision)
        return self.back(
            request, reverse("admin:gates_decision_change", args=[decision.pk]), "Decision signed."
        )
