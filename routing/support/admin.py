"""Support pages: known issues (with the triage page of candidate clusters), releases, help
articles, product notes and the help desk's updates. Writes go through services and guarded
actions; the history and update rows are read-only."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from opsconsole.actions.admin import GuardedActionsAdminMixin
from opsconsole.adminkit import HistoryAdmin, ReadOnlyAdminMixin, ServiceCallAdminMixin
from opsconsole.errors import ApplicationError
from routing.models import HelpArticle, KnownIssue, KnownIssueLink, ProductNote, Release, Ticket, TicketUpdate
from routing.support.clusters import ticket_clusters
from routing.support.services.known_issues import (
    ADD,
    known_issue_create,
    known_issue_edit,
    product_note_create,
)

CODE_LISTS = ("reason_codes", "feature_areas", "error_codes")
TRIAGE_DAYS = 14


class CodeListField(forms.CharField):
    """A list of codes typed as ``a, b, c``."""

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        return [v.strip() for v in (value or "").split(",") if v.strip()]


class KnownIssueForm(forms.ModelForm):
    reason_codes = CodeListField(required=False, help_text="Comma-separated.")
    feature_areas = CodeListField(required=False, help_text="Comma-separated.")
    error_codes = CodeListField(
        required=False, help_text="Comma-separated; a new ticket with one of these links automatically."
    )

    class Meta:
        model = KnownIssue
        fields = (
            "title",
            "ticket_type",
            "customer_message",
            "workaround",
            "wont_fix_message",
            *CODE_LISTS,
            "owner",
            "auto_link",
        )


@admin.register(KnownIssue)
class KnownIssueAdmin(GuardedActionsAdminMixin, ServiceCallAdminMixin, HistoryAdmin):
    form = KnownIssueForm
    list_display = ("title", "status", "ticket_type", "linked_tickets", "fixed_in", "owner", "created_at")
    list_filter = ("status", "ticket_type")
    search_fields = ("title",)
    readonly_fields = ("status", "fixed_in", "closed_at")
    change_form_template = "admin/routing/knownissue/change_form.html"
    change_list_template = "admin/routing/knownissue/change_list.html"

    def get_queryset(self, request):
        # The linked tickets counted in the same query (a subquery per row, no N+1), of the
        # tickets this user may see: the number the change page lists, not a count of rows
        # in queues they may not open.
        visible = Ticket.objects.restrict(request.user, "view").values("pk")
        links = (
            KnownIssueLink.objects.filter(known_issue=OuterRef("pk"), ticket__in=visible)
            .order_by()
            .values("known_issue")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            KnownIssue.objects.restrict(request.user, "view")
            .select_related("fixed_in", "owner")
            .annotate(linked_ticket_count=Coalesce(Subquery(links), 0))
        )

    def has_add_permission(self, request):
        return request.user.has_perm(ADD)

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm(ADD)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="linked tickets", ordering="linked_ticket_count")
    def linked_tickets(self, obj):
        return obj.linked_ticket_count

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in form.Meta.fields if name in form.cleaned_data}
        if change:
            saved = self.call_service(request, known_issue_edit, known_issue=obj, **values)
        else:
            saved = self.call_service(request, known_issue_create, **values)
        if saved is not None:
            obj.pk = saved.pk

    def change_view(self, request, object_id, form_url="", extra_context=None):
        issue = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if issue is not None:
            # Only the linked tickets this user may see: a ticket's subject is as private as its page.
            visible = Ticket.objects.restrict(request.user, "view")
            context["links"] = (
                issue.links.filter(ticket__in=visible)
                .select_related("ticket", "linked_by")
                .order_by("-linked_at")
            )
            context["notices"] = (
                issue.notices.filter(ticket__in=visible).select_related("ticket").order_by("ticket_id")
            )
        return super().change_view(request, object_id, form_url, context)

    def get_urls(self):
        return [
            path("triage/", self.admin_site.admin_view(self.triage_view), name="routing_knownissue_triage"),
            *super().get_urls(),
        ]

    def triage_view(self, request):
        """Candidate clusters of unlinked tickets; a POST turns one into a known issue (or a
        product note, for a strategy signal) and links its tickets."""
        if not Ticket.objects.restrict(request.user, "view").exists() and not request.user.has_perm(ADD):
            raise PermissionDenied
        try:
            days = max(1, min(int(request.GET.get("days", TRIAGE_DAYS)), 90))
        except ValueError:
            days = TRIAGE_DAYS
        if request.method == "POST":
            return self._triage_post(request, days)
        context = {
            **self.admin_site.each_context(request),
            "title": "Triage: candidate clusters",
            "clusters": ticket_clusters(request.user, days=days),
            "days": days,
            "may_create": request.user.has_perm(ADD),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/routing/knownissue/triage.html", context)

    def _triage_post(self, request, days: int):
        ids = [int(v) for v in request.POST.getlist("ticket") if v.isascii() and v.isdigit()]
        cluster = next(
            (c for c in ticket_clusters(request.user, days=days) if c.key == request.POST.get("cluster")),
            None,
        )
        back = f"{reverse('admin:routing_knownissue_triage')}?days={days}"
        if cluster is None or set(ids) != set(cluster.ticket_ids):
            self.message_user(request, "The cluster changed since you looked; look again.", messages.WARNING)
            return HttpResponseRedirect(back)
        title = (request.POST.get("title") or cluster.title).strip()
        try:
            if request.POST.get("kind") == "product_note":
                note = product_note_create(
                    title=title,
                    decision=request.POST.get("decision", ""),
                    tickets=cluster.tickets,
                    actor=request.user,
                )
                self.message_user(
                    request, f"Product note “{note.title}” written from {cluster.size} tickets."
                )
                return HttpResponseRedirect(back)
            issue = known_issue_create(
                title=title,
                error_codes=[cluster.error_code] if cluster.error_code else [],
                feature_areas=[cluster.feature_area] if cluster.feature_area else [],
                ticket_type=next(iter(cluster.types)) if next(iter(cluster.types)) != "untyped" else "bug",
                tickets=cluster.tickets,
                actor=request.user,
            )
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(back)
        self.message_user(request, f"Known issue “{issue.title}” created with {cluster.size} tickets linked.")
        return HttpResponseRedirect(reverse("admin:routing_knownissue_change", args=[issue.pk]))


@admin.register(Release)
class ReleaseAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    """Releases are recorded when a known issue is marked fixed in one."""

    list_display = ("version", "released_on")


class HelpArticleForm(forms.ModelForm):
    reason_codes = CodeListField(required=False, help_text="Comma-separated reason codes it fixes.")
    feature_areas = CodeListField(required=False, help_text="Comma-separated feature areas.")

    class Meta:
        model = HelpArticle
        fields = ("title", "url", "reason_codes", "feature_areas", "active")


@admin.register(HelpArticle)
class HelpArticleAdmin(HistoryAdmin):
    """Tier 0: what the provisioning status offers a blocked customer as ``help_url``."""

    form = HelpArticleForm
    list_display = ("title", "url", "reason_codes", "feature_areas", "active")


@admin.register(ProductNote)
class ProductNoteAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    list_display = ("title", "created_by", "created_at")


@admin.register(TicketUpdate)
class TicketUpdateAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("ticket", "kind", "occurred_at", "public", "rating", "received_at")
    list_filter = ("kind", "rating")

    def get_queryset(self, request):
        worked = Ticket.objects.restrict(request.user, "view").values("pk")
        return TicketUpdate.objects.filter(ticket__in=worked).select_related("ticket")
