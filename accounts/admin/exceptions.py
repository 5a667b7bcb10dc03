"""The exception pages: the list by response target, and a read-only page whose guarded actions
(acknowledge, wait on the customer, reassign, the runbook's fixes, resolve) are the only way its
status or owner changes (invariant 2)."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from accounts.admin.display import CONSOLE_CSS, EXCEPTION_TONES, local_time
from accounts.choices import UNRESOLVED_EXCEPTION_STATUSES, ExceptionStatus
from accounts.models import OpsException
from accounts.selectors import exceptions_by_overdue
from opsconsole.actions.admin import GuardedActionsAdminMixin
from opsconsole.adminkit import HistoryAdmin, badge, facts_list, open_first_status_filter
from opsconsole.runbooks import has_runbook


class OverdueFilter(admin.SimpleListFilter):
    title = "response"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return (("yes", "Overdue"), ("no", "Within target"))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return exceptions_by_overdue(queryset, overdue=self.value() == "yes")
        return queryset


@admin.register(OpsException)
class OpsExceptionAdmin(GuardedActionsAdminMixin, HistoryAdmin):
    # Five columns fit a 1280 px laptop; channel, opening time and evidence are on the page.
    list_display = ("title", "account_link", "status_badge", "owner", "respond_by_display")
    list_display_links = ("title",)
    # Open work first: unresolved exceptions, the most overdue at the top (Meta.ordering).
    list_filter = (
        open_first_status_filter(
            UNRESOLVED_EXCEPTION_STATUSES, ExceptionStatus.choices, open_label="Unresolved"
        ),
        OverdueFilter,
        "owner_team",
        "reason_code",
        "account__channel",
    )
    search_fields = ("account__external_id__startswith", "account__name", "summary")
    list_select_related = ("account", "account__channel", "reason_code", "owner_user")
    date_hierarchy = "opened_at"
    list_per_page = 50
    actions = None
    fieldsets = (
        (None, {"fields": ("account_link", "reason_summary", "summary", "evidence_list", "opened_by_event")}),
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
        (
            "Status",
            {
                "fields": ("status", "resolution_note", "resolved_at"),
                "description": "The status changes only through the actions below: Acknowledge, "
                "Waiting on customer, Reassign, the fixes the runbook allows, and Resolve.",
            },
        ),
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
        # Every field: the status and owner move through guarded actions only (invariant 2).
        return [f for _, options in self.fieldsets for f in options["fields"]]

    def has_add_permission(self, request):
        return False  # exceptions open from events and services, with their evidence

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # no edit form: the actions on the page change an exception

    @admin.display(description="Exception", ordering="pk")
    def title(self, obj):
        return format_html(
            '#{} {}<div class="oc-quiet">{}</div>',
            obj.pk,
            obj.reason_code.code,
            Truncator(obj.summary or obj.reason_code.title).chars(60),
        )

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

    @admin.display(description="Evidence")
    def evidence_list(self, obj):
        return facts_list(obj.evidence)

    @admin.display(description="Reason")
    def reason_summary(self, obj):
        reason = obj.reason_code
        return format_html(
            "<strong>{}</strong> — {}<br>Customer sees: “{}” Next: {}{}",
            reason.code,
            reason.title,
            reason.customer_message,
            reason.customer_next_action,
            " (runbook available)" if has_runbook(reason.pk) else "",
        )
