"""Support's reads: known issues for a ticket page and the product's banners."""

from django.db.models import Count, Q

from routing.choices import OPEN_KNOWN_ISSUE_STATUSES
from routing.support.models import HelpArticle, KnownIssue, TicketNotice, TicketUpdate


def help_article_for(reason_code: str, feature_area: str = "") -> HelpArticle | None:
    """Tier 0: the active article for a blocking reason; one naming the reason code wins over
    one naming only the feature area, and the lowest id breaks a tie."""
    articles = HelpArticle.objects.filter(active=True).order_by("pk")
    by_reason = [a for a in articles if reason_code and reason_code in a.reason_codes]
    by_area = [a for a in articles if feature_area and feature_area in a.feature_areas]
    return (by_reason or by_area or [None])[0]


def help_url_for(reason_code: str, feature_area: str = "") -> str | None:
    article = help_article_for(reason_code, feature_area)
    return article.url if article else None


def known_issues_for_banner(user, *, statuses: list[str]) -> list[dict]:
    issues = KnownIssue.objects.restrict(user, "view").select_related("fixed_in")
    if statuses:
        issues = issues.filter(status__in=statuses)
    return [
        {
            "id": issue.pk,
            "title": issue.title,
            "status": issue.status,
            "customer_message": issue.customer_message,
            "workaround": issue.workaround,
            "release": issue.fixed_in.version if issue.fixed_in_id else None,
            "reason_codes": issue.reason_codes,
            "feature_areas": issue.feature_areas,
        }
        for issue in issues
    ]


def known_issues_matching(ticket, user) -> list[KnownIssue]:
    """Open known issues whose error codes or feature areas match the ticket, those sharing its
    error code first; each says whether the ticket is linked already (``linked``)."""
    linked = set(ticket.known_issue_links.values_list("known_issue_id", flat=True))
    candidates = (
        KnownIssue.objects.restrict(user, "view")
        .filter(Q(pk__in=linked) | Q(status__in=OPEN_KNOWN_ISSUE_STATUSES))
        .annotate(ticket_count=Count("links"))
    )
    issues = [
        issue
        for issue in candidates
        if issue.pk in linked
        or (ticket.error_code and ticket.error_code in issue.error_codes)
        or (ticket.feature_area and ticket.feature_area in issue.feature_areas)
    ]
    for issue in issues:
        issue.linked = issue.pk in linked
        issue.by_error_code = bool(ticket.error_code) and ticket.error_code in issue.error_codes
    return sorted(issues, key=lambda i: (not i.by_error_code, -i.ticket_count, i.pk))


def ticket_support_page(ticket, user) -> dict:
    """What the ticket page shows of support: help-desk updates, known issues, notices."""
    return {
        "support_updates": list(TicketUpdate.objects.filter(ticket=ticket).order_by("occurred_at", "id")),
        "known_issues": known_issues_matching(ticket, user),
        "notices": list(TicketNotice.objects.filter(ticket=ticket).select_related("known_issue", "release")),
    }
