"""Rule pages: rules are edited in draft rule sets, a draft is backtested against the active
set, then activated. Every write calls a service.

Copy, backtest and activate stay a plain view calling the services rather than guarded actions:
they change routing configuration, not an account or a ticket a customer waits on, they are
permitted by one model permission (``routing.activate_ruleset``), and a rule set's own history
already records who changed what. A guarded action would add a preview of a diff nobody reads.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse

from opsconsole.adminkit import HistoryAdmin, ReadOnlyAdminMixin, ServiceCallAdminMixin
from routing import engine
from routing.choices import RuleSetStatus
from routing.models import Backtest, RoutingRule, RuleSet
from routing.selectors.figures import backtest_rows, rule_set_backtests
from routing.selectors.setup import rule_errors
from routing.services.backtests import backtest_request
from routing.services.rule_sets import (
    RULE_FIELDS,
    rule_delete,
    rule_save,
    rule_set_activate,
    rule_set_draft_create,
)


class RoutingRuleForm(forms.ModelForm):
    """Validates a rule as the engine will compile it, so a bad rule is a form error."""

    class Meta:
        model = RoutingRule
        fields = ("rule_set", *RULE_FIELDS)
        help_texts = {
            "conditions": 'A list like [{"field": "text", "op": "contains", "value": "refund"}]. Operators: '
            + ", ".join(engine.OPERATORS)
            + ". Fields: "
            + ", ".join(sorted(engine.CONTEXT_FIELDS))
            + ".",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "rule_set" in self.fields:
            self.fields["rule_set"].queryset = RuleSet.objects.filter(status=RuleSetStatus.DRAFT)

    def _post_clean(self):
        super()._post_clean()  # the instance now holds what was submitted
        if self._errors:
            return
        # The service's own checks (rule_errors), so a bad rule is a form error, not a message.
        for key, message in rule_errors(self.instance).items():
            field, _, index = key.partition(".")
            self.add_error(
                field if field in self.fields else None, f"{index}: {message}" if index else message
            )


@admin.register(RoutingRule)
class RoutingRuleAdmin(ServiceCallAdminMixin, HistoryAdmin):
    form = RoutingRuleForm
    list_display = (
        "name",
        "rule_set",
        "priority",
        "enabled",
        "is_default",
        "category",
        "severity",
        "queue",
        "owner",
        "page_oncall",
    )
    list_filter = ("rule_set", "enabled", "category", "queue")
    list_select_related = ("rule_set", "queue", "owner")

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.rule_set.status != RuleSetStatus.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and (obj.is_default or obj.rule_set.status != RuleSetStatus.DRAFT):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in RULE_FIELDS if name in form.cleaned_data}
        saved = self.call_service(
            request,
            rule_save,
            rule_set=form.cleaned_data["rule_set"],
            rule=obj if change else None,
            **values,
        )
        if saved is not None:
            obj.pk = saved.pk

    def delete_model(self, request, obj):
        self.call_service(request, rule_delete, rule=obj)


class RuleInline(admin.TabularInline):
    model = RoutingRule
    # A rule's fields, read-only, but the key and SLA policy the rule's own page shows.
    fields = tuple(name for name in RULE_FIELDS if name not in ("key", "sla_policy"))
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ("is_default", "priority")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(RuleSet)
class RuleSetAdmin(ServiceCallAdminMixin, ReadOnlyAdminMixin, HistoryAdmin):
    """Read-only pages; copy, backtest and activate are buttons that call the services."""

    list_display = ("version", "status", "revision", "note", "created_at", "activated_at")
    readonly_fields = ("version", "status", "revision", "note", "based_on", "created_at", "activated_at")
    fields = readonly_fields
    inlines = (RuleInline,)
    change_form_template = "admin/routing/ruleset/change_form.html"

    def get_urls(self):
        return [
            path(
                "<int:rule_set_id>/act/",
                self.admin_site.admin_view(self.act_view),
                name="routing_ruleset_act",
            ),
        ] + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        rule_set = get_object_or_404(RuleSet, pk=object_id)
        extra_context = {
            **(extra_context or {}),
            "act_url": reverse("admin:routing_ruleset_act", args=[rule_set.pk]),
            "is_draft": rule_set.status == RuleSetStatus.DRAFT,
            "backtests": rule_set_backtests(rule_set),
            "can_manage": request.user.has_perm("routing.activate_ruleset"),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def act_view(self, request, rule_set_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm("routing.activate_ruleset"):
            raise PermissionDenied
        rule_set = get_object_or_404(RuleSet, pk=rule_set_id)
        action = request.POST.get("action")
        target = rule_set
        if action == "copy":
            draft = self.call_service(
                request,
                rule_set_draft_create,
                based_on=rule_set,
                note=f"Copy of v{rule_set.version}",
            )
            target = draft or rule_set
        elif action == "backtest":
            backtest = self.call_service(request, backtest_request, rule_set=rule_set)
            if backtest is not None:
                return HttpResponseRedirect(reverse("admin:routing_backtest_change", args=[backtest.pk]))
        elif action == "activate":
            activated = self.call_service(request, rule_set_activate, rule_set=rule_set)
            if activated is not None:
                self.message_user(request, f"Rule set v{rule_set.version} is now active.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:routing_ruleset_change", args=[target.pk]))


@admin.register(Backtest)
class BacktestAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    list_display = (
        "__str__",
        "baseline_version",
        "status",
        "tickets_replayed",
        "tickets_changed",
        "created_at",
        "requested_by",
    )
    change_form_template = "admin/routing/backtest/change_form.html"
    readonly_fields = (
        "rule_set",
        "baseline_version",
        "rule_set_revision",
        "status",
        "window_start",
        "window_end",
        "tickets_replayed",
        "tickets_changed",
        "requested_by",
        "created_at",
        "finished_at",
        "error",
    )
    fields = readonly_fields

    def change_view(self, request, object_id, form_url="", extra_context=None):
        backtest = get_object_or_404(Backtest, pk=object_id)
        extra_context = {**(extra_context or {}), "rule_rows": backtest_rows(backtest)}
        return super().change_view(request, object_id, form_url, extra_context)
