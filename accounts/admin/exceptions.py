"""The exception pages: the list by response target, and working states set through a service.
Resolving is the ``resolve_exception`` guarded action (invariant 2)."""

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from accounts.admin.display import CONSOLE_CSS, EXCEPTION_TONES, local_time
from accounts.choices import ExceptionStatus
from accounts.models import OpsException
from accounts.selectors import exceptions_by_overdue
from accounts.services.exceptions import exception_set_status
from opsconsole.actions.admin import GuardedActionsAdminMixin
from opsconsole.adminkit import HistoryAdmin, ServiceCallAdminMixin, badge


class OverdueFilter(admin.SimpleListFilter):
    title = "response"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return (("yes", "Overdue"), ("no", "Within target"))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return exceptions_by_overdue(queryset, overdue=self.value() == "yes")
        return queryset


class OpsExceptionForm(forms.ModelForm):
    """Working states only. Resolving is the ``resolve_exception`` guarded action (invariant 2),
    so it is permission-checked, needs its note and leaves an ActionRun."""

    status = forms.ChoiceField(
        choices=[
            (value, label) for value, label in ExceptionStatus.choices if value != ExceptionStatus.RESOLVED
        ],
        help_text="To resolve, use the Resolve exception action above: it asks for the resolution note.",
    )

    class Meta:
        model = OpsException
        fields = ("status",)


@admin.register(OpsException)
class OpsExceptionAdmin(GuardedActionsAdminMixin, ServiceCallAdminMixin, HistoryAdmin):
    form = OpsExceptionForm
    list_display = (
        "title",
        "account_link",
        "channel",
        "status_badge",
        "owner",
        "opened",
        "respond_by_display",
    )
    list_display_links = ("title",)
    list_filter = ("status", OverdueFilter, "owner_team", "reason_code", "account__channel")
    search_fields = ("account__external_id__startswith", "account__name", "summary")
    list_select_related = ("account", "account__channel", "reason_code", "owner_user")
    date_hierarchy = "opened_at"
    list_per_page = 50
    actions = ("mark_in_progress", "mark_waiting_on_customer", "mark_escalated")
    fieldsets = (
        (None, {"fields": ("account_link", "reason_summary", "summary", "evidence", "opened_by_event")}),
        (
            "Owner and response target",
            {
                "fields": (
                    "owner_team",
                    "owner_user",
                    "target_response_minutes",
                    "opened_at",
                    "respond_by_display",
                    "first_response_at",
                )
            },
        ),
        ("Status", {"fields": ("status", "resolution_note", "resolved_at")}),
    )

    class Media:
        css = CONSOLE_CSS

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .restrict(request.user)
            .select_related("account__channel", "reason_code", "owner_user")
        )

    def get_readonly_fields(self, request, obj=None):
        editable = OpsExceptionForm.Meta.fields
        return [f for _, options in self.fieldsets for f in options["fields"] if f not in editable]

    def has_add_permission(self, request):
        return False  # exceptions open from events and services, with their evidence

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status == ExceptionStatus.RESOLVED:
            return False  # a resolved exception is a record; a recurrence opens a new one
        return super().has_change_permission(request, obj)

    @admin.display(description="Exception", ordering="pk")
    def title(self, obj):
        return f"#{obj.pk} {obj.reason_code.code}"

    @admin.display(description="Account", ordering="account__external_id")
    def account_link(self, obj):
        url = reverse("admin:accounts_account_change", args=[obj.account_id])
        return format_html('<a href="{}" title="{}">{}</a>', url, obj.account.name, obj.account.external_id)

    @admin.display(description="Opened", ordering="opened_at")
    def opened(self, obj):
        return local_time(obj.opened_at)

    @admin.display(description="Channel", ordering="account__channel__code")
    def channel(self, obj):
        return obj.account.channel.code

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        return badge(obj.get_status_display(), EXCEPTION_TONES.get(obj.status, "muted"))

    @admin.display(description="Owner", ordering="owner_team")
    def owner(self, obj):
        team = obj.get_owner_team_display()
        return f"{team} · {obj.owner_user}" if obj.owner_user_id else team

    @admin.display(description="Respond by", ordering="respond_by")
    def respond_by_display(self, obj):
        if obj.is_overdue:
            return format_html("{} {}", local_time(obj.respond_by), badge("overdue", "bad"))
        return local_time(obj.respond_by)

    @admin.display(description="Reason")
    def reason_summary(self, obj):
        reason = obj.reason_code
        return format_html(
            "<strong>{}</strong> — {}<br>Customer sees: “{}” Next: {}{}",
            reason.code,
            reason.title,
            reason.customer_message,
            reason.customer_next_action,
            " (runbook available)" if reason.has_runbook else "",
        )

    def save_model(self, request, obj, form, change):
        # The form only carries the working status; the service makes the change and its history.
        if "status" in form.changed_data:
            self.call_service(request, exception_set_status, exception=obj, status=obj.status)

    def _set_status(self, request, queryset, status):
        changed = sum(
            1
            for exception in queryset
            if self.call_service(request, exception_set_status, exception=exception, status=status)
        )
        if changed:
            self.message_user(
                request,
                f"{changed} exception(s) now {ExceptionStatus(status).label.lower()}.",
                messages.SUCCESS,
            )

    @admin.action(description="Mark selected as in progress", permissions=["change"])
    def mark_in_progress(self, request, queryset):
        self._set_status(request, queryset, ExceptionStatus.IN_PROGRESS)

    @admin.action(description="Mark selected as waiting on customer", permissions=["change"])
    def mark_waiting_on_customer(self, request, queryset):
        self._set_status(request, queryset, ExceptionStatus.WAITING_ON_CUSTOMER)

    @admin.action(description="Mark selected as escalated", permissions=["change"])
    def mark_escalated(self, request, queryset):
        self._set_status(request, queryset, ExceptionStatus.ESCALATED)
