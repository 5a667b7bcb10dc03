"""The account pages. Nobody gets a free-form edit form for an account (invariant 2): the page
is a read-only summary of what the selectors say, and state changes go through services
(approval here, guarded actions on the page)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from accounts import selectors
from accounts.admin.display import (
    BILLING_TONES,
    CONSOLE_CSS,
    EXCEPTION_TONES,
    LIFECYCLE_TONES,
    PROVISIONING_TONES,
    STEP_TONES,
    exception_link,
    local_time,
    with_source,
)
from accounts.billing import billing_state
from accounts.choices import UNRESOLVED_EXCEPTION_STATUSES, ProvisioningStatus
from accounts.models import Account
from accounts.services.accounts import account_approve
from accounts.shapes import plan_for, shape_for
from accounts.timeline import account_timeline
from opsconsole.actions.admin import GuardedActionsAdminMixin
from opsconsole.adminkit import HistoryAdmin, ServiceCallAdminMixin, badge

RECENT_EVENTS_ON_PAGE = 25


@admin.register(Account)
class AccountAdmin(GuardedActionsAdminMixin, ServiceCallAdminMixin, HistoryAdmin):
    # The account's own page, which places the guarded-actions panel (the mixin's default
    # template is for models without one).
    change_form_template = "admin/accounts/account/change_form.html"
    list_display = (
        "external_id",
        "name",
        "open_exceptions",
        "channel_code",
        "shape",
        "lifecycle",
        "billing_badge",
        "signed_up",
    )
    list_filter = ("channel", "shape", "lifecycle_stage", "onboarding_path", "billing_status")
    search_fields = ("external_id__startswith", "name", "admin_email__istartswith")
    date_hierarchy = "signed_up_at"
    list_select_related = ("channel",)
    list_per_page = 50
    actions = ("approve_selected",)
    fieldsets = (
        (None, {"fields": ("external_id", "name", "admin_email", "owner", "flags", "duplicate_of")}),
        (
            "Attribution",
            {"fields": ("channel_summary", "partner", "utm_source", "utm_medium", "utm_campaign")},
        ),
        ("Shape and plan", {"fields": ("shape_summary", "plan_summary", "activation_definition")}),
        (
            "Lifecycle and onboarding",
            {
                "fields": (
                    "lifecycle",
                    "signed_up_at",
                    "activated_at",
                    "onboarding_path",
                    "onboarding_path_reason",
                )
            },
        ),
        ("Billing", {"fields": ("billing", "trial_end", "renewal", "plan_of_record")}),
    )
    billing_details_fieldset = (
        "Billing details",
        {
            "fields": (
                "stripe_customer_id",
                "stripe_subscription_id",
                "mrr",
                "stripe_state_at",
                "crm_state_at",
            )
        },
    )

    class Media:
        css = CONSOLE_CSS

    # Invariant 2: no edit form, no add or delete, for anyone. The page is a read-only summary.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_approve_permission(self, request):
        return request.user.has_perm("accounts.approve_account")

    def get_queryset(self, request):
        return selectors.accounts_with_open_counts(request.user)

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if request.user.has_perm("accounts.view_billing"):
            fieldsets.append(self.billing_details_fieldset)
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return [f for _, options in self.get_fieldsets(request, obj) for f in options["fields"]]

    # --- columns and fields ---

    @admin.display(description="Lifecycle", ordering="lifecycle_stage")
    def lifecycle(self, obj):
        return badge(obj.get_lifecycle_stage_display(), LIFECYCLE_TONES.get(obj.lifecycle_stage, "muted"))

    @admin.display(description="Billing status")
    def billing(self, obj):
        return with_source(self.billing_badge(obj), obj.billing_status_source)

    @admin.display(description="Signed up", ordering="signed_up_at")
    def signed_up(self, obj):
        return local_time(obj.signed_up_at)

    @admin.display(description="Billing", ordering="billing_status")
    def billing_badge(self, obj):
        return badge(obj.get_billing_status_display(), BILLING_TONES.get(obj.billing_status, "muted"))

    @admin.display(description="Channel", ordering="channel__code")
    def channel_code(self, obj):
        return obj.channel.code

    @admin.display(description="Open", ordering="open_exception_count")
    def open_exceptions(self, obj):
        count = getattr(obj, "open_exception_count", 0)
        if not count:
            return "—"
        url = reverse("admin:accounts_opsexception_changelist")
        return format_html(
            '<a href="{}?account__id__exact={}&status__in={}">{}</a>',
            url,
            obj.pk,
            ",".join(UNRESOLVED_EXCEPTION_STATUSES),
            badge(str(count), "bad"),
        )

    @admin.display(description="Channel")
    def channel_summary(self, obj):
        channel = obj.channel
        sla = f", support SLA {channel.support_sla_minutes} min" if channel.support_sla_minutes else ""
        return f"{channel.name} ({channel.get_kind_display()}{sla})"

    @admin.display(description="Shape")
    def shape_summary(self, obj):
        shape = shape_for(obj.shape)
        limits = ", ".join(f"{k} {v}" for k, v in shape.limits.items())
        return format_html("<strong>{}</strong> · limits: {}", shape.name, limits)

    @admin.display(description="Plan")
    def plan_summary(self, obj):
        plan = plan_for(obj.plan)
        return format_html("<strong>{}</strong> · ${}/month", plan.name, f"{plan.mrr_cents / 100:,.0f}")

    @admin.display(description="Activated when")
    def activation_definition(self, obj):
        return shape_for(obj.shape).activation.text

    @admin.display(description="Trial ends")
    def trial_end(self, obj):
        return with_source(local_time(obj.trial_ends_at), obj.trial_end_source)

    @admin.display(description="Renews")
    def renewal(self, obj):
        return with_source(local_time(obj.renews_at), obj.renewal_source)

    @admin.display(description="Plan (billing)")
    def plan_of_record(self, obj):
        return with_source(obj.get_plan_display(), obj.plan_source)

    @admin.display(description="MRR")
    def mrr(self, obj):
        return f"${obj.mrr_cents / 100:,.2f}"

    # --- the read-only page ---

    def change_view(self, request, object_id, form_url="", extra_context=None):
        account = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if account is not None:
            status = selectors.provisioning_status(account)
            since = selectors.provisioning_step_times(account)
            context.update(
                provisioning=status,
                provisioning_tone=PROVISIONING_TONES.get(status.status, "muted"),
                provisioning_badge=badge(
                    status.status.replace("_", " "), PROVISIONING_TONES.get(status.status, "muted")
                ),
                steps=[
                    {
                        "name": s["step"].replace("_", " "),
                        "badge": badge(s["status"].replace("_", " "), STEP_TONES.get(s["status"], "muted")),
                        "since": since.get(s["step"]),
                    }
                    for s in status.steps
                ],
                open_exceptions=[
                    {
                        "link": exception_link(e),
                        "exception": e,
                        "badge": badge(e.get_status_display(), EXCEPTION_TONES.get(e.status, "muted")),
                        "overdue": e.is_overdue,
                    }
                    for e in selectors.open_exceptions(account)
                ],
                recent_events=selectors.account_recent_events(account=account, limit=RECENT_EVENTS_ON_PAGE),
                entitlements=selectors.entitlements_for(account),
                can_approve=(
                    status.status == ProvisioningStatus.UNDER_REVIEW and self.has_approve_permission(request)
                ),
                approve_url=reverse("admin:accounts_account_approve", args=[account.pk]),
                timeline=account_timeline(account),
            )
            if request.user.has_perm("accounts.view_billing"):
                context["billing_state"] = billing_state(account)
        return super().change_view(request, object_id, form_url, extra_context=context)

    # --- approval ---

    def get_urls(self):
        return [
            path(
                "<path:object_id>/approve/",
                self.admin_site.admin_view(self.approve_view),
                name="accounts_account_approve",
            ),
            *super().get_urls(),
        ]

    def approve_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_approve_permission(request):
            raise PermissionDenied("Approving accounts needs the accounts.approve_account permission.")
        account = get_object_or_404(self.get_queryset(request), pk=object_id)
        note = request.POST.get("note", "").strip()
        if self.call_service(request, account_approve, account=account, note=note) is not None:
            self.message_user(request, f"Approved {account}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:accounts_account_change", args=[account.pk]))

    @admin.action(description="Approve selected accounts under review", permissions=["approve"])
    def approve_selected(self, request, queryset):
        approved = 0
        for account in queryset:
            if self.call_service(request, account_approve, account=account, note="Bulk approval"):
                approved += 1
        if approved:
            self.message_user(request, f"Approved {approved} account(s).", messages.SUCCESS)
