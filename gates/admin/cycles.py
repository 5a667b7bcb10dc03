"""The hardening cycle page: owners, the two constraints before and after their fix shipped,
candidate moves sorted by score or by cost rank, and the end of the cycle (a new review)."""

from django.contrib import admin
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone

from gates import permissions
from gates.admin.base import GatesPageAdmin
from gates.forms import MoveForm, ShipForm
from gates.models import HardeningCycle
from gates.selectors import constraint_progress, ranked_moves
from gates.services import candidate_move_add, cycle_close, cycle_constraint_ship


@admin.register(HardeningCycle)
class HardeningCycleAdmin(GatesPageAdmin):
    page_template = "admin/gates/cycle.html"
    list_display = ("__str__", "status", "starts_on", "ends_on", "sponsor")

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:cycle_id>/ship/", view(self.ship_view), name="gates_cycle_ship"),
            path("<int:cycle_id>/moves/", view(self.move_view), name="gates_cycle_move"),
            path("<int:cycle_id>/close/", view(self.close_view), name="gates_cycle_close"),
        ] + super().get_urls()

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("plan__channel", "decision")

    def change_view(self, request, object_id, form_url="", extra_context=None, move_form=None):
        cycle = get_object_or_404(self.get_queryset(request), pk=object_id)
        today = timezone.localdate()
        by = "cost" if request.GET.get("sort") == "cost" else "score"
        return self.render_page(
            request,
            cycle,
            title=f"Hardening cycle: {cycle.plan.channel.name}",
            constraints=[
                (c, constraint_progress(c, today=today)) for c in cycle.constraints.select_related("owner")
            ],
            moves=ranked_moves(cycle, by=by),
            sort=by,
            may_run=permissions.may_run_cycle(request.user, cycle),
            move_form=move_form or MoveForm(),
        )

    def _cycle(self, request, cycle_id):
        return get_object_or_404(self.get_queryset(request), pk=cycle_id)

    def ship_view(self, request, cycle_id):
        refused = self.posted(request)
        if refused:
            return refused
        cycle = self._cycle(request, cycle_id)
        form = ShipForm(request.POST)
        if form.is_valid():
            constraint = get_object_or_404(cycle.constraints, pk=form.cleaned_data["constraint"])
            self.call_service(
                request,
                cycle_constraint_ship,
                constraint=constraint,
                shipped_on=form.cleaned_data["shipped_on"],
            )
        return self.back(
            request, reverse("admin:gates_hardeningcycle_change", args=[cycle.pk]), "Ship date saved."
        )

    def move_view(self, request, cycle_id):
        refused = self.posted(request)
        if refused:
            return refused
        cycle = self._cycle(request, cycle_id)
        form = MoveForm(request.POST)
        if not form.is_valid():
            return self.change_view(request, str(cycle.pk), move_form=form)
        self.call_service(request, candidate_move_add, cycle=cycle, **form.cleaned_data)
        return self.back(
            request, reverse("admin:gates_hardeningcycle_change", args=[cycle.pk]), "Move added."
        )

    def close_view(self, request, cycle_id):
        refused = self.posted(request)
        if refused:
            return refused
        cycle = self._cycle(request, cycle_id)
        review = self.call_service(request, cycle_close, cycle=cycle)
        if review is None:
            return self.back(request, reverse("admin:gates_hardeningcycle_change", args=[cycle.pk]))
        return self.back(
            request,
            reverse("admin:gates_gatereview_change", args=[review.pk]),
            "Cycle closed; review opened.",
        )
