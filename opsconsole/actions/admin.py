"""Console pages for guarded actions: the runs (read-only, append-only), the approval inbox,
runbooks, product commands, and the mixin that puts action buttons on other admin pages."""

from django.contrib import admin
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html

from opsconsole.actions import views
from opsconsole.actions.permissions import may_run
from opsconsole.actions.registry import action_label, get_action
from opsconsole.actions.selectors import actions_offered, approvals_waiting_for, money_moves
from opsconsole.actions.services import pending_run_preview
from opsconsole.adminkit import (
    HistoryAdmin,
    ReadOnlyAdminMixin,
    RestrictedAdminMixin,
    fact_value,
    facts_list,
    facts_table,
    json_details,
    open_first_status_filter,
    person_facing_fields,
    rows_table,
)
from opsconsole.formatting import human_time_html
from opsconsole.links import action_run_url, admin_url
from opsconsole.models import ActionApproval, ActionRun, ActionStatus, ApprovalStatus, OutboxMessage, Runbook
from opsconsole.runbooks import case_runbook


class OutboxInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = OutboxMessage
    fk_name = "action_run"
    extra = 0
    fields = (
        "id",
        "destination",
        "command",
        "status",
        "attempts",
        "response_status",
        "last_error",
        "delivered_at",
    )
    readonly_fields = fields
    verbose_name = "outbox message"
    verbose_name_plural = "product commands and CRM pushes (outbox deliveries)"


@admin.register(ActionRun)
class ActionRunAdmin(RestrictedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("run", "target", "actor", "status_label", "created")
    list_display_links = ("run",)
    list_filter = ("status", "action", "entry_point")
    search_fields = ("target_repr", "actor__username", "idempotency_key", "request_id")
    date_hierarchy = "created_at"
    inlines = [OutboxInline]
    change_form_template = "opsconsole/actions/actionrun_change_form.html"
    fields = (
        "action",
        "status",
        "actor",
        "target",
        "account",
        "entry_point",
        "request_id",
        "parameters",
        "evidence_given",
        "runbook",
        "changes_table",
        "external_calls",
        "outcome",
        "error_code",
        "error_message",
        "reversal_of",
        "reversed_by",
        "created_at",
        "finished_at",
        "idempotency_key",
        "reviewed_preview",
    )
    readonly_fields = fields

    @admin.display(description="Run", ordering="pk")
    def run(self, run):
        return format_html(
            '#{} {}<div class="oc-quiet">{}</div>', run.pk, action_label(run.action), run.entry_point
        )

    @admin.display(description="On", ordering="target_repr")
    def target(self, run):
        return run.target_repr

    @admin.display(description="Status", ordering="status")
    def status_label(self, run):
        return run.get_status_display()

    @admin.display(description="When", ordering="created_at")
    def created(self, run):
        return human_time_html(run.created_at)

    @admin.display(description="parameters")
    def parameters(self, run):
        return facts_table(run.params)

    @admin.display(description="evidence")
    def evidence_given(self, run):
        return facts_list(run.evidence)

    @admin.display(description="external calls")
    def external_calls(self, run):
        rows = [
            (
                call.get("system", ""),
                call.get("operation", ""),
                facts_table(call.get("payload")),
                "made" if call.get("performed") else call.get("error") or "not made",
            )
            for call in run.external_commands
        ]
        return rows_table(("system", "operation", "payload", "outcome"), rows)

    @admin.display(description="result")
    def outcome(self, run):
        return facts_table(run.result)

    @admin.display(description="preview")
    def reviewed_preview(self, run):
        return json_details(run.preview, "the preview the person confirmed (JSON)")

    @admin.display(description="field changes")
    def changes_table(self, run):
        if not run.changes and run.status == ActionStatus.AWAITING_APPROVAL:
            return "Not made yet: what the run will change is listed above, under Approval."
        rows = [
            (c["model"], c["pk"], f["field"], fact_value(f["before"]), fact_value(f["after"]))
            for c in run.changes
            for f in person_facing_fields(c)
        ]
        return rows_table(("model", "id", "field", "before", "after"), rows)

    @admin.display(description="reversed by")
    def reversed_by(self, run):
        reversal = run.reversals.filter(status=ActionStatus.SUCCEEDED).first()
        if reversal is None:
            return "—"
        return format_html(
            '<a href="{}">#{}</a>',
            action_run_url(reversal),
            reversal.pk,
        )

    def get_urls(self):
        site = self.admin_site

        def wrap(view):
            return site.admin_view(lambda request, **kw: view(request, site, **kw))

        return [
            path(
                "run/<str:name>/<str:model_name>/<str:pk>/",
                wrap(views.action_form_view),
                name="opsconsole_action_form",
            ),
            path("<int:run_pk>/reverse/", wrap(views.reverse_view), name="opsconsole_action_reverse"),
            path(
                "approvals/<int:approval_pk>/decide/",
                wrap(views.approval_decide_view),
                name="opsconsole_approval_decide",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if run is not None:
            action = get_action(run.action)
            target = run.target_type.get_object_for_this_type(pk=run.target_id)
            context["can_reverse"] = (
                action.reversible
                and run.status == ActionStatus.SUCCEEDED
                and run.reversal_of_id is None
                and may_run(request.user, action, target)
            )
            approval = getattr(run, "approval", None)
            context["approval"] = approval
            context["run"] = run
            context["can_decide"] = (
                approval is not None
                and approval.status == ApprovalStatus.PENDING
                and approval.requested_by_id != request.user.pk
                and request.user.has_perm("opsconsole.approve_actionrun")
            )
            if run.status == ActionStatus.AWAITING_APPROVAL:
                planned = pending_run_preview(run)
                context["planned"] = planned
                context["money_moves"] = money_moves(planned.get("changes") or [])
        return super().change_view(request, object_id, form_url, extra_context=context)


@admin.register(ActionApproval)
class ActionApprovalAdmin(RestrictedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The approval inbox: pending requests first, oldest SLA first."""

    # Five columns fit a 1280 px laptop; the reason, expiry and the change itself are on the run.
    list_display = ("run_link", "target", "requested_by", "waiting", "status")
    # Pending requests first: the status filter starts on them (Meta.ordering: soonest expiry).
    list_filter = (open_first_status_filter([ApprovalStatus.PENDING], ApprovalStatus.choices),)
    change_list_template = "opsconsole/actions/approval_inbox.html"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("run", "requested_by")

    @admin.display(description="run")
    def run_link(self, approval):
        return format_html(
            '<a href="{}">#{} {}</a>',
            admin_url("admin:opsconsole_actionrun_change", approval.run_id),
            approval.run_id,
            approval.run.action,
        )

    @admin.display(description="target")
    def target(self, approval):
        return approval.run.target_repr

    @admin.display(description="waiting")
    def waiting(self, approval):
        minutes = int((timezone.now() - approval.requested_at).total_seconds() // 60)
        overdue = approval.status == ApprovalStatus.PENDING and approval.sla_due_at <= timezone.now()
        return f"{minutes} min" + (" (over SLA)" if overdue else "")

    def changelist_view(self, request, extra_context=None):
        context = {"waiting_for_me": approvals_waiting_for(request.user), **(extra_context or {})}
        return super().changelist_view(request, extra_context=context)


@admin.register(Runbook)
class RunbookAdmin(RestrictedAdminMixin, HistoryAdmin):
    list_display = ("code", "title", "reason_code", "owner_role", "active")
    list_filter = ("active", "owner_role")
    search_fields = ("code", "title", "stop_rule")

    def has_delete_permission(self, request, obj=None):
        return False  # retire a runbook (active = False): runs point at it


@admin.register(OutboxMessage)
class OutboxMessageAdmin(RestrictedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "created_at",
        "destination",
        "command",
        "account",
        "status",
        "attempts",
        "response_status",
    )
    list_filter = ("status", "destination", "command")
    list_select_related = ("account",)
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]


class GuardedActionsAdminMixin:
    """Put the guarded actions on the admin page of an action target (an account, an exception).

    Adds to the change page's context: ``guarded_actions`` (the buttons this user may press)
    and ``runbook`` (on a case, such as an exception). Render them with
    ``{% include "opsconsole/actions/panel.html" %}``; a ModelAdmin without its own template
    gets ``opsconsole/actions/change_form.html``, which does that. The panel also shows a
    ``timeline`` the page puts in its context (the account page does).
    """

    change_form_template = "opsconsole/actions/change_form.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = dict(extra_context or {})
        obj = self.get_object(request, object_id)
        if obj is not None:
            context["guarded_actions"] = actions_offered(request.user, obj)
            context["runbook"] = case_runbook(obj)
        return super().change_view(request, object_id, form_url, extra_context=context)
