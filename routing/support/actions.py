"""Guarded actions on known issues: linking a ticket (support, engineering, ops leads), and
closing an issue as fixed in a release or won't fix (engineering and ops leads only), which
tells each linked ticket's requester once through the help desk."""

from datetime import date

from rest_framework import serializers

from opsconsole.actions.registry import Action, ActionContext, register
from opsconsole.errors import Conflict, NotFound
from opsconsole.roles import ENGINEERING, OPS_LEAD, SUPPORT
from routing.choices import CLOSED_KNOWN_ISSUE_STATUSES, KnownIssueStatus
from routing.models import Ticket
from routing.support.services.known_issues import known_issue_close, known_issue_link, release_create


class KnownIssueAction(Action):
    target_model = "routing.KnownIssue"


class LinkTicketInput(serializers.Serializer):
    ticket = serializers.IntegerField(help_text="The ticket (its id) that is evidence of this issue.")


@register
class LinkTicket(KnownIssueAction):
    name = "link_ticket_to_known_issue"
    handling_minutes = 1
    roles = (SUPPORT, ENGINEERING, OPS_LEAD)
    label = "Link a ticket"
    description = "Record a ticket as evidence of this known issue; its requester hears when it closes."
    Input = LinkTicketInput

    def _ticket(self, ctx: ActionContext) -> Ticket:
        ticket = Ticket.objects.restrict(ctx.actor, "view").filter(pk=ctx.params["ticket"]).first()
        if ticket is None:
            raise NotFound("unknown_ticket", f"No ticket #{ctx.params['ticket']} that you can see.")
        return ticket

    def check(self, ctx: ActionContext) -> None:
        self._ticket(ctx)

    def perform(self, ctx: ActionContext) -> dict:
        ticket = self._ticket(ctx)
        created = known_issue_link(known_issue=ctx.target, ticket=ticket, actor=ctx.actor)
        return {"known_issue": ctx.target.pk, "ticket": str(ticket), "linked_now": created}


class CloseAction(KnownIssueAction):
    roles = (ENGINEERING, OPS_LEAD)
    handling_minutes = 5

    def applies_to(self, target) -> bool:
        return target.status not in CLOSED_KNOWN_ISSUE_STATUSES

    def check(self, ctx: ActionContext) -> None:
        if ctx.target.status in CLOSED_KNOWN_ISSUE_STATUSES:
            raise Conflict(
                "known_issue_closed",
                f"The known issue is already {ctx.target.get_status_display().lower()}.",
                {"status": ctx.target.status},
            )


class MarkFixedInput(serializers.Serializer):
    release = serializers.CharField(max_length=40, help_text="The release version that fixed it (2026.12.1).")
    released_on = serializers.DateField(required=False, help_text="When it shipped; default today.")
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


@register
class MarkKnownIssueFixed(CloseAction):
    name = "mark_known_issue_fixed"
    label = "Mark fixed in a release"
    description = (
        "Close the issue as fixed in a release, and reply once to every linked ticket's requester "
        "through the help desk with the fix and the release."
    )
    Input = MarkFixedInput

    def perform(self, ctx: ActionContext) -> dict:
        released_on = ctx.params.get("released_on")
        release = release_create(
            version=ctx.params["release"],
            released_on=date.fromisoformat(released_on) if released_on else date.today(),
            notes=ctx.params.get("notes", ""),
            actor=ctx.actor,
        )
        notices = known_issue_close(
            known_issue=ctx.target, status=KnownIssueStatus.FIXED, release=release, actor=ctx.actor
        )
        return {"status": KnownIssueStatus.FIXED, "release": release.version, "requesters_told": len(notices)}


@register
class MarkKnownIssueWontFix(CloseAction):
    name = "mark_known_issue_wont_fix"
    label = "Mark won't fix"
    description = (
        "Close the issue as a deliberate decision not to change it, and tell every linked ticket's "
        "requester once, with the won't-fix text and the workaround."
    )

    def perform(self, ctx: ActionContext) -> dict:
        notices = known_issue_close(known_issue=ctx.target, status=KnownIssueStatus.WONT_FIX, actor=ctx.actor)
        return {"status": KnownIssueStatus.WONT_FIX, "requesters_told": len(notices)}
