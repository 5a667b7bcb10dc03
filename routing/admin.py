"""The console's routing pages. Thin: reads come from selectors, every write calls a service.

Tickets have no edit form: an agent works a ticket with the buttons on its page (take, respond,
wait, resume, reassign with a reason, solve, escalate). Rules are edited in draft rule sets,
backtested, then activated.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from opsconsole.adminkit import HistoryAdmin, ReadOnlyAdminMixin, ServiceCallAdminMixin
from routing import engine, selectors, services
from routing.choices import Category, RuleSetStatus, Severity
from routing.models import (
    Backtest,
    BusinessCalendar,
    Escalation,
    Holiday,
    Queue,
    RoutingDecision,
    RoutingRule,
    RuleSet,
    SlaBreach,
    SlaPolicy,
    Ticket,
)

# --- Tickets -------------------------------------------------------------------------------------


class ReassignForm(forms.Form):
    queue = forms.ModelChoiceField(queryset=Queue.objects.all())
    owner = forms.ModelChoiceField(queryset=get_user_model().objects.filter(is_staff=True), required=False)
    category = forms.ChoiceField(choices=[("", "keep")] + list(Category.choices), required=False)
    severity = forms.ChoiceField(choices=[("", "keep")] + list(Severity.choices), required=False)
    reason = forms.CharField(max_length=500, widget=forms.TextInput(attrs={"size": 60}))


class SolveForm(forms.Form):
    final_category = forms.ChoiceField(choices=Category.choices)


class EscalateForm(forms.Form):
    summary = forms.CharField(max_length=300, widget=forms.TextInput(attrs={"size": 60}))


@admin.register(Ticket)
class TicketAdmin(ServiceCallAdminMixin, ReadOnlyAdminMixin, HistoryAdmin):
    list_display = (
        "__str__",
        "subject",
        "category",
        "severity",
        "queue",
        "owner",
        "status",
        "created_at",
        "due",
    )
    list_filter = ("status", "severity", "category", "queue")
    search_fields = ("external_id", "subject", "requester_email", "account__external_id")
    list_select_related = ("queue", "owner")
    date_hierarchy = "created_at"
    change_form_template = "admin/routing/ticket/change_form.html"
    readonly_fields = (
        "source",
        "external_id",
        "requester_email",
        "subject",
        "body",
        "account",
        "account_match",
        "category",
        "severity",
        "queue",
        "owner",
        "status",
        "sla_policy",
        "created_at",
        "owner_assigned_at",
        "first_response_at",
        "solved_at",
        "owner_due_at",
        "first_response_due_at",
        "resolution_due_at",
        "final_category",
        "reassignment_count",
        "error_code",
        "request_id",
        "feature_area",
    )
    fieldsets = (
        (None, {"fields": ("source", "external_id", "requester_email", "subject", "body")}),
        ("Routing", {"fields": ("category", "severity", "queue", "owner", "status", "reassignment_count")}),
        (
            "SLA",
            {
                "fields": (
                    "sla_policy",
                    "created_at",
                    ("owner_due_at", "owner_assigned_at"),
                    ("first_response_due_at", "first_response_at"),
                    ("resolution_due_at", "solved_at"),
                    "final_category",
                )
            },
        ),
        ("Account", {"fields": ("account", "account_match", "error_code", "request_id", "feature_area")}),
    )

    def get_queryset(self, request):
        return selectors.tickets_visible_to(request.user)

    def has_view_permission(self, request, obj=None):
        if obj is not None:
            return selectors.can_work_queue(request.user, obj.queue)
        return super().has_view_permission(request, obj)

    @admin.display(description="Next due")
    def due(self, obj):
        pending = [
            d
            for d, met in (
                (obj.owner_due_at, obj.owner_assigned_at),
                (obj.first_response_due_at, obj.first_response_at),
                (obj.resolution_due_at, obj.solved_at),
            )
            if d and met is None
        ]
        if not pending:
            return "-"
        first = min(pending)
        if first <= timezone.now():
            return format_html(
                '<strong style="color:#ba2121">{} (past)</strong>', first.strftime("%Y-%m-%d %H:%M")
            )
        return first.strftime("%Y-%m-%d %H:%M")

    def get_urls(self):
        return [
            path(
                "<int:ticket_id>/act/", self.admin_site.admin_view(self.act_view), name="routing_ticket_act"
            ),
        ] + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        ticket = get_object_or_404(self.get_queryset(request), pk=object_id)
        extra_context = {
            **(extra_context or {}),
            "decisions": selectors.ticket_decisions(ticket),
            "context": ticket.context,
            "breaches": ticket.breaches.order_by("detected_at"),
            "escalations": ticket.escalations.select_related("queue"),
            "reassign_form": ReassignForm(initial={"queue": ticket.queue_id, "owner": ticket.owner_id}),
            "solve_form": SolveForm(initial={"final_category": ticket.category}),
            "escalate_form": EscalateForm(),
            # Working a ticket is granted per queue (guardian); the services check it again.
            "can_work": selectors.can_work_queue(request.user, ticket.queue),
            "act_url": reverse("admin:routing_ticket_act", args=[ticket.pk]),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def act_view(self, request, ticket_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        ticket = get_object_or_404(self.get_queryset(request), pk=ticket_id)
        if not selectors.can_work_queue(request.user, ticket.queue):
            raise PermissionDenied
        action = request.POST.get("action")
        done = None  # what the service returned; None when it refused or did not run
        if action == "take":
            done = self.call_service(
                request,
                services.ticket_reassign,
                ticket=ticket,
                queue=ticket.queue,
                owner=request.user,
                reason="Taken by the agent.",
            )
        elif action == "respond":
            done = self.call_service(request, services.ticket_respond, ticket=ticket)
        elif action == "wait":
            done = self.call_service(request, services.ticket_wait, ticket=ticket)
        elif action == "resume":
            done = self.call_service(request, services.ticket_resume, ticket=ticket)
        elif action in ("reassign", "solve", "escalate"):
            form_class = {"reassign": ReassignForm, "solve": SolveForm, "escalate": EscalateForm}[action]
            form = form_class(request.POST)
            if not form.is_valid():
                self.message_user(request, f"{action}: {form.errors.as_text()}", messages.ERROR)
            elif action == "reassign":
                data = form.cleaned_data
                done = self.call_service(
                    request,
                    services.ticket_reassign,
                    ticket=ticket,
                    queue=data["queue"],
                    owner=data["owner"],
                    reason=data["reason"],
                    category=data["category"] or None,
                    severity=data["severity"] or None,
                )
            elif action == "solve":
                done = self.call_service(
                    request,
                    services.ticket_solve,
                    ticket=ticket,
                    final_category=form.cleaned_data["final_category"],
                )
            else:
                done = self.call_service(
                    request, services.ticket_escalate, ticket=ticket, summary=form.cleaned_data["summary"]
                )
        else:
            self.message_user(request, f"Unknown action {action!r}.", messages.ERROR)
        if done is not None:
            self.message_user(request, f"Done: {action}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:routing_ticket_change", args=[ticket.pk]))


@admin.register(RoutingDecision)
class RoutingDecisionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # Decisions are append-only rows without history: a history page would have nothing to show.
    list_display = (
        "ticket",
        "kind",
        "rule_key",
        "rule_set_version",
        "queue",
        "owner",
        "severity",
        "decided_at",
    )
    list_filter = ("kind", "rule_key")
    list_select_related = ("ticket", "queue", "owner")


# --- Queues --------------------------------------------------------------------------------------


class QueueChangeList(ChangeList):
    """Attaches each listed queue's figures, computed for the whole page in one query. They
    live on the rows of this request, never on the admin, which every request shares."""

    def get_results(self, request):
        super().get_results(request)
        stats = selectors.queues_stats(self.result_list)
        for queue in self.result_list:
            queue.figures = stats[queue.pk]


@admin.register(Queue)
class QueueAdmin(HistoryAdmin):
    list_display = (
        "code",
        "name",
        "team",
        "open_tickets",
        "age_p50",
        "age_p90",
        "age_p99",
        "past_target",
        "board",
    )
    change_list_template = "admin/routing/queue/change_list.html"

    def get_queryset(self, request):
        return selectors.queues_visible_to(request.user)

    def get_changelist(self, request, **kwargs):
        return QueueChangeList

    @admin.display(description="Open")
    def open_tickets(self, obj):
        return obj.figures["open"]

    @admin.display(description="Age p50 (h)")
    def age_p50(self, obj):
        return _hours(obj.figures["p50_hours"])

    @admin.display(description="Age p90 (h)")
    def age_p90(self, obj):
        return _hours(obj.figures["p90_hours"])

    @admin.display(description="Age p99 (h)")
    def age_p99(self, obj):
        return _hours(obj.figures["p99_hours"])

    @admin.display(description="Past target")
    def past_target(self, obj):
        return obj.figures["past_target"]

    @admin.display(description="")
    def board(self, obj):
        return format_html('<a href="{}">Board</a>', reverse("admin:routing_queue_board", args=[obj.pk]))

    def get_urls(self):
        return [
            path(
                "<int:queue_id>/board/",
                self.admin_site.admin_view(self.board_view),
                name="routing_queue_board",
            ),
            path(
                "rule-review/", self.admin_site.admin_view(self.rule_review_view), name="routing_rule_review"
            ),
        ] + super().get_urls()

    def board_view(self, request, queue_id):
        queue = get_object_or_404(Queue, pk=queue_id)
        if not selectors.can_work_queue(request.user, queue):
            raise PermissionDenied
        stats = selectors.queue_stats(queue)
        now = timezone.now()
        tickets = list(
            selectors.tickets_visible_to(request.user)
            .filter(queue=queue, status__in=["new", "assigned", "waiting", "escalated"])
            .order_by("created_at")[:50]
        )
        rows = [
            {
                "ticket": t,
                "age_hours": (now - t.created_at).total_seconds() / 3600,
                "past": selectors.past_target(t, now),
            }
            for t in tickets
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": f"Queue {queue.name}",
            "queue": queue,
            "stats": stats,
            "svg": _histogram_svg(stats["histogram"]),
            "rows": rows,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/routing/queue/board.html", context)

    def rule_review_view(self, request):
        if not request.user.has_perm("routing.view_routingdecision"):
            raise PermissionDenied
        now = timezone.now()
        context = {
            **self.admin_site.each_context(request),
            "title": "Weekly rule review",
            "rows": selectors.rule_review(now=now),
            "threshold": selectors.HIGH_REASSIGNMENT_SHARE,
            "escalations": selectors.engineering_escalations_per_100_accounts(
                since=now - timezone.timedelta(days=28), until=now
            ),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/routing/rule_review.html", context)


def _hours(value):
    return "-" if value is None else f"{value:.1f}"


def _histogram_svg(buckets: list[dict]) -> str:
    """An inline SVG bar chart of open-ticket ages; plain markup, no script."""
    width, height, bar_gap, label_h = 480, 160, 8, 28
    top = max((b["count"] for b in buckets), default=0) or 1
    bar_w = (width - bar_gap * (len(buckets) + 1)) / max(len(buckets), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + label_h}" '
        f'role="img" aria-label="Open tickets by age">'
    ]
    for i, bucket in enumerate(buckets):
        h = (height - 20) * bucket["count"] / top
        x = bar_gap + i * (bar_w + bar_gap)
        y = height - h
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="#417690"/>')
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{y - 4:.1f}" font-size="11" text-anchor="middle">'
            f"{bucket['count']}</text>"
        )
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{height + 16}" font-size="11" text-anchor="middle">'
            f"{bucket['label']}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


# --- Rules, rule sets and backtests ------------------------------------------------------------------


class RoutingRuleForm(forms.ModelForm):
    """Validates a rule as the engine will compile it, so a bad rule is a form error."""

    class Meta:
        model = RoutingRule
        fields = ("rule_set", *services.RULE_FIELDS)
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

    def clean(self):
        data = super().clean()
        is_default = bool(self.instance and self.instance.is_default)
        try:
            engine.validate_rule(
                match=data.get("match"), conditions=data.get("conditions"), is_default=is_default
            )
        except engine.RuleInvalid as exc:
            raise forms.ValidationError({"conditions": [f"{k}: {v}" for k, v in exc.errors.items()]}) from exc
        owner, queue = data.get("owner"), data.get("queue")
        if owner is not None and queue is not None and not selectors.can_work_queue(owner, queue):
            raise forms.ValidationError({"owner": f"{owner} does not work the queue {queue.code!r}."})
        return data


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
        values = {name: form.cleaned_data[name] for name in services.RULE_FIELDS if name in form.cleaned_data}
        saved = self.call_service(
            request,
            services.rule_save,
            rule_set=form.cleaned_data["rule_set"],
            rule=obj if change else None,
            **values,
        )
        if saved is not None:
            obj.pk = saved.pk

    def delete_model(self, request, obj):
        self.call_service(request, services.rule_delete, rule=obj)


class RuleInline(admin.TabularInline):
    model = RoutingRule
    fields = (
        "priority",
        "name",
        "enabled",
        "match",
        "conditions",
        "category",
        "severity",
        "queue",
        "owner",
        "page_oncall",
    )
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
            "backtests": rule_set.backtests.all()[:5],
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
                services.rule_set_draft_create,
                based_on=rule_set,
                note=f"Copy of v{rule_set.version}",
            )
            target = draft or rule_set
        elif action == "backtest":
            backtest = self.call_service(request, services.backtest_request, rule_set=rule_set)
            if backtest is not None:
                return HttpResponseRedirect(reverse("admin:routing_backtest_change", args=[backtest.pk]))
        elif action == "activate":
            activated = self.call_service(request, services.rule_set_activate, rule_set=rule_set)
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
        rows = sorted(backtest.per_rule.items(), key=lambda item: -item[1]["changed"])
        extra_context = {**(extra_context or {}), "rule_rows": rows}
        return super().change_view(request, object_id, form_url, extra_context)


# --- SLA configuration and escalations ------------------------------------------------------------


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(HistoryAdmin):
    list_display = ("name", "timezone", "day_start", "day_end", "weekdays")
    inlines = (HolidayInline,)


@admin.register(SlaPolicy)
class SlaPolicyAdmin(HistoryAdmin):
    list_display = (
        "name",
        "severity",
        "shape",
        "channel",
        "business_hours",
        "owner_minutes",
        "first_response_minutes",
        "resolution_minutes",
    )
    list_filter = ("severity", "business_hours")


@admin.register(SlaBreach)
class SlaBreachAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    list_display = ("ticket", "target", "due_at", "detected_at", "queue")
    list_filter = ("target", "queue")


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    list_display = ("__str__", "kind", "status", "queue", "channel", "summary", "error_code", "created_at")
    list_filter = ("kind", "status", "queue", "channel")
    readonly_fields = (
        "kind",
        "status",
        "account",
        "channel",
        "queue",
        "ticket",
        "source_exception",
        "reason_code",
        "summary",
        "error_code",
        "request_id",
        "feature_area",
        "telemetry",
        "created_at",
        "created_by",
        "resolved_at",
    )
