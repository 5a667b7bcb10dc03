"""Console pages for billing sync: Stripe events, reconciliation runs (with drift by type and
by channel) and drift. All read-only: Stripe, the reconciler and guarded actions write.

The account page shows billing through ``accounts/billing_state_panel.html`` (every field with
its system of record, the last sync and the open drift), placed by the account admin
(accounts/admin/).
"""

from django.contrib import admin
from django.utils.html import format_html

from accounts.billing import selectors
from accounts.choices import DriftStatus, ReconciliationStatus
from accounts.models import BillingDrift, ReconciliationRun, StripeEvent
from opsconsole.adminkit import ReadOnlyAdminMixin, badge, open_first_status_filter
from opsconsole.formatting import human_time_html

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
    # Six columns fit a 1280 px laptop; the phase, errors and counters are on the run's page.
    list_display = ("run", "status_badge", "scanned", "drift", "started", "took")
    list_filter = ("target", "status", "mode")

    @admin.display(description="Run", ordering="pk")
    def run(self, run):
        return format_html(
            '#{} {}<div class="oc-quiet">{}</div>', run.pk, run.get_target_display(), run.get_mode_display()
        )

    @admin.display(description="Scanned · mismatches")
    def scanned(self, run):
        return f"{run.objects_scanned:,} · {run.mismatches_found:,}"

    @admin.display(description="Drift opened · resolved")
    def drift(self, run):
        text = f"{run.drift_opened:,} · {run.drift_resolved:,}"
        return format_html("{} {}", text, badge(f"{run.errors} errors", "bad")) if run.errors else text

    @admin.display(description="Started", ordering="started_at")
    def started(self, run):
        return human_time_html(run.started_at)

    @admin.display(description="Took")
    def took(self, run):
        if run.finished_at is None:
            return "—"
        seconds = int((run.finished_at - run.started_at).total_seconds())
        return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"

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
    # Five columns fit a 1280 px laptop; both sides' values, the fix and the exception are on
    # the drift's page. Open drift first, the most recently seen at the top.
    list_display = ("drift", "subject", "account", "status", "last_seen")
    list_display_links = ("drift",)
    list_filter = (
        open_first_status_filter([DriftStatus.OPEN], DriftStatus.choices),
        "system",
        "kind",
        "account__channel",
    )
    ordering = ("-last_seen_at", "-pk")

    @admin.display(description="Drift", ordering="pk")
    def drift(self, drift):
        return format_html(
            '#{} {}<div class="oc-quiet">{}</div>',
            drift.pk,
            drift.get_kind_display(),
            drift.get_system_display(),
        )

    @admin.display(description="Last seen", ordering="last_seen_at")
    def last_seen(self, drift):
        return human_time_html(drift.last_seen_at)

    search_fields = ("subject", "account__external_id", "account__name")
    # The exception column's label names its reason code.
    list_select_related = ("account", "exception__reason_code")
