"""Queue pages: the list with each queue's open-ticket figures, a queue's board, and the weekly
rule review."""

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from opsconsole import panels
from opsconsole.adminkit import HistoryAdmin
from routing.models import Queue
from routing.panels import RULE_REVIEW
from routing.selectors.figures import HIGH_REASSIGNMENT_SHARE, queue_board, queues_stats, rule_review


class QueueChangeList(ChangeList):
    """Attaches each listed queue's figures, computed for the whole page in one query. They
    live on the rows of this request, never on the admin, which every request shares."""

    def get_results(self, request):
        super().get_results(request)
        stats = queues_stats(self.result_list)
        for queue in self.result_list:
            queue.figures = stats[queue.pk]


@admin.register(Queue)
class QueueAdmin(HistoryAdmin):
    list_display = (
        "code",
        "name",
        "team",
        "tier",
        "open_tickets",
        "age_p50",
        "age_p90",
        "age_p99",
        "past_target",
        "board",
    )
    change_list_template = "admin/routing/queue/change_list.html"

    def get_queryset(self, request):
        return Queue.objects.restrict(request.user, "view")

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
        if not Queue.objects.allows(request.user, queue, "view"):
            raise PermissionDenied
        board = queue_board(queue, user=request.user)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Queue {queue.name}",
            "queue": queue,
            "stats": board["stats"],
            "svg": _histogram_svg(board["stats"]["histogram"]),
            "rows": board["rows"],
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/routing/queue/board.html", context)

    def rule_review_view(self, request):
        if not request.user.has_perm("routing.view_routingdecision"):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Weekly rule review",
            "rows": rule_review(now=timezone.now()),
            "threshold": HIGH_REASSIGNMENT_SHARE,
            # What higher layers add here (reports: engineering escalations per 100 accounts).
            "panels": panels.render(RULE_REVIEW, request),
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
