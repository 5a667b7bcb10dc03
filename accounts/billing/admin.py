"""Console pages for billing sync: Stripe events, reconciliation runs (with drift by type and
by channel) and drift. All read-only: Stripe, the reconciler and guarded actions write.

The account page shows billing through ``accounts/billing_state_panel.html`` (every field with
its system of record, the last sync and the open drift), placed by the account admin
(accounts/admin/).
"""

from django.contrib import admin

from accounts.billing import selectors
from accounts.choices import ReconciliationStatus
from accounts.models import BillingDrift, ReconciliationRun, StripeEvent
from opsconsole.adminkit import ReadOnlyAdminMixin, badge

RUN_TONES = {
    ReconciliationStatus.COMPLETED: "ok",
    ReconciliationStatus.FAILED: "bad",
    ReconciliationStatus.RUNNING: "info",
}


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("stripe_id", "type", "created", "status", "via", "account", "outcome")
    list_filter = ("status", "type", "via")
    search_fields = ("stripe_id", "object_id", "account__external_id")
    list_select_related = ("account",)
    date_hierarchy = "created"


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    change_list_template = "admin/accounts/reconciliationrun/change_list.html"
    list_display = (
        "id",
        "target",
        "mode",
        "status_badge",
        "phase",
        "objects_scanned",
        "mismatches_found",
        "drift_opened",
        "drift_resolved",
        "fields_corrected",
        "errors",
        "started_at",
        "finished_at",
    )
    list_filter = ("target", "status", "mode")

    @admin.display(description="status")
    def status_badge(self, run):
        return badge(run.get_status_display(), RUN_TONES.get(run.status, "muted"))

    def changelist_view(self, request, extra_context=None):
        by_kind = selectors.open_drift_by_kind()
        by_channel = selectors.open_drift_by_channel()
        widest = max([r["count"] for r in by_kind + by_channel] + [1])
        extra_context = {
            **(extra_context or {}),
            "drift_by_kind": by_kind,
            "drift_by_channel": by_channel,
            "drift_widest": widest,
        }
        return super().changelist_view(request, extra_context=extra_context)


@admin.register(BillingDrift)
class BillingDriftAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "system",
        "kind",
        "subject",
        "account",
        "status",
        "fix_action",
        "exception",
        "opened_at",
        "last_seen_at",
    )
    list_filter = ("status", "system", "kind", "account__channel")
    search_fields = ("subject", "account__external_id", "account__name")
    # The exception column's label names its reason code.
    list_select_related = ("account", "exception__reason_code")
