"""Ticket pages. Tickets have no edit form: an agent works a ticket with the guarded actions
offered on its page (take, respond, wait, resume, reassign, solve, escalate; ``routing/actions.py``),
which run through the same path as every other action: form, preview, confirm, recorded."""

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator

from opsconsole.actions.admin import GuardedActionsAdminMixin
from opsconsole.adminkit import HistoryAdmin, ReadOnlyAdminMixin, badge, open_first_status_filter
from opsconsole.formatting import human_time_html
from routing.choices import OPEN_TICKET_STATUSES, TicketStatus
from routing.models import RoutingDecision, Ticket
from routing.rules import unmet_due_times
from routing.selectors.tickets import next_due_expression, ticket_page
from routing.support.actions import LinkTicket
from routing.support.selectors import ticket_support_page


@admin.register(Ticket)
class TicketAdmin(GuardedActionsAdminMixin, ReadOnlyAdminMixin, HistoryAdmin):
    # Six columns fit a 1280 px laptop beside the sidebar and the filters; the rest (category,
    # requester, times) is on the ticket's page.
    list_display = ("ticket", "severity", "queue", "owner", "status_label", "due")
    list_display_links = ("ticket",)
    # Open tickets first: the status filter starts on the open ones, the most urgent due first.
    list_filter = (
        open_first_status_filter(OPEN_TICKET_STATUSES, TicketStatus.choices),
        "severity",
        "category",
        "queue",
        "via",
        "ticket_type",
        "queue__tier",
    )
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
        "via",
        "ticket_type",
        "final_type",
        "reopen_count",
        "csat_rating",
        "csat_comment",
    )
    fieldsets = (
        (None, {"fields": ("source", "external_id", "requester_email", "subject", "body")}),
        (
            "Routing",
            {
                "fields": (
                    "via",
                    "category",
                    ("ticket_type", "final_type"),
                    "severity",
                    "queue",
                    "owner",
                    "status",
                    "reassignment_count",
                )
            },
        ),
        ("Help desk", {"fields": ("reopen_count", ("csat_rating", "csat_comment"))}),
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
        return (
            Ticket.objects.restrict(request.user, "view")
            .select_related("queue", "owner", "account")
            .annotate(next_due=next_due_expression())
        )

    def get_ordering(self, request):
        # An expression, not the annotation's name: other pages order their ticket choices by
        # this too, on querysets that do not carry the annotation.
        return (next_due_expression().asc(), "created_at", "pk")

    def has_view_permission(self, request, obj=None):
        if obj is not None:
            return Ticket.objects.allows(request.user, obj, "view")
        return super().has_view_permission(request, obj)

    @admin.display(description="Ticket", ordering="created_at")
    def ticket(self, obj):
        return format_html('{}<div class="oc-quiet oc-wrap">{}</div>', Truncator(obj.subject).chars(70), obj)

    @admin.display(description="Status", ordering="status")
    def status_label(self, obj):
        return obj.get_status_display()

    @admin.display(description="Next due", ordering="next_due")
    def due(self, obj):
        pending = unmet_due_times(obj)
        if not pending:
            return "—"
        first = min(pending)
        if first <= timezone.now():
            return format_html("{} {}", badge("past", "bad"), human_time_html(first))
        return human_time_html(first)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        ticket = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if ticket is not None:
            context.update(ticket_page(ticket, user=request.user), context=ticket.context)
            context.update(ticket_support_page(ticket, request.user))
            context["link_action"] = LinkTicket.name
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
