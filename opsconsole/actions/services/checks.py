"""What must hold before an effect runs: the permission, the runbook and its evidence, the
action's own preconditions, and, for a reversal, that the run's rows are as it left them."""

from django.apps import apps

from opsconsole.actions.permissions import permission_problem
from opsconsole.actions.recorder import to_json
from opsconsole.actions.registry import Action, ActionContext
from opsconsole.errors import Conflict, PermissionRefused, ValidationFailed
from opsconsole.models import ActionRun, ActionStatus


def evidence_require(*, action: Action, runbook, evidence: dict) -> dict:
    """The evidence, trimmed; refused when the runbook asks this action for a field left empty
    (``Action.evidence_asked``)."""
    evidence = {k: (v.strip() if isinstance(v, str) else v) for k, v in (evidence or {}).items()}
    missing = {
        item["name"]: f"{item.get('label', item['name'])} is required by runbook {runbook.code}."
        for item in action.evidence_asked(runbook)
        if not evidence.get(item["name"])
    }
    if missing:
        raise ValidationFailed("evidence_required", "The runbook requires evidence for this action.", missing)
    return evidence


def _check_runbook(action: Action, runbook) -> None:
    if runbook is not None and not action.works_the_case and action.name not in runbook.allowed_actions:
        raise Conflict(
            "not_allowed_by_runbook",
            f"Runbook {runbook.code} does not allow {action.name}; it allows "
            f"{', '.join(runbook.allowed_actions)}.",
            {"runbook": runbook.code, "allowed_actions": runbook.allowed_actions},
        )


def permission_require(actor, action: Action, target) -> None:
    """Refuse (403) an actor who may not run ``action`` on ``target``."""
    problem = permission_problem(actor, action, target)
    if problem:
        raise PermissionRefused("action_not_permitted", problem, {"action": action.name})


def action_check(ctx: ActionContext) -> None:
    """Everything that may refuse the run, in order; raises the first refusal."""
    permission_require(ctx.actor, ctx.action, ctx.target)
    if ctx.reversal_of is None:
        _check_runbook(ctx.action, ctx.runbook)
        ctx.action.check(ctx)
    else:
        _check_reversible(ctx)


def _check_reversible(ctx: ActionContext) -> None:
    original = ctx.reversal_of = ActionRun.objects.select_for_update().get(pk=ctx.reversal_of.pk)
    if original.reversal_of_id is not None:
        raise Conflict(
            "reversal_not_reversible",
            f"Run #{original.pk} is itself a reversal; a reversal cannot be reversed.",
            {"action_run": original.pk},
        )
    if not ctx.action.reversible:
        raise Conflict("not_reversible", f"{ctx.action.name} cannot be reversed.")
    if original.status != ActionStatus.SUCCEEDED:
        raise Conflict(
            "not_reversible", f"Only a succeeded run can be reversed; this one is {original.status}."
        )
    # Reverse only what is still as the run left it; anything else needs a person to look.
    for change in original.changes:
        if change["operation"] != "update":
            continue
        instance = changed_row_lock(change)
        current = to_json({f["field"]: getattr(instance, f["field"]) for f in change["fields"]})
        expected = {f["field"]: f["after"] for f in change["fields"]}
        if current != expected:
            raise Conflict(
                "state_changed",
                f"{change['object']} changed since this run; it cannot be reversed automatically.",
                {"model": change["model"], "pk": change["pk"], "now": current, "run_left": expected},
            )


def changed_row_lock(change: dict):
    """The row one recorded change is about, locked for the rest of the transaction."""
    model = apps.get_model(change["model"])
    return model.objects.select_for_update().get(pk=change["pk"])
