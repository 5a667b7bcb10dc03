"""Working an exception: the guarded actions that move it between its working states.

An exception's status changes only here, through ``resolve_exception`` (accounts.actions),
through the fixes its runbook allows, or through the events and services that resolve it;
the change page has no Status field (invariant 2). Each of these is a case action
(``works_the_case``): every runbook allows it, since it fixes nothing by itself.

Who may work an exception: its owner team, the person it is assigned to, or an ops lead. So
billing does not move a support-owned exception, and support does not move billing's.
"""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from accounts.actions import ExceptionAction, exception_work_require
from accounts.choices import ExceptionStatus, Team
from accounts.services.exceptions import exception_reassign, exception_set_status
from opsconsole.actions.registry import ActionContext, register
from opsconsole.errors import Conflict, ValidationFailed
from opsconsole.roles import OPERATOR_ROLES, OPS_LEAD


class WorkingAction(ExceptionAction):
    """An action that moves the exception itself, allowed under every runbook."""

    roles = OPERATOR_ROLES
    works_the_case = True
    # A status move, not a fix: the runbook's evidence is not asked; a wait says what the
    # customer was asked, a reassignment why (their Input).
    takes_runbook_evidence = False
    handling_minutes = 1
    # The statuses the action starts from.
    applies_in: frozenset = frozenset()

    def applies_to(self, target) -> bool:
        return target.status in self.applies_in

    def check(self, ctx: ActionContext) -> None:
        exception_work_require(ctx)
        if ctx.target.status not in self.applies_in:
            raise Conflict(
                "exception_status",
                f"{self.label} does not apply to an exception that is "
                f"{ctx.target.get_status_display().lower()}.",
                {"status": ctx.target.status},
            )


@register
class AcknowledgeException(WorkingAction):
    name = "acknowledge_exception"
    label = "Acknowledge"
    description = "Take the exception: it is in progress, and this is its first response."
    applies_in = frozenset({ExceptionStatus.OPEN})

    def perform(self, ctx: ActionContext) -> dict:
        exception = exception_set_status(
            exception=ctx.target,
            status=ExceptionStatus.IN_PROGRESS,
            reason=f"Acknowledged by {ctx.actor.get_username()}.",
            actor=ctx.actor,
        )
        return {"exception": exception.pk, "status": exception.status}


class WaitInput(serializers.Serializer):
    note = serializers.CharField(max_length=500, help_text="What the customer was asked to do.")


@register
class AwaitCustomer(WorkingAction):
    name = "await_customer"
    handling_minutes = 2
    label = "Waiting on customer"
    description = "The customer has to act next (reconnect, confirm, accept); say what was asked."
    applies_in = frozenset({ExceptionStatus.OPEN, ExceptionStatus.IN_PROGRESS, ExceptionStatus.ESCALATED})
    Input = WaitInput

    def perform(self, ctx: ActionContext) -> dict:
        exception = exception_set_status(
            exception=ctx.target,
            status=ExceptionStatus.WAITING_ON_CUSTOMER,
            reason=ctx.params["note"],
            actor=ctx.actor,
        )
        return {"exception": exception.pk, "status": exception.status}


class ReassignExceptionInput(serializers.Serializer):
    team = serializers.ChoiceField(choices=Team.choices, help_text="The team that owns it from now on.")
    owner = serializers.ChoiceField(
        choices=[], required=False, help_text="A person in that team; none leaves it to the team."
    )
    reason = serializers.CharField(max_length=500, help_text="Why it goes there.")

    def get_fields(self):
        # Read when a form or a request is validated, so a new person is offered at once.
        fields = super().get_fields()
        staff = get_user_model().objects.filter(is_staff=True, is_active=True).order_by("username")
        fields["owner"].choices = [(u.get_username(), u.get_username()) for u in staff]
        return fields


@register
class ReassignException(WorkingAction):
    name = "reassign_exception"
    handling_minutes = 3
    label = "Reassign"
    description = "Give the exception to another team or person, and say why."
    applies_in = frozenset(s for s in ExceptionStatus.values if s != ExceptionStatus.RESOLVED)
    Input = ReassignExceptionInput

    def _owner(self, ctx: ActionContext):
        name = ctx.params.get("owner")
        if not name:
            return None
        owner = get_user_model().objects.filter(username=name, is_active=True).first()
        if owner is None:
            raise ValidationFailed("unknown_owner", f"No active person {name!r}.", {"owner": ["Unknown."]})
        if (
            not owner.is_superuser
            and not owner.groups.filter(name__in=[ctx.params["team"], OPS_LEAD]).exists()
        ):
            raise ValidationFailed(
                "owner_not_in_team",
                f"{name} is not in {Team(ctx.params['team']).label}.",
                {"owner": [f"Choose someone in {Team(ctx.params['team']).label}."]},
            )
        return owner

    def check(self, ctx: ActionContext) -> None:
        super().check(ctx)
        if "team" in ctx.params:
            self._owner(ctx)

    def perform(self, ctx: ActionContext) -> dict:
        exception = exception_reassign(
            exception=ctx.target,
            team=ctx.params["team"],
            owner_user=self._owner(ctx),
            reason=ctx.params["reason"],
            actor=ctx.actor,
        )
        return {
            "exception": exception.pk,
            "owner_team": exception.owner_team,
            "owner": exception.owner_user.get_username() if exception.owner_user else None,
        }
