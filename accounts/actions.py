"""The guarded actions staff run on accounts and exceptions (see opsconsole.actions).

Each effect calls services; the framework has already locked the target, checked the
permission, the runbook and the evidence, and records what changed.
"""

from rest_framework import serializers

from accounts.choices import (
    ExceptionStatus,
    ProvisioningStepName,
    StepStatus,
)
from accounts.rules import duplicate_link_check
from accounts.selectors import (
    account_last_event,
    account_lookup,
    provisioning_step_of,
)
from accounts.services.accounts import account_mark_duplicate
from accounts.services.events import account_event_note
from accounts.services.exceptions import exception_resolve, exception_set_status
from opsconsole.actions.registry import Action, ActionContext, register
from opsconsole.errors import Conflict, PermissionRefused, ValidationFailed
from opsconsole.models import ActionRun, ActionStatus
from opsconsole.outbox import outbox_enqueue
from opsconsole.roles import ENGINEERING, OPERATOR_ROLES, OPS_LEAD, SUPPORT

ESCALATE = "escalate_to_engineering"
# Import failures a restart can fix. Anything else (a schema error) needs engineering.
RESTARTABLE_IMPORT_ERRORS = frozenset({"timeout", "import_timeout", "rate_limited"})
# Support restarts a failed import once; engineering (restart_import_again) up to this many.
MAX_IMPORT_RESTARTS = 3


def exception_require_open(exception) -> None:
    if exception.status == ExceptionStatus.RESOLVED:
        raise Conflict("exception_resolved", "This exception is already resolved.")


def exception_work_problem(user, exception) -> str | None:
    """Why ``user`` may not move ``exception``, or None: the owner team, the assignee and ops
    leads may."""
    if user.is_superuser or exception.owner_user_id == user.pk:
        return None
    roles = set(user.groups.values_list("name", flat=True))
    if OPS_LEAD in roles or exception.owner_team in roles:
        return None
    return (
        f"This exception belongs to {exception.get_owner_team_display()}; only that team, "
        "its assignee or an ops lead may change its status."
    )


def exception_work_require(ctx: ActionContext) -> None:
    exception_require_open(ctx.target)
    problem = exception_work_problem(ctx.actor, ctx.target)
    if problem:
        raise PermissionRefused("not_your_exception", problem, {"owner_team": ctx.target.owner_team})


class ExceptionAction(Action):
    target_model = "accounts.OpsException"

    def applies_to(self, target) -> bool:
        return target.status != ExceptionStatus.RESOLVED


# --- resolve_exception --------------------------------------------------------------------


class ResolveInput(serializers.Serializer):
    note = serializers.CharField(max_length=2000, help_text="What was done and why it is resolved.")


@register
class ResolveException(ExceptionAction):
    name = "resolve_exception"
    works_the_case = True
    # The resolution counts its reason code's estimated handling minutes; nothing on top.
    handling_minutes = 0
    roles = OPERATOR_ROLES
    label = "Resolve exception"
    description = "Close the exception with a resolution note."
    Input = ResolveInput

    def check(self, ctx: ActionContext) -> None:
        exception_work_require(ctx)

    def perform(self, ctx: ActionContext) -> dict:
        exception = exception_resolve(exception=ctx.target, note=ctx.params["note"], actor=ctx.actor)
        return {"exception": exception.pk, "status": exception.status}


# --- restart_import -----------------------------------------------------------------------


def import_restarts_done(exception) -> int:
    return ActionRun.objects.filter(
        action="restart_import", target_id=str(exception.pk), status=ActionStatus.SUCCEEDED
    ).count()


@register
class RestartImport(ExceptionAction):
    name = "restart_import"
    # Read the failure, ask for the restart, watch the retry.
    handling_minutes = 10
    roles = (SUPPORT, ENGINEERING)
    extra_permissions = {
        "restart_import_again": ("Can restart an import support already restarted", (ENGINEERING,)),
    }
    label = "Restart import"
    description = "Ask the product to run the failed import again."

    def applies_to(self, target) -> bool:
        return super().applies_to(target) and target.reason_code.code == "import_failed"

    def check(self, ctx: ActionContext) -> None:
        exception = ctx.target
        exception_require_open(exception)
        if exception.reason_code.code != "import_failed":
            raise Conflict("not_an_import_failure", "Only a failed import can be restarted.")
        failure = account_last_event(account=exception.account, type="import.failed")
        error_code = failure.error_code if failure else ""
        if error_code not in RESTARTABLE_IMPORT_ERRORS:
            raise Conflict(
                "import_not_restartable",
                f"The import failed with {error_code or 'no error code'}, which a restart does not fix; "
                "escalate to engineering.",
                {"error_code": error_code, "offer": ESCALATE},
            )
        done = import_restarts_done(exception)
        if done >= 1 and not ctx.actor.has_perm("opsconsole.restart_import_again"):
            raise Conflict(
                "restart_limit_reached",
                "Support may restart a failed import once and it was already restarted; "
                "escalate to engineering.",
                {"restarts": done, "offer": ESCALATE},
            )
        if done >= MAX_IMPORT_RESTARTS:
            raise Conflict(
                "restart_limit_reached",
                f"The import was restarted {done} times; escalate to engineering.",
                {"restarts": done, "offer": ESCALATE},
            )

    def perform(self, ctx: ActionContext) -> dict:
        exception = ctx.target
        failure = account_last_event(account=exception.account, type="import.failed")
        message = outbox_enqueue(
            command="import.restart",
            payload={"failed_event_id": failure.event_id, "request_id": failure.request_id},
            account=exception.account,
            action_run=ctx.run,
        )
        if exception.status == ExceptionStatus.OPEN:
            exception_set_status(exception=exception, status=ExceptionStatus.IN_PROGRESS, actor=ctx.actor)
        account_event_note(
            account=exception.account,
            type="import.restart_requested",
            payload={"failed_event_id": failure.event_id, "attempt": import_restarts_done(exception) + 1},
            actor=ctx.actor,
        )
        return {"command_id": str(message.pk) if message else None}


# --- resend_invite ------------------------------------------------------------------------


@register
class ResendInvite(Action):
    name = "resend_invite"
    handling_minutes = 5
    roles = (SUPPORT,)
    label = "Resend invite"
    description = "Ask the product to send the admin invitation again."
    target_model = "accounts.Account"
    # The customer has to accept the new invitation; invite.accepted resolves the exception.
    exception_status_after = ExceptionStatus.WAITING_ON_CUSTOMER

    def _invite_step(self, account):
        return provisioning_step_of(account=account, step=ProvisioningStepName.INVITE_ADMIN)

    def applies_to(self, target) -> bool:
        step = self._invite_step(target)
        return step is not None and step.status != StepStatus.SUCCEEDED

    def check(self, ctx: ActionContext) -> None:
        step = self._invite_step(ctx.target)
        if step is None:
            raise Conflict("no_invite_step", "This account's shape has no admin invitation.")
        if step.status == StepStatus.SUCCEEDED:
            raise Conflict("invite_already_accepted", "The invitation was already accepted.")

    def perform(self, ctx: ActionContext) -> dict:
        account = ctx.target
        message = outbox_enqueue(
            command="invite.resend",
            payload={"email": account.admin_email},
            account=account,
            action_run=ctx.run,
        )
        account_event_note(
            account=account,
            type="invite.resend_requested",
            payload={"email": account.admin_email},
            actor=ctx.actor,
        )
        return {"command_id": str(message.pk) if message else None}


# --- mark_duplicate -----------------------------------------------------------------------


class DuplicateInput(serializers.Serializer):
    canonical = serializers.CharField(max_length=64, help_text="external_id of the account to keep.")


@register
class MarkDuplicate(Action):
    name = "mark_duplicate"
    # Compare the two accounts before linking them.
    handling_minutes = 10
    roles = (SUPPORT,)
    label = "Mark as duplicate"
    description = "Link this account to the one to keep and close this one's exceptions."
    target_model = "accounts.Account"
    reversible = True
    Input = DuplicateInput

    def applies_to(self, target) -> bool:
        return target.duplicate_of_id is None

    def _canonical(self, ctx):
        canonical = account_lookup(external_id=ctx.params["canonical"])
        if canonical is None:
            raise ValidationFailed(
                "unknown_account",
                f"No account {ctx.params['canonical']!r}.",
                {"canonical": ["Unknown account."]},
            )
        return canonical

    def check(self, ctx: ActionContext) -> None:
        account, canonical = ctx.target, self._canonical(ctx)
        duplicate_link_check(account=account, canonical=canonical)
        if account.duplicate_of_id is not None:
            raise Conflict("already_duplicate", "This account is already marked as a duplicate.")
        if canonical.duplicate_of_id is not None:
            raise Conflict(
                "canonical_is_duplicate",
                f"{canonical.external_id} is itself a duplicate; link to the account it duplicates.",
            )

    def approval_reason(self, ctx: ActionContext) -> str | None:
        return "Marking an account as a duplicate needs an ops lead's approval."

    def perform(self, ctx: ActionContext) -> dict:
        canonical = self._canonical(ctx)
        account_mark_duplicate(account=ctx.target, canonical=canonical, actor=ctx.actor)
        return {"canonical": canonical.external_id}

    def reverse_external(self, ctx: ActionContext) -> dict:
        account_event_note(
            account=ctx.target,
            type="account.duplicate_unmarked",
            payload={"reversed_run": ctx.reversal_of.pk},
            actor=ctx.actor,
        )
        return {}
