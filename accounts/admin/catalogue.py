"""The catalogue pages: acquisition channels and reason codes. Every save calls a service."""

from django.contrib import admin
from django.db.models import Exists, OuterRef
from django.http import HttpResponseRedirect

from accounts.admin.display import CONSOLE_CSS
from accounts.models import Channel, ReasonCode
from accounts.services import catalogue
from opsconsole.adminkit import HistoryAdmin, ServiceCallAdminMixin
from opsconsole.runbooks import active_runbooks


class RunbookFilter(admin.SimpleListFilter):
    title = "runbook"
    parameter_name = "runbook"

    def lookups(self, request, model_admin):
        return (("yes", "Has one in force"), ("no", "None in force"))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(runbook_in_force=self.value() == "yes")
        return queryset


@admin.register(Channel)
class ChannelAdmin(ServiceCallAdminMixin, HistoryAdmin):
    list_display = ("code", "name", "kind", "partner_name", "support_sla_minutes", "managed_onboarding")
    list_filter = ("kind", "managed_onboarding")
    search_fields = ("code", "name", "partner_name")
    fields = ("code", *catalogue.CHANNEL_EDITABLE_FIELDS, "created_at")
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
                self.call_service(request, catalogue.channel_update, channel=obj, changes=changes)
            return
        created = self.call_service(
            request,
            catalogue.channel_create,
            **{name: form.cleaned_data[name] for name in ("code", *catalogue.CHANNEL_EDITABLE_FIELDS)},
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
        "runbook",
    )
    list_filter = ("layer", "owner_team", RunbookFilter)
    search_fields = ("code", "title")
    fields = (
        "code",
        *catalogue.REASON_CODE_EDITABLE_FIELDS,
        "layer",
        "owner_team",
        "provisioning_step",
        "target_response_minutes",
        "estimated_handling_minutes",
        "runbook",
    )

    class Media:
        css = CONSOLE_CSS

    def get_readonly_fields(self, request, obj=None):
        return [f for f in self.fields if f not in catalogue.REASON_CODE_EDITABLE_FIELDS]

    def get_queryset(self, request):
        # Whether an active runbook names the code: the rows themselves (opsconsole.runbooks).
        return (
            super()
            .get_queryset(request)
            .annotate(runbook_in_force=Exists(active_runbooks().filter(reason_code=OuterRef("pk"))))
        )

    @admin.display(description="runbook", boolean=True, ordering="runbook_in_force")
    def runbook(self, obj):
        return obj.runbook_in_force

    def has_add_permission(self, request):
        return False  # codes are referenced from code; new ones arrive by migration

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        if changes:
            self.call_service(request, catalogue.reason_code_update, reason_code=obj, changes=changes)
