"""The one enforcement path for guarded actions: ``run_action()``, and reversals through it.

The console, the API and Celery all call ``run_action``. It validates the input, checks the
permission (role and object), the runbook, the evidence and the action's preconditions,
records an ``ActionRun`` under a unique idempotency key, asks for approval where needed, and
runs the effect while recording every field it changes and every external call it makes.
A dry run does all of that inside a transaction that is rolled back, with the outside world
replaced by the recorder, and returns a signed preview the operator can commit unchanged.
"""

import hashlib
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.db import IntegrityError, transaction

from opsconsole.actions.recorder import EffectRecorder, to_json
from opsconsole.actions.registry import ActionContext, get_action
from opsconsole.actions.services.approvals import already_requested, approval_request, approval_waiting
from opsconsole.actions.services.checks import action_check, evidence_require, permission_require
from opsconsole.actions.services.effects import action_execute, derived_changes, effect_perform, run_finish
from opsconsole.errors import ApplicationError, Conflict, Unprocessable, ValidationFailed
from opsconsole.history import acting_as
from opsconsole.models import ActionRun, ActionStatus, OutboxMessage
from opsconsole.request_id import current_request_id
from opsconsole.runbooks import runbook_for_action

logger = logging.getLogger("opsconsole.actions")

PREVIEW_SALT = "opsconsole.actions.preview"


@dataclass
class ActionOutcome:
    """What a caller gets back: a run (live) or a preview (dry run)."""

    run: ActionRun | None = None
    preview: dict | None = None
    preview_token: str = ""
    duplicate: bool = False


class _RollBack(Exception):
    """Raised to roll back a dry run's transaction once its effects are recorded."""


def run_action(
    *,
    name: str,
    target,
    actor,
    params: dict | None = None,
    evidence: dict | None = None,
    dry_run: bool = False,
    preview_token: str = "",
    idempotency_key: str = "",
    request_id: str = "",
    entry_point: str = "api",
    reversal_of: ActionRun | None = None,
) -> ActionOutcome:
    """Run, preview or commit a reviewed preview of one guarded action. See the module doc."""
    action = get_action(name)
    if target is None or target._meta.label != action.target_model:
        raise ValidationFailed(
            "invalid_target", f"{action.name} applies to {action.target_model}.", {"target": str(target)}
        )
    token_data = None
    try:
        if preview_token:
            token_data = _load_preview_token(preview_token, action=action, target=target, actor=actor)
            if token_data["reversal_of"] != (reversal_of.pk if reversal_of else None):
                raise ValidationFailed(
                    "preview_mismatch", "This preview was made for another reversal or action."
                )
            params, evidence = token_data["params"], token_data["evidence"]
        params = action.validate(params) if reversal_of is None else (params or {})
        runbook = runbook_for_action(action, target) if reversal_of is None else None
        evidence = evidence_require(action=action, runbook=runbook, evidence=evidence or {})
        if not dry_run and token_data is None and not idempotency_key:
            raise ValidationFailed(
                "idempotency_key_required",
                "Commit a reviewed preview or send an Idempotency-Key, so a repeated submit runs once.",
            )
    except ApplicationError:
        # Someone who may not run it hears that (403), not what its parameters, preview or key
        # should be. (A permitted person's refusal of a live run is recorded by _run_live.)
        permission_require(actor, action, target)
        raise

    if dry_run:
        return _dry_run(action, target, actor, params, evidence, runbook, reversal_of)

    if token_data is not None:
        key = "preview:" + hashlib.sha256(preview_token.encode()).hexdigest()[:40]
    else:
        key = f"key:{actor.pk}:{idempotency_key}"[:200]
    return _run_live(
        action=action,
        target=target,
        actor=actor,
        params=params,
        evidence=evidence,
        runbook=runbook,
        key=key,
        request_id=request_id,
        entry_point=entry_point,
        token_data=token_data,
        reversal_of=reversal_of,
    )


def pending_run_preview(run: ActionRun) -> dict:
    """What a run waiting for approval will do, for its approver: the preview its requester
    confirmed, or (a run requested through the API without one) a dry run of it now, as its
    requester. A run that could no longer run says why under ``error``."""
    if run.preview:
        return run.preview
    action = get_action(run.action)
    target = run.target_type.get_object_for_this_type(pk=run.target_id)
    try:
        return _dry_run(
            action, target, run.actor, run.params, run.evidence, run.runbook, None, pending=run
        ).preview
    except ApplicationError as exc:
        return {"error": exc.message, "changes": [], "derived_changes": [], "external_calls": []}


def _dry_run(action, target, actor, params, evidence, runbook, reversal_of, pending=None) -> ActionOutcome:
    recorder = EffectRecorder(dry_run=True, ignored_models=(OutboxMessage,))
    captured = {}
    try:
        with transaction.atomic(), acting_as(actor):
            locked = action.lock(target)
            ctx = ActionContext(
                action, locked, params, actor, evidence, runbook, dry_run=True, reversal_of=reversal_of
            )
            action_check(ctx)
            captured["approval"] = action.approval_reason(ctx) if reversal_of is None else None
            if captured["approval"]:
                target_type = ContentType.objects.get_for_model(locked)
                waiting = approval_waiting(
                    action.name, target_type.pk, locked.pk, exclude=pending.pk if pending else None
                )
                if waiting is not None:
                    raise already_requested(waiting)
            captured["before"] = to_json(action.derived_state(locked))
            captured["fingerprint"] = action.fingerprint(locked)
            captured["result"] = effect_perform(ctx, recorder)
            captured["after"] = to_json(action.derived_state(action.lock(locked)))
            raise _RollBack
    except _RollBack:
        pass
    except ApplicationError:
        raise
    except Exception as exc:
        # The preview ran the real effect and it broke: say so instead of answering with a 500.
        logger.exception("Dry run of %s failed", action.name)
        raise Unprocessable(
            "dry_run_failed", f"The preview of {action.name} failed: {type(exc).__name__}: {exc}"
        ) from exc
    preview = {
        "action": action.name,
        "target": str(target),
        "params": params,
        "evidence": evidence,
        "runbook": runbook.code if runbook else None,
        "changes": recorder.changes,
        "derived_changes": derived_changes(captured["before"], captured["after"]),
        "external_calls": recorder.calls,
        "result": to_json(captured["result"]),
        "needs_approval": captured["approval"],
        "reversal_of": reversal_of.pk if reversal_of else None,
    }
    token = signing.dumps(
        {
            "action": action.name,
            "target": [target._meta.label, str(target.pk)],
            "actor": actor.pk,
            "params": params,
            "evidence": evidence,
            "fingerprint": captured["fingerprint"],
            "preview": preview,
            "reversal_of": reversal_of.pk if reversal_of else None,
        },
        salt=PREVIEW_SALT,
        compress=True,
    )
    return ActionOutcome(preview=preview, preview_token=token)


def _load_preview_token(token: str, *, action, target, actor) -> dict:
    try:
        data = signing.loads(
            token, salt=PREVIEW_SALT, max_age=settings.ACTION_PREVIEW_MAX_AGE.total_seconds()
        )
    except signing.SignatureExpired as exc:
        raise Conflict("preview_expired", "The preview is too old; preview again.") from exc
    except signing.BadSignature as exc:
        raise ValidationFailed("preview_invalid", "The preview token is not valid.") from exc
    if (
        data["action"] != action.name
        or data["target"] != [target._meta.label, str(target.pk)]
        or data["actor"] != actor.pk
    ):
        raise ValidationFailed(
            "preview_mismatch", "This preview was made for another action, target or user."
        )
    return data


def _run_live(
    *, action, target, actor, params, evidence, runbook, key, request_id, entry_point, token_data, reversal_of
) -> ActionOutcome:
    refusal = None
    with transaction.atomic(), acting_as(actor):
        try:
            # The unique key is claimed first, so a double or concurrent submit waits here for
            # the first to commit and then gets its run instead of running again.
            with transaction.atomic():
                run = ActionRun.objects.create(
                    action=action.name,
                    actor=actor,
                    target_type=ContentType.objects.get_for_model(target),
                    target_id=str(target.pk),
                    target_repr=str(target)[:300],
                    account=action.account_of(target),
                    params=params,
                    evidence=evidence,
                    runbook=runbook,
                    entry_point=entry_point,
                    request_id=(request_id or current_request_id())[:100],
                    idempotency_key=key,
                    reversal_of=reversal_of,
                    preview=token_data["preview"] if token_data else None,
                )
        except IntegrityError:
            existing = ActionRun.objects.filter(idempotency_key=key).first()
            if existing is None:
                raise Conflict(
                    "already_reversed",
                    "This action run was already reversed.",
                    {"action_run": reversal_of.pk},
                ) from None
            _same_request_require(
                existing,
                action=action,
                target=target,
                params=params,
                evidence=evidence,
                reversal_of=reversal_of,
            )
            return ActionOutcome(run=existing, duplicate=True)

        locked = action.lock(target)
        ctx = ActionContext(
            action, locked, params, actor, evidence, runbook, run=run, reversal_of=reversal_of
        )
        try:
            action_check(ctx)
            if token_data is not None and action.fingerprint(locked) != token_data["fingerprint"]:
                raise Conflict(
                    "state_changed",
                    "State changed since the preview; preview again.",
                    {"target": str(locked)},
                )
            approval_reason = action.approval_reason(ctx) if reversal_of is None else None
        except ApplicationError as exc:
            refusal = exc
            run_finish(run, ActionStatus.REFUSED, error=exc)
        else:
            run.state_fingerprint = action.fingerprint(locked)
            if approval_reason:
                refusal = approval_request(run=run, reason=approval_reason, actor=actor)
            else:
                action_execute(ctx)
    if refusal is not None:
        refusal.extra = {**refusal.extra, "action_run": run.pk}
        raise refusal
    return ActionOutcome(run=run)


def _same_request_require(existing: ActionRun, *, action, target, params, evidence, reversal_of) -> None:
    """A key replays only the request it was first used with, as every ledger here does: the
    same key with another action, target, parameters or evidence answers 422."""
    same = (
        existing.action == action.name
        and existing.target_type_id == ContentType.objects.get_for_model(target).pk
        and existing.target_id == str(target.pk)
        and existing.params == to_json(params)
        and existing.evidence == to_json(evidence)
        and existing.reversal_of_id == (reversal_of.pk if reversal_of else None)
    )
    if not same:
        raise Unprocessable(
            "idempotency_key_reused",
            f"This Idempotency-Key was used for run #{existing.pk} ({existing.action} on "
            f"{existing.target_repr}) with other parameters; use a new key for a new request.",
            {"action_run": existing.pk},
        )


def reversal_refusal(run: ActionRun) -> Conflict | None:
    """Why ``run`` cannot be reversed before anything is recorded, or None: a reversal is
    never reversed itself (run the action again instead)."""
    if run.reversal_of_id is not None:
        return Conflict(
            "reversal_not_reversible",
            f"Run #{run.pk} is itself the reversal of run #{run.reversal_of_id}; a reversal cannot be "
            f"reversed. Run {run.action} again instead.",
            {"action_run": run.pk, "reversal_of": run.reversal_of_id},
        )
    return None


def action_run_reverse(
    *,
    run: ActionRun,
    actor,
    dry_run: bool = False,
    preview_token: str = "",
    idempotency_key: str = "",
    entry_point: str = "console",
) -> ActionOutcome:
    """Reverse a succeeded run: a new run of the same action, through the same path."""
    refusal = reversal_refusal(run)
    if refusal is not None:
        raise refusal
    target = run.target_type.get_object_for_this_type(pk=run.target_id)
    return run_action(
        name=run.action,
        target=target,
        actor=actor,
        params={"reverses": run.pk},
        evidence={},
        dry_run=dry_run,
        preview_token=preview_token,
        idempotency_key=idempotency_key or (f"reverse:{run.pk}" if not preview_token else ""),
        entry_point=entry_point,
        reversal_of=run,
    )
