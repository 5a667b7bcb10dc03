"""SLA configuration (calendars, holidays, policies), missed targets and escalations."""

from django.contrib import admin

from opsconsole.adminkit import HistoryAdmin, ReadOnlyAdminMixin
from routing.models import BusinessCalendar, Escalation, Holiday, SlaBreach, SlaPolicy


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(HistoryAdmin):
    list_display = ("name", "timezone", "day_start", "day_end", "weekdays")
    inlines = (HolidayInline,)


@admin.register(SlaPolicy)
class SlaPolicyAdmin(HistoryAdmin):
    list_display = (
        "name",
        "severity",
        "shape",
        "channel",
        "business_hours",
        "owner_minutes",
        "first_response_minutes",
        "resolution_minutes",
    )
    list_filter = ("severity", "business_hours")


@admin.register(SlaBreach)
class SlaBreachAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    list_display = ("ticket", "target", "due_at", "detected_at", "queue")
    list_filter = ("target", "queue")

    def get_queryset(self, request):
        return SlaBreach.objects.restrict(request.user, "view")


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    list_display = ("__str__", "kind", "status", "queue", "channel", "summary", "error_code", "created_at")
    list_filter = ("kind", "status", "queue", "channel")
    readonly_fields = (
        "kind",
        "status",
        "account",
        "channel",
        "queue",
        "ticket",
        "source_exception",
        "reason_code",
        "summary",
        "error_code",
        "request_id",
        "feature_area",
        "telemetry",
        "created_at",
        "created_by",
        "resolved_at",
    )

    def get_queryset(self, request):
        return Escalation.objects.restrict(request.user, "view")
