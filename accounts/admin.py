"""The console's account pages. Thin: reads come from selectors, every write calls a service.

Nobody gets a free-form edit form for an account (invariant 2): the account page is a
read-only summary, and state changes go through the services (approval here, guarded actions
elsewhere).
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts import selectors, services
from accounts.billing_selectors import billing_state
from accounts.choices import (
    UNRESOLVED_EXCEPTION_STATUSES,
    BillingStatus,
    ExceptionStatus,
    LifecycleStage,
    ProvisioningStatus,
    StepStatus,
    SystemOfRecord,
)
from accounts.models import (
    Account,
    AccountEvent,
    Channel,
    EntitlementOverride,
    OpsException,
    ProvisioningStep,
    ReasonCode,
)
from accounts.shapes import plan_for, shape_for
from accounts.timeline import account_timeline
from opsconsole.actions.admin import GuardedActionsAdminMixin
from opsconsole.adminkit import (
    HistoryAdmin,
    ReadOnlyAdminMixin,
    ReadOnlyHistoryAdmin,
    ServiceCallAdminMixin,
    badge,
)

CONSOLE_CSS = {"all": ("opsconsole/console.css",)}
RECENT_EVENTS_ON_PAGE = 25

LIFECYCLE_TONES = {
    LifecycleStage.SIGNED_UP: "info",
    LifecycleStage.ONBOARDING: "info",
    LifecycleStage.ACTIVATED: "ok",
    LifecycleStage.AT_RISK: "warn",
    LifecycleStage.CHURNED: "bad",
}
STEP_TONES = {
    StepStatus.PENDING: "muted",
    StepStatus.IN_PROGRESS: "info",
    StepStatus.SUCCEEDED: "ok",
    StepStatus.FAILED: "bad",
}
PROVISIONING_TONES = {
    ProvisioningStatus.PENDING: "muted",
    ProvisioningStatus.IN_PROGRESS: "info",
    ProvisioningStatus.ACTION_REQUIRED: "bad",
    ProvisioningStatus.UNDER_REVIEW: "warn",
    ProvisioningStatus.READY: "ok",
    ProvisioningStatus.FAILED: "bad",
}
EXCEPTION_TONES = {
    ExceptionStatus.OPEN: "bad",
    ExceptionStatus.IN_PROGRESS: "info",
    ExceptionStatus.WAITING_ON_CUSTOMER: "warn",
    ExceptionStatus.ESCALATED: "warn",
    ExceptionStatus.RESOLVED: "ok",
}
BILLING_TONES = {
    BillingStatus.ACTIVE: "ok",
    BillingStatus.TRIALING: "info",
    BillingStatus.PAST_DUE: "bad",
    BillingStatus.UNPAID: "bad",
    BillingStatus.INCOMPLETE: "warn",
    BillingStatus.CANCELED: "muted",
    BillingStatus.NONE: "muted",
}


def _with_source(value, source: str):
    """A value and the system that owns it, so nobody "fixes" a field in the wrong place."""
    label = SystemOfRecord(source).label if source in SystemOfRecord.values else source
    return format_html('{} <span class="oc-source" title="System of record">source: {}</span>', value, label)


def _when(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


def _exception_link(exception: OpsException):
    url = reverse("admin:accounts_opsexception_change", args=[exception.pk])
    return format_html('<a href="{}">#{}</a>', url, exception.pk)


# --- Catalogues ---------------------------------------------------------------------------


@admin.register(Channel)
class ChannelAdmin(ServiceCallAdminMixin, HistoryAdmin):
    list_display = ("code", "name", "kind", "partner_name", "support_sla_minutes", "managed_onboarding")
    list_filter = ("kind", "managed_onboarding")
    search_fields = ("code", "name", "partner_name")
    fields = ("code", *services.CHANNEL_EDITABLE_FIELDS, "created_at")
    readonly_fields = ("created_at",)

    class Media:
        css = CONSOLE_CSS

    def get_readonly_fields(self, request, obj=None):
        # Reports and gates key on the code: it is set once.
        return self.readonly_fields + (("code",) if obj is not None else ())

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            changes = {name: form.cleaned_data[name] for name in form.changed_data}
            if changes:
                self.call_service(request, services.channel_update, channel=obj, changes=changes)
            return
        created = self.call_service(
            request,
            services.channel_create,
            **{name: form.cleaned_data[name] for name in ("code", *services.CHANNEL_EDITABLE_FIELDS)},
        )
        if created is not None:
            obj.pk = created.pk

    def log_addition(self, request, obj, message):
        if obj.pk is not None:  # nothing was added when the service refused
            super().log_addition(request, obj, message)

    def response_add(self, request, obj, post_url_continue=None):
        if obj.pk is None:  # the service refused; the message says why
            return HttpResponseRedirect(request.path)
        return super().response_add(request, obj, post_url_continue)


@admin.register(ReasonCode)
class ReasonCodeAdmin(ServiceCallAdminMixin, HistoryAdmin):
    list_display = (
        "code",
        "title",
        "layer",
        "owner_team",
        "target_response_minutes",
        "estimated_handling_minutes",
        "provisioning_step",
        "has_runbook",
    )
    list_filter = ("layer", "owner_team", "has_runbook")
    search_fields = ("code", "title")
    fields = (
        "code",
        *services.REASON_CODE_EDITABLE_FIELDS,
        "layer",
        "owner_team",
        "provisioning_step",
        "target_response_minutes",
        "estimated_handling_minutes",
        "has_runbook",
    )

    class Media:
        css = CONSOLE_CSS

    def get_readonly_fields(self, request, obj=None):
        return [f for f in self.fields if f not in services.REASON_CODE_EDITABLE_FIELDS]

    def has_add_permission(self, request):
        return False  # codes are referenced from code; new ones arrive by migration

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        if changes:
            self.call_service(request, services.reason_code_update, reason_code=obj, changes=changes)


# --- Accounts -----------------------------------------------------------------------------


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
    search_fields = ("external_id", "name", "admin_email")
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
        unresolved = (
            OpsException.objects.filter(account=OuterRef("pk"), status__in=UNRESOLVED_EXCEPTION_STATUSES)
            .order_by()
            .values("account")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            Account.objects.restrict(request.user)
            .select_related("channel", "owner", "duplicate_of")
            .annotate(open_exception_count=Coalesce(Subquery(unresolved), 0))
        )

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
        return _with_source(self.billing_badge(obj), obj.billing_status_source)

    @admin.display(description="Signed up", ordering="signed_up_at")
    def signed_up(self, obj):
        return _when(obj.signed_up_at)

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
        return _with_source(_when(obj.trial_ends_at), obj.trial_end_source)

    @admin.display(description="Renews")
    def renewal(self, obj):
        return _with_source(_when(obj.renews_at), obj.renewal_source)

    @admin.display(description="Plan (billing)")
    def plan_of_record(self, obj):
        return _with_source(obj.get_plan_display(), obj.plan_source)

    @admin.display(description="MRR")
    def mrr(self, obj):
        return f"${obj.mrr_cents / 100:,.2f}"

    # --- the read-only page ---

    def change_view(self, request, object_id, form_url="", extra_context=None):
        account = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if account is not None:
            status = selectors.provisioning_status(account)
            # When each step's event happened; updated_at only says when we processed it.
            since = dict(account.provisioning_steps.values_list("step", "status_at"))
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
                        "link": _exception_link(e),
                        "exception": e,
                        "badge": badge(e.get_status_display(), EXCEPTION_TONES.get(e.status, "muted")),
                        "overdue": e.respond_by < timezone.now(),
                    }
                    for e in selectors.open_exceptions(account).select_related("owner_user")
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
        if self.call_service(request, services.account_approve, account=account, note=note) is not None:
            self.message_user(request, f"Approved {account}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:accounts_account_change", args=[account.pk]))

    @admin.action(description="Approve selected accounts under review", permissions=["approve"])
    def approve_selected(self, request, queryset):
        approved = 0
        for account in queryset:
            if self.call_service(request, services.account_approve, account=account, note="Bulk approval"):
                approved += 1
        if approved:
            self.message_user(request, f"Approved {approved} account(s).", messages.SUCCESS)


# --- Exceptions ---------------------------------------------------------------------------


class OverdueFilter(admin.SimpleListFilter):
    title = "response"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return (("yes", "Overdue"), ("no", "Within target"))

    def queryset(self, request, queryset):
        overdue = Q(status__in=UNRESOLVED_EXCEPTION_STATUSES, respond_by__lt=timezone.now())
        if self.value() == "yes":
            return queryset.filter(overdue)
        if self.value() == "no":
            return queryset.exclude(overdue)
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
    search_fields = ("account__external_id", "account__name", "summary")
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
        return _when(obj.opened_at)

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
        if obj.is_open and obj.respond_by < timezone.now():
            return format_html("{} {}", _when(obj.respond_by), badge("overdue", "bad"))
        return _when(obj.respond_by)

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
            self.call_service(request, services.exception_set_status, exception=obj, status=obj.status)

    def _set_status(self, request, queryset, status):
        changed = sum(
            1
            for exception in queryset
            if self.call_service(request, services.exception_set_status, exception=exception, status=status)
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


# --- Timeline, steps and overrides: read-only records -------------------------------------


@admin.register(AccountEvent)
class AccountEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("occurred_at", "type", "account", "channel", "source", "error_code", "reason_code")
    list_filter = ("source", "type", "channel", "reason_code")
    search_fields = ("event_id", "account__external_id", "request_id", "error_code")
    list_select_related = ("account", "channel", "reason_code")
    date_hierarchy = "occurred_at"
    list_per_page = 100
    show_full_result_count = False  # counting the whole timeline on every page is slow


@admin.register(ProvisioningStep)
class ProvisioningStepAdmin(ReadOnlyHistoryAdmin):
    list_display = ("account", "step", "status_badge", "status_at", "blocking_exception", "updated_at")
    list_filter = ("step", "status")
    search_fields = ("account__external_id",)
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
