"""The timeline, provisioning steps and entitlement overrides: read-only records. Events arrive
from the product and services, steps move with events, overrides come from guarded actions."""

from django.contrib import admin

from accounts.admin.display import CONSOLE_CSS, STEP_TONES
from accounts.models import AccountEvent, EntitlementOverride, ProvisioningStep
from opsconsole.adminkit import ReadOnlyAdminMixin, ReadOnlyHistoryAdmin, badge


@admin.register(AccountEvent)
class AccountEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("occurred_at", "type", "account", "channel", "source", "error_code", "reason_code")
    list_filter = ("source", "type", "channel", "reason_code")
    search_fields = ("event_id__startswith", "account__external_id__startswith", "request_id__exact")
    list_select_related = ("account", "channel", "reason_code")
    date_hierarchy = "occurred_at"
    list_per_page = 100
    show_full_result_count = False  # counting the whole timeline on every page is slow


@admin.register(ProvisioningStep)
class ProvisioningStepAdmin(ReadOnlyHistoryAdmin):
    list_display = ("account", "step", "status_badge", "status_at", "blocking_exception", "updated_at")
    list_filter = ("step", "status")
    search_fields = ("account__external_id__startswith",)
    list_select_related = ("account", "blocking_exception__reason_code")

    class Media:
        css = CONSOLE_CSS

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        return badge(obj.get_status_display(), STEP_TONES.get(obj.status, "muted"))


@admin.register(EntitlementOverride)
class EntitlementOverrideAdmin(ReadOnlyHistoryAdmin):
    """Overrides change an account's entitlements: they are granted by guarded actions."""

    list_display = ("account", "key", "limit_value", "kind", "reason", "expires_at", "created_at")
    list_filter = ("kind", "key")
    search_fields = ("account__external_id", "key")
    list_select_related = ("account",)
