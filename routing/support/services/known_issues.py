"""Known issues: creating them, linking tickets as evidence (by hand or by the matching rule),
releases, closing an issue (fixed in a release, or won't fix) and telling each linked ticket's
requester once, and product notes from strategy-signal clusters."""

from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone

from opsconsole.errors import Conflict, PermissionRefused, ValidationFailed
from opsconsole.history import service
from routing.choices import (
    CLOSED_KNOWN_ISSUE_STATUSES,
    OPEN_KNOWN_ISSUE_STATUSES,
    KnownIssueStatus,
    NoticeKind,
    TicketType,
)
from routing.models import Ticket
from routing.support.models import KnownIssue, KnownIssueLink, ProductNote, Release, TicketNotice
from routing.support.services.helpdesk import helpdesk_reply_push

ADD = "routing.add_knownissue"
LINK = "routing.link_knownissue"
CLOSE = "routing.close_knownissue"

FIXED_TEXT = (
    "Good news: the problem you reported ({title}) is fixed in release {release}. {message}"
    "\n\nThank you for telling us; your report helped us find it."
)
WONT_FIX_TEXT = (
    "An update on the problem you reported ({title}): after weighing it, we decided not to change "
    "this. {message}\n\n{workaround}Thank you for telling us; it was a deliberate decision, "
    "and your report was part of it."
)


def _require(actor, permission: str, what: str) -> None:
    if not actor.has_perm(permission):
        raise PermissionRefused("permission_denied", f"Your role may not {what}.")


def _clean_list(values) -> list[str]:
    return sorted({str(v).strip() for v in values or [] if str(v).strip()})


@service
def known_issue_create(
    *,
    title: str,
    actor,
    status: str = KnownIssueStatus.INVESTIGATING,
    ticket_type: str = TicketType.BUG,
    customer_message: str = "",
    workaround: str = "",
    wont_fix_message: str = "",
    reason_codes=(),
    feature_areas=(),
    error_codes=(),
    owner=None,
    auto_link: bool = True,
    tickets=(),
) -> KnownIssue:
    """A new known issue (open: investigating or fix in progress), with ``tickets`` linked."""
    _require(actor, ADD, "create known issues")
    if not (title or "").strip():
        raise ValidationFailed("title_required", "A known issue needs a title.")
    if status not in OPEN_KNOWN_ISSUE_STATUSES:
        raise ValidationFailed("status_open", "A known issue starts investigating or with a fix in progress.")
    if ticket_type not in TicketType.values:
        raise ValidationFailed("unknown_type", f"Unknown ticket type {ticket_type!r}.")
    issue = KnownIssue.objects.create(
        title=title.strip()[:200],
        status=status,
        ticket_type=ticket_type,
        customer_message=customer_message,
        workaround=workaround,
        wont_fix_message=wont_fix_message,
        reason_codes=_clean_list(reason_codes),
        feature_areas=_clean_list(feature_areas),
        error_codes=_clean_list(error_codes),
        auto_link=auto_link,
        owner=owner,
    )
    for ticket in tickets:
        _link(issue, ticket, automatic=False, actor=actor)
    return issue


def _link(issue: KnownIssue, ticket: Ticket, *, automatic: bool, actor) -> bool:
    try:
        with transaction.atomic():
            KnownIssueLink.objects.create(
                known_issue=issue, ticket=ticket, automatic=automatic, linked_by=actor
            )
    except IntegrityError:
        return False
    return True


@service
def known_issue_link(*, known_issue: KnownIssue, ticket: Ticket, actor) -> bool:
    """Link a ticket to a known issue by hand; True if new (linking twice links once)."""
    _require(actor, LINK, "link tickets to known issues")
    return _link(known_issue, ticket, automatic=False, actor=actor)


def known_issues_auto_link(*, ticket: Ticket, actor) -> list[KnownIssue]:
    """The matching rule at intake: open known issues with automatic linking whose error codes
    include the ticket's error code link it. (A feature area alone is too broad to be proof;
    the ticket page offers those for one click.)"""
    if not ticket.error_code:
        return []
    issues = [
        issue
        for issue in KnownIssue.objects.filter(status__in=OPEN_KNOWN_ISSUE_STATUSES, auto_link=True)
        if ticket.error_code in issue.error_codes
    ]
    return [issue for issue in issues if _link(issue, ticket, automatic=True, actor=actor)]


@service
def release_create(*, version: str, released_on: date, notes: str = "", actor) -> Release:
    _require(actor, CLOSE, "record releases")
    if not (version or "").strip():
        raise ValidationFailed("version_required", "A release needs a version.")
    release, _ = Release.objects.get_or_create(
        version=version.strip(), defaults={"released_on": released_on, "notes": notes}
    )
    return release


@service
def known_issue_close(
    *, known_issue: KnownIssue, status: str, release: Release | None = None, notify: bool = True, actor
) -> list[TicketNotice]:
    """Mark a known issue fixed (in ``release``) or won't fix, and tell each linked ticket's
    requester with a public reply through the help desk, once per ticket: a TicketNotice per
    (ticket, issue, kind) is unique, so a repeat, or two people at once, sends nothing twice.
    Returns the notices written now."""
    _require(actor, CLOSE, "mark known issues fixed or won't fix")
    if status not in CLOSED_KNOWN_ISSUE_STATUSES:
        raise ValidationFailed("status_closed", "Close a known issue as fixed or won't fix.")
    if status == KnownIssueStatus.FIXED and release is None:
        raise ValidationFailed("release_required", "Say which release fixed it.")
    issue = KnownIssue.objects.select_for_update().get(pk=known_issue.pk)
    if issue.status in CLOSED_KNOWN_ISSUE_STATUSES and issue.status != status:
        raise Conflict("known_issue_closed", f"The known issue is already {issue.get_status_display()}.")
    if issue.status != status:
        issue.status = status
        issue.closed_at = timezone.now()
        issue.fixed_in = release if status == KnownIssueStatus.FIXED else None
        issue.save()
    if not notify:
        return []
    return _notify(issue, NoticeKind.FIXED if status == KnownIssueStatus.FIXED else NoticeKind.WONT_FIX)


def notice_text(issue: KnownIssue, kind: str) -> str:
    if kind == NoticeKind.FIXED:
        return FIXED_TEXT.format(
            title=issue.title, release=issue.fixed_in.version, message=issue.customer_message
        ).strip()
    workaround = f"What you can do instead: {issue.workaround}\n\n" if issue.workaround else ""
    return WONT_FIX_TEXT.format(
        title=issue.title, message=issue.wont_fix_message or issue.customer_message, workaround=workaround
    ).strip()


def _notify(issue: KnownIssue, kind: str) -> list[TicketNotice]:
    body = notice_text(issue, kind)
    written = []
    for link in issue.links.select_related("ticket__account").order_by("ticket_id"):
        notice = TicketNotice(
            ticket=link.ticket, known_issue=issue, kind=kind, release=issue.fixed_in, body=body
        )
        try:
            with transaction.atomic():
                notice.save(force_insert=True)
        except IntegrityError:
            continue
        message = helpdesk_reply_push(
            ticket=link.ticket, body=body, dedupe_key=f"helpdesk:notice:{notice.pk}"
        )
        if message is not None:
            notice.outbox_message = message.pk
            notice.save(update_fields=["outbox_message"])
        written.append(notice)
    return written


@service
def product_note_create(*, title: str, decision: str, tickets=(), actor) -> ProductNote:
    """Record what a strategy-signal cluster changed in the product's decisions."""
    _require(actor, ADD, "write product notes")
    if not (title or "").strip() or not (decision or "").strip():
        raise ValidationFailed("note_incomplete", "A product note needs a title and the decision it changed.")
    note = ProductNote.objects.create(title=title.strip()[:200], decision=decision.strip(), created_by=actor)
    note.tickets.set(tickets)
    return note


@service
def known_issue_edit(*, known_issue: KnownIssue, actor, **values) -> KnownIssue:
    """Change a known issue's words, codes, owner or matching; its status moves only through
    the guarded close actions."""
    _require(actor, ADD, "change known issues")
    editable = {
        "title",
        "ticket_type",
        "customer_message",
        "workaround",
        "wont_fix_message",
        "reason_codes",
        "feature_areas",
        "error_codes",
        "owner",
        "auto_link",
    }
    unknown = set(values) - editable
    if unknown:
        raise ValidationFailed("not_editable", f"Not editable here: {', '.join(sorted(unknown))}.")
    issue = KnownIssue.objects.select_for_update().get(pk=known_issue.pk)
    for name, value in values.items():
        setattr(
            issue, name, _clean_list(value) if name.endswith("_codes") or name == "feature_areas" else value
        )
    if not (issue.title or "").strip():
        raise ValidationFailed("title_required", "A known issue needs a title.")
    issue.save()
    return issue
