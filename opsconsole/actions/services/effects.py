"""Running an action's effect on its locked target with the recorder watching, and writing
the run's result: the field changes, the derived values that moved, the external calls, and an
alert when it fails."""

import logging

from django.db import transaction
from django.utils import timezone

from opsconsole.actions import targets
from opsconsole.actions.recorder import EffectRecorder, recording, to_json
from opsconsole.actions.registry import ActionContext
from opsconsole.actions.services.checks import changed_row_lock
from opsconsole.alerts import Alert, alert_send
from opsconsole.errors import ApplicationError
from opsconsole.links import action_run_url
from opsconsole.models import ActionRun, ActionStatus, OutboxMessage
from opsconsole.outbox_destinations import destination_names
from opsconsole.runbooks import runbook_for_case
from opsconsole.signals import action_run_finished

logger = logging.getLogger("opsconsole.actions")


def derived_changes(before: dict, after: dict) -> list[dict]:
    """The derived values (entitlements) that differ, as ``{"key", "before", "after"}``."""
    keys = sorted(set(before) | set(after))
    return [
        {"key": k, "before": before.get(k), "after": after.get(k)}
        for k in keys
        if before.get(k) != after.get(k)
    ]


def effect_perform(ctx: ActionContext, recorder: EffectRecorder) -> dict:
    """Run the effect (or the reversal) with the recorder watching; returns the result."""
    with recording(recorder):
        if ctx.reversal_of is not None:
            _restore_fields(ctx.reversal_of)
            return ctx.action.reverse_external(ctx) or {}
        result = ctx.action.perform(ctx) or {}
        _cases_move_on(ctx)
        return result


def _cases_move_on(ctx: ActionContext) -> None:
    """A fix run on another target than its case (resend_invite on the account of an
    invite_expired exception) is the case's response: tell each case whose runbook allowed it."""
    if ctx.runbook is None:
        return
    for case in list(targets.target_for(ctx.target).runbook_cases(ctx.target)):
        if case != ctx.target and runbook_for_case(case) == ctx.runbook:
            targets.target_for(case).fix_applied(case, ctx.action, ctx.actor)


def _restore_fields(original: ActionRun) -> None:
    """Put back the exact values the run changed, newest change first, through save()."""
    for change in reversed(original.changes):
        if change["operation"] != "update":
            continue
        instance = changed_row_lock(change)
        for f in change["fields"]:
            model_field = next(x for x in instance._meta.concrete_fields if x.attname == f["field"])
            setattr(instance, f["field"], model_field.to_python(f["before"]))
        instance.save()


def run_finish(run: ActionRun, status: str, *, error: Exception | None = None) -> None:
    run.status = status
    run.finished_at = timezone.now()
    if isinstance(error, ApplicationError):
        run.error_code, run.error_message = error.code, error.message
    elif error is not None:
        run.error_code, run.error_message = "unexpected_error", f"{type(error).__name__}: {error}"
    run.save()
    action_run_finished.send(sender=ActionRun, run=run)


def action_execute(ctx: ActionContext) -> None:
    """Run the effect on the locked target; a failure rolls the effect back and alerts."""
    run, action = ctx.run, ctx.action
    recorder = EffectRecorder(dry_run=False, ignored_models=(OutboxMessage,))
    before_derived = to_json(action.derived_state(ctx.target))
    try:
        with transaction.atomic():
            result = effect_perform(ctx, recorder)
            after_derived = to_json(action.derived_state(action.lock(ctx.target)))
    except Exception as exc:
        if not isinstance(exc, ApplicationError):
            logger.exception("Action %s (run %s) failed", action.name, run.pk)
        # The database part rolled back, with the outbox rows and queued alerts; calls already
        # made to other systems (Stripe) stay on the record.
        rolled_back = (*destination_names(), "alerts")
        run.external_commands = [
            c for c in recorder.calls if (c["performed"] or "error" in c) and c["system"] not in rolled_back
        ]
        run_finish(run, ActionStatus.FAILED, error=exc)
        _alert_failed(run)
        return
    run.changes = recorder.changes
    run.derived_changes = derived_changes(before_derived, after_derived)
    run.external_commands = recorder.calls
    run.result = to_json(result)
    run_finish(run, ActionStatus.SUCCEEDED)
    if ctx.reversal_of is not None:
        original = ActionRun.objects.select_for_update().get(pk=ctx.reversal_of.pk)
        original.status = ActionStatus.REVERSED
        original.save()


def _alert_failed(run: ActionRun) -> None:
    alert_send(
        Alert(
            kind="action_failed",
            title=f"Action {run.action} failed on {run.target_repr}",
            text=run.error_message,
            severity="warning",
            fields={"action_run": run.pk, "actor": run.actor.get_username(), "error": run.error_code},
            link=action_run_url(run),
        )
    )
