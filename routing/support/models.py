"""The support sub-domain's models. Registered with the routing app by the import at the end of
``routing/models.py``; each names its app explicitly."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from opsconsole.history import audited_history
from opsconsole.restrict import RestrictedQuerySet
from routing.choices import KnownIssueStatus, NoticeKind, Rating, TicketType, UpdateKind

__all__ = [
    "HelpArticle",
    "KnownIssue",
    "KnownIssueLink",
    "ProductNote",
    "Release",
    "TicketNotice",
    "TicketUpdate",
]


# Code lists (reason codes, feature areas, error codes) are JSON lists, so the embedded SQLite
# database of ``make run`` holds them too; the few known issues and articles match in Python.


class TicketUpdate(models.Model):
    """One update from the help desk, kept as it arrived. Append-only: the row is its own audit
    record (the ticket's history shows what it moved). ``(source, update_id)`` is unique, so a
    redelivered update has one effect however many copies arrive at once."""

    ticket = models.ForeignKey("routing.Ticket", on_delete=models.CASCADE, related_name="updates")
    source = models.CharField(max_length=40)
    update_id = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=UpdateKind.choices)
    occurred_at = models.DateTimeField()
    public = models.BooleanField(null=True, blank=True)
    rating = models.CharField(max_length=4, choices=Rating.choices, blank=True)
    comment = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    # What the update changed on the ticket ({field: [before, after]}); empty when it came late
    # and newer state already stood.
    effect = models.JSONField(default=dict, blank=True)

    class Meta:
        app_label = "routing"
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "update_id"], name="ticket_update_unique_id")
        ]

    def __str__(self):
        return f"{self.source}:{self.update_id} {self.kind}"


class HelpArticle(models.Model):
    """Tier 0: a help article that lets the customer fix a blocking reason on their own."""

    title = models.CharField(max_length=200)
    url = models.URLField()
    reason_codes = models.JSONField(default=list, blank=True)
    feature_areas = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)
    history = audited_history()

    class Meta:
        app_label = "routing"
        ordering = ["title"]

    def __str__(self):
        return self.title


class Release(models.Model):
    version = models.CharField(max_length=40, unique=True)
    released_on = models.DateField()
    notes = models.TextField(blank=True)
    history = audited_history()

    class Meta:
        app_label = "routing"
        ordering = ["-released_on", "-id"]

    def __str__(self):
        return self.version


class KnownIssueQuerySet(RestrictedQuerySet):
    pass


class KnownIssue(models.Model):
    """A problem support knows about, the tickets that are evidence of it, and its fix."""

    title = models.CharField(max_length=200)
    status = models.CharField(
        max_length=16, choices=KnownIssueStatus.choices, default=KnownIssueStatus.INVESTIGATING
    )
    ticket_type = models.CharField(max_length=20, choices=TicketType.choices, default=TicketType.BUG)
    customer_message = models.TextField(blank=True, help_text="What the customer is told; safe to show.")
    workaround = models.TextField(blank=True, help_text="A safe workaround for the customer.")
    wont_fix_message = models.TextField(
        blank=True, help_text="What the customer is told if it will not be fixed (a deliberate decision)."
    )
    reason_codes = models.JSONField(default=list, blank=True)
    feature_areas = models.JSONField(default=list, blank=True)
    error_codes = models.JSONField(default=list, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    fixed_in = models.ForeignKey(
        Release, on_delete=models.PROTECT, null=True, blank=True, related_name="fixes"
    )
    auto_link = models.BooleanField(
        default=True, help_text="Link new tickets with one of its error codes on intake."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    objects = KnownIssueQuerySet.as_manager()
    history = audited_history()

    class Meta:
        app_label = "routing"
        ordering = ["-created_at"]
        permissions = [
            ("link_knownissue", "Can link tickets to a known issue"),
            ("close_knownissue", "Can mark a known issue fixed or won't fix"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=KnownIssueStatus.FIXED) | Q(fixed_in__isnull=False),
                name="fixed_known_issue_has_release",
            )
        ]

    def __str__(self):
        return self.title


class KnownIssueLink(models.Model):
    """A ticket that is evidence of a known issue; by a person or by the matching rule."""

    known_issue = models.ForeignKey(KnownIssue, on_delete=models.CASCADE, related_name="links")
    ticket = models.ForeignKey("routing.Ticket", on_delete=models.CASCADE, related_name="known_issue_links")
    automatic = models.BooleanField(default=False)
    linked_at = models.DateTimeField(auto_now_add=True)
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    history = audited_history()

    class Meta:
        app_label = "routing"
        constraints = [
            models.UniqueConstraint(fields=["known_issue", "ticket"], name="known_issue_link_once")
        ]

    def __str__(self):
        return f"{self.ticket_id} -> {self.known_issue_id}"


class TicketNotice(models.Model):
    """A close-the-loop reply to a ticket's requester. Unique per (ticket, known issue, kind):
    marking an issue fixed twice, or twice at once, tells each requester once."""

    ticket = models.ForeignKey("routing.Ticket", on_delete=models.CASCADE, related_name="notices")
    known_issue = models.ForeignKey(KnownIssue, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=10, choices=NoticeKind.choices)
    release = models.ForeignKey(Release, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    body = models.TextField()
    outbox_message = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = audited_history()

    class Meta:
        app_label = "routing"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "known_issue", "kind"], name="ticket_notice_once")
        ]

    def __str__(self):
        return f"{self.kind} notice on {self.ticket_id}"


class ProductNote(models.Model):
    """What a strategy-signal cluster told the product team, and the decision it changed."""

    title = models.CharField(max_length=200)
    decision = models.TextField(help_text="The decision these tickets changed.")
    tickets = models.ManyToManyField("routing.Ticket", related_name="product_notes", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    history = audited_history()

    class Meta:
        app_label = "routing"
        ordering = ["-created_at"]

    def __str__(self):
        return self.title
