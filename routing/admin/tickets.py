"""Ticket pages. Tickets have no edit form: an agent works a ticket with the guarded actions
offered on its page (take, respond, wait, resume, reassign, solve, escalate; ``routing/actions.py``),
which run through the same path as every other action: form, preview, confirm, recorded."""

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html

from opsconsole.actions.admin import GuardedActionsAdminMixin
from opsconsole.adminkit import HistoryAdmin, ReadOnlyAdminMixin
from routing.models import RoutingDecision, Ticket
from routing.rules import unmet_due_times
from routing.selectors.tickets import ticket_page


@admin.register(Ticket)
class TicketAdmin(GuardedActionsAdminMixin, ReadOnlyAdminMixin, HistoryAdmin):
    list_display = (
        "__str__",
        "subject",
        "category",
        "severity",
        "queue",
        "owner",
        "status",
        "created_at",
        "due",
    )
    list_filter = ("status", "severity", "category", "queue")
    search_fields = (
        "external_id__startswith",
        "subject",
        "requester_email__istartswith",
        "account__external_id__startswith",
    )
    list_select_related = ("queue", "owner")
    date_hierarchy = "created_at"
    change_form_template = "admin/routing/ticket/change_form.html"
    readonly_fields = (
        "source",
        "external_id",
        "requester_email",
        "subject",
        "body",
        "account",
        "account_match",
        "category",
        "severity",
        "queue",
        "owner",
        "status",
        "sla_policy",
        "created_at",
        "owner_assigned_at",
        "first_response_at",
        "solved_at",
        "owner_due_at",
        "first_response_due_at",
        "resolution_due_at",
        "final_category",
        "reassignment_count",
        "error_code",
        "request_id",
        "feature_area",
    )
    fieldsets = (
        (None, {"fields": ("source", "external_id", "requester_email", "subject", "body")}),
        ("Routing", {"fields": ("category", "severity", "queue", "owner", "status", "reassignment_count")}),
        (
            "SLA",
            {
                "fields": (
                    "sla_policy",
                    "created_at",
                    ("owner_due_at", "owner_assigned_at"),
                    ("first_response_due_at", "first_response_at"),
                    ("resolution_due_at", "solved_at"),
                    "final_category",
                )
            },
        ),
        ("Account", {"fields": ("account", "account_match", "error_code", "request_id", "feature_area")}),
    )

    def get_queryset(self, request):
        return Ticket.objects.restrict(request.user, "view").select_related("queue", "owner", "account")

    def has_view_permission(self, request, obj=None):
        if obj is not None:
            return Ticket.objects.allows(request.user, obj, "view")
        return super().has_view_permission(request, obj)

    @admin.display(description="Next due")
    def due(self, obj):
        pending = unmet_due_times(obj)
        if not pending:
            return "-"
        first = min(pending)
        if first <= timezone.now():
            return format_html(
                '<strong style="color:#ba2121">{} (past)</strong>', first.strftime("%Y-%m-%d %H:%M")
            )
        return first.strftime("%Y-%m-%d %H:%M")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        ticket = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if ticket is not None:
            context.update(ticket_page(ticket, user=request.user), context=ticket.context)
        return super().change_view(request, object_id, form_url, context)


@admin.register(RoutingDecision)
class RoutingDecisionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # Decisions are append-only rows without history: a history page would have nothing to show.
    list_display = (
        "ticket",
        "kind",
        "rule_key",
        "rule_set_version",
        "queue",
        "owner",
        "severity",
        "decided_at",
    )
    list_filter = ("kind", "rule_key")
    list_select_related = ("ticket", "queue", "owner")

    def get_queryset(self, request):
        return RoutingDecision.objects.restrict(request.user, "view")
