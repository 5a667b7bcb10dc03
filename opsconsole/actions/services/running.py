"""The one enforcement path for guarded actions: ``run_action()``, approvals and reversals.

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
from django.utils import timezone

from opsconsole.actions.recorder import EffectRecorder, recording, to_json
from opsconsole.actions.registry import Action, ActionContext, get_action
from opsconsole.alerts import Alert, alert_send
from opsconsole.errors import (
    ApplicationError,
    Conflict,
    PermissionRefused,
    Unprocessable,
    ValidationFailed,
)
from opsconsole.history import SYSTEM_SCHEDULER, acting_as, system_user
from opsconsole.links import action_run_url
from opsconsole.models import (
    ActionApproval,
    ActionRun,
    ActionStatus,
    ApprovalStatus,
    OutboxDestination,
    OutboxMessage,
)
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


# --- Permission ---------------------------------------------------------------------------


def permission_problem(user, action: Action, target) -> str | None:
    """Why ``user`` may not run ``action`` on ``target``, or None when they may."""
    from accounts.selectors import account_visible_to

    if user is None or not user.is_authenticated or not user.is_active:
        return "You must be signed in as an active user."
    if not user.has_perm(action.permission):
        return f"Your role may not run {action.name}."
    account = action.account_of(target)
    if account is not None and not account_visible_to(user, account):
        return "You do not have access to this account."
    return None


def may_run(user, action: Action, target) -> bool:
    return permission_problem(user, action, target) is None


# --- Helpers ------------------------------------------------------------------------------


def _required_evidence(runbook, evidence: dict) -> dict:
    evidence = {k: (v.strip() if isinstance(v, str) else v) for k, v in (evidence or {}).items()}
    if runbook is None:
        return evidence
    missing = {
        item["name"]: f"{item.get('label', item['name'])} is required by runbook {runbook.code}."
        for item in runbook.evidence_required
        if not evidence.get(item["name"])
    }
    if missing:
        raise ValidationFailed("evidence_required", "The runbook requires evidence for this action.", missing)
    return evidence


def _check_runbook(action: Action, runbook) -> None:
    if runbook is not None and action.name not in runbook.allowed_actions:
        raise Conflict(
            "not_allowed_by_runbook",
            f"Runbook {runbook.code} does not allow {action.name}; it allows "
            f"{', '.join(runbook.allowed_actions)}.",
            {"runbook": runbook.code, "allowed_actions": runbook.allowed_actions},
        )


def _check_all(ctx: ActionContext) -> None:
    problem = permission_problem(ctx.actor, ctx.action, ctx.target)
    if problem:
        raise PermissionRefused("action_not_permitted", problem, {"action": ctx.action.name})
    if ctx.reversal_of is None:
        _check_runbook(ctx.action, ctx.runbook)
        ctx.action.check(ctx)
    else:
        _check_reversible(ctx)


def _derived_diff(before: dict, after: dict) -> list[dict]:
    keys = sorted(set(before) | set(after))
    return [
        {"key": k, "before": before.get(k), "after": after.get(k)}
        for k in keys
        if before.get(k) != after.get(k)
    ]


def _perform_recorded(ctx: ActionContext, recorder: EffectRecorder) -> dict:
    """Run the effect (or the reversal) with the recorder watching; returns the result."""
    with recording(recorder):
        if ctx.reversal_of is not None:
            _restore_fields(ctx.reversal_of)
            return ctx.action.reverse_external(ctx) or {}
        return ctx.action.perform(ctx) or {}


def _split_states(changes: list[dict]) -> tuple[dict, dict]:
    before, after = {}, {}
    for change in changes:
        key = f"{change['model']}:{change['pk']}"
        before.setdefault(key, {})
        after.setdefault(key, {})
        for f in change["fields"]:
            before[key].setdefault(f["field"], f["before"])
            after[key][f["field"]] = f["after"]
    return before, after


# --- run_action ---------------------------------------------------------------------------


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
    if preview_token:
        token_data = _load_preview_token(preview_token, action=action, target=target, actor=actor)
        if token_data["reversal_of"] != (reversal_of.pk if reversal_of else None):
            raise ValidationFailed(
                "preview_mismatch", "This preview was made for another reversal or action."
            )
        params, evidence = token_data["params"], token_data["evidence"]
    params = action.validate(params) if reversal_of is None else (params or {})
    runbook = runbook_for_action(action, target) if reversal_of is None else None
    evidence = _required_evidence(runbook, evidence or {})

    if dry_run:
        return _dry_run(action, target, actor, params, evidence, runbook, reversal_of)

    if token_data is not None:
        key = "preview:" + hashlib.sha256(preview_token.encode()).hexdigest()[:40]
    elif idempotency_key:
        key = f"key:{actor.pk}:{idempotency_key}"[:200]
    else:
        raise ValidationFailed(
            "idempotency_key_required",
            "Commit a reviewed preview or send an Idempotency-Key, so a repeated submit runs once.",
        )
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


def _dry_run(action, target, actor, params, evidence, runbook, reversal_of) -> ActionOutcome:
    recorder = EffectRecorder(dry_run=True, ignored_models=(OutboxMessage,))
    captured = {}
    try:
        with transaction.atomic(), acting_as(actor):
            locked = action.lock(target)
            ctx = ActionContext(
                action, locked, params, actor, evidence, runbook, dry_run=True, reversal_of=reversal_of
            )
            _check_all(ctx)
            captured["approval"] = action.approval_reason(ctx) if reversal_of is None else None
            if captured["approval"]:
                target_type = ContentType.objects.get_for_model(locked)
                waiting = _waiting_for_approval(action.name, target_type.pk, locked.pk)
                if waiting is not None:
                    raise _already_requested(waiting)
            captured["before"] = to_json(action.derived_state(locked))
            captured["fingerprint"] = action.fingerprint(locked)
            captured["result"] = _perform_recorded(ctx, recorder)
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
        "derived_changes": _derived_diff(captured["before"], captured["after"]),
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
                    request_id=request_id[:100],
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
            return ActionOutcome(run=existing, duplicate=True)

        locked = action.lock(target)
        ctx = ActionContext(
            action, locked, params, actor, evidence, runbook, run=run, reversal_of=reversal_of
        )
        try:
            _check_all(ctx)
            if token_data is not None and action.fingerprint(locked) != token_data["fingerprint"]:
                raise Conflict(
                    "state_changed",
                    "State changed since the preview; preview again.",
                    {"target": str(locked)},
                )
            approval_reason = action.approval_reason(ctx) if reversal_of is None else None
        except ApplicationError as exc:
            refusal = exc
            _finish(run, ActionStatus.REFUSED, error=exc)
        else:
            run.state_fingerprint = action.fingerprint(locked)
            if approval_reason:
                refusal = _request_approval(run, reason=approval_reason, actor=actor)
            else:
                _execute(ctx)
    if refusal is not None:
        refusal.extra = {**refusal.extra, "action_run": run.pk}
        raise refusal
    return ActionOutcome(run=run)


def _finish(run: ActionRun, status: str, *, error: Exception | None = None) -> None:
    run.status = status
    run.finished_at = timezone.now()
    if isinstance(error, ApplicationError):
        run.error_code, run.error_message = error.code, error.message
    elif error is not None:
        run.error_code, run.error_message = "unexpected_error", f"{type(error).__name__}: {error}"
    run.save()


def _execute(ctx: ActionContext) -> None:
    """Run the effect on the locked target; a failure rolls the effect back and alerts."""
    run, action = ctx.run, ctx.action
    recorder = EffectRecorder(dry_run=False, ignored_models=(OutboxMessage,))
    before_derived = to_json(action.derived_state(ctx.target))
    try:
        with transaction.atomic():
            result = _perform_recorded(ctx, recorder)
            after_derived = to_json(action.derived_state(action.lock(ctx.target)))
    except Exception as exc:
        if not isinstance(exc, ApplicationError):
            logger.exception("Action %s (run %s) failed", action.name, run.pk)
        # The database part rolled back, with the outbox rows and queued alerts; calls already
        # made to other systems (Stripe) stay on the record.
        run.external_commands = [
            c
            for c in recorder.calls
            if (c["performed"] or "error" in c) and c["system"] not in (*OutboxDestination.values, "alerts")
        ]
        _finish(run, ActionStatus.FAILED, error=exc)
        _alert_failed(run)
        return
    run.changes = recorder.changes
    run.before_state, run.after_state = _split_states(recorder.changes)
    if before_derived != after_derived:
        run.before_state["derived"], run.after_state["derived"] = before_derived, after_derived
    run.external_commands = recorder.calls
    run.result = to_json(result)
    _finish(run, ActionStatus.SUCCEEDED)
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


# --- Approvals ----------------------------------------------------------------------------


def _request_approval(run: ActionRun, *, reason: str, actor) -> Conflict | None:
    """Put the run in the approvers' inbox, unless the same action on the same target is
    already there: a lead should decide one request, not two that do the same thing. Returns
    the refusal in that case."""
    waiting = _waiting_for_approval(run.action, run.target_type_id, run.target_id, exclude=run.pk)
    if waiting is None:
        now = timezone.now()
        try:
            with transaction.atomic():
                run.status = ActionStatus.AWAITING_APPROVAL
                run.save()
                ActionApproval.objects.create(
                    run=run,
                    reason=reason[:300],
                    requested_by=actor,
                    expires_at=now + settings.ACTION_APPROVAL_TTL,
                    sla_due_at=now + settings.ACTION_APPROVAL_SLA,
                )
                return None
        except IntegrityError:
            # A concurrent request on a target whose lock does not cover it won the race.
            run.status = ActionStatus.RUNNING
            waiting = _waiting_for_approval(run.action, run.target_type_id, run.target_id, exclude=run.pk)
            if waiting is None:
                raise
    refusal = _already_requested(waiting)
    _finish(run, ActionStatus.REFUSED, error=refusal)
    return refusal


def _waiting_for_approval(
    action_name: str, target_type_id: int, target_id, *, exclude=None
) -> ActionRun | None:
    """The request already in the inbox for this action and target; one past its expiry that
    the sweep has not reached yet is expired now instead of blocking a new request."""
    waiting = (
        ActionRun.objects.filter(
            action=action_name,
            target_type=target_type_id,
            target_id=str(target_id),
            status=ActionStatus.AWAITING_APPROVAL,
        )
        .exclude(pk=exclude)
        .select_related("actor", "approval")
        .first()
    )
    if waiting is not None and waiting.approval.expires_at <= timezone.now():
        _approval_expire(waiting.approval.pk)
        return None
    return waiting


def _already_requested(waiting: ActionRun) -> Conflict:
    return Conflict(
        "approval_already_requested",
        f"Run #{waiting.pk} ({waiting.action} by {waiting.actor.get_username()}) is already waiting "
        "for approval on this target; it must be approved or rejected before asking again.",
        {"waiting_run": waiting.pk},
    )


def approval_decide(*, approval: ActionApproval, approve: bool, note: str = "", actor) -> ActionApproval:
    """Approve (which runs the action, once) or reject a pending approval.

    The requester cannot decide their own request. An expired approval is marked expired and
    refused. A state change since the request refuses the run: it must be requested again.
    """
    outcome_error = None
    with transaction.atomic(), acting_as(actor):
        approval = ActionApproval.objects.select_for_update().select_related("run").get(pk=approval.pk)
        run = ActionRun.objects.select_for_update().get(pk=approval.run_id)
        if approval.status != ApprovalStatus.PENDING:
            raise Conflict(
                "approval_already_decided", f"This approval is already {approval.status}.", {"run": run.pk}
            )
        if approval.requested_by_id == actor.pk:
            raise PermissionRefused("self_approval", "You cannot approve or reject your own request.")
        if not actor.has_perm("opsconsole.approve_actionrun"):
            raise PermissionRefused("approval_not_permitted", "Your role may not decide approvals.")
        now = timezone.now()
        if approval.expires_at <= now:
            _close_approval(approval, ApprovalStatus.EXPIRED, actor=None, note="")
            outcome_error = Conflict("approval_expired", "This approval request expired; request it again.")
            _finish(run, ActionStatus.REFUSED, error=outcome_error)
        elif not approve:
            _close_approval(approval, ApprovalStatus.REJECTED, actor=actor, note=note)
            _finish(run, ActionStatus.REFUSED, error=Conflict("approval_rejected", note or "Rejected."))
        else:
            _close_approval(approval, ApprovalStatus.APPROVED, actor=actor, note=note)
            outcome_error = _run_approved(run)
    if outcome_error is not None:
        raise outcome_error
    return approval


def _close_approval(approval: ActionApproval, status: str, *, actor, note: str) -> None:
    approval.status = status
    approval.decided_by = actor
    approval.decided_at = timezone.now()
    approval.decision_note = note
    approval.save()


def _run_approved(run: ActionRun) -> ApplicationError | None:
    """Run an approved action as requested; returns the refusal if it can no longer run."""
    action = get_action(run.action)
    target = run.target_type.get_object_for_this_type(pk=run.target_id)
    locked = action.lock(target)
    ctx = ActionContext(action, locked, run.params, run.actor, run.evidence, run.runbook, run=run)
    try:
        _check_all(ctx)
        if action.fingerprint(locked) != run.state_fingerprint:
            raise Conflict("state_changed", "State changed since the request; request it again.")
    except ApplicationError as exc:
        _finish(run, ActionStatus.REFUSED, error=exc)
        return exc
    _execute(ctx)
    return None


def approvals_expire(*, now=None) -> int:
    """Mark pending approvals past their expiry as expired and refuse their runs."""
    now = now or timezone.now()
    expired = list(
        ActionApproval.objects.filter(status=ApprovalStatus.PENDING, expires_at__lte=now).values_list(
            "pk", flat=True
        )
    )
    if not expired:
        return 0
    scheduler = system_user(SYSTEM_SCHEDULER)
    return sum(_approval_expire(pk, scheduler=scheduler) for pk in expired)


def _approval_expire(approval_pk, *, scheduler=None) -> bool:
    # An expiry is the clock's doing, not a decision of whoever happened to trigger it.
    with transaction.atomic(), acting_as(scheduler or system_user(SYSTEM_SCHEDULER)):
        approval = ActionApproval.objects.select_for_update().get(pk=approval_pk)
        if approval.status != ApprovalStatus.PENDING:
            return False
        _close_approval(approval, ApprovalStatus.EXPIRED, actor=None, note="")
        run = ActionRun.objects.select_for_update().get(pk=approval.run_id)
        _finish(run, ActionStatus.REFUSED, error=Conflict("approval_expired", "The approval expired."))
        return True


def approvals_alert_overdue(*, now=None) -> int:
    """Alert once for each approval waiting past its SLA (compare-and-set on sla_alerted_at)."""
    now = now or timezone.now()
    count = 0
    overdue = ActionApproval.objects.filter(
        status=ApprovalStatus.PENDING, sla_due_at__lte=now, sla_alerted_at__isnull=True
    )
    for pk in overdue.values_list("pk", flat=True):
        with transaction.atomic():
            approval = (
                ActionApproval.objects.select_for_update(skip_locked=True)
                .select_related("run", "requested_by")
                .filter(pk=pk, sla_alerted_at__isnull=True)
                .first()
            )
            if approval is None:
                continue
            approval.sla_alerted_at = now
            approval.save()
            waited = int((now - approval.requested_at).total_seconds() // 60)
            alert_send(
                Alert(
                    kind="approval_overdue",
                    title=f"Approval waiting {waited} min: {approval.run.action} "
                    f"on {approval.run.target_repr}",
                    text=approval.reason,
                    severity="warning",
                    fields={
                        "action_run": approval.run_id,
                        "requested_by": approval.requested_by.get_username(),
                        "expires_at": approval.expires_at.isoformat(),
                    },
                    link=action_run_url(approval.run),
                )
            )
            count += 1
    return count


# --- Reversal -----------------------------------------------------------------------------


def _check_reversible(ctx: ActionContext) -> None:
    original = ctx.reversal_of = ActionRun.objects.select_for_update().get(pk=ctx.reversal_of.pk)
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
        instance = _instance_for(change)
        current = to_json({f["field"]: getattr(instance, f["field"]) for f in change["fields"]})
        expected = {f["field"]: f["after"] for f in change["fields"]}
        if current != expected:
            raise Conflict(
                "state_changed",
                f"{change['object']} changed since this run; it cannot be reversed automatically.",
                {"model": change["model"], "pk": change["pk"], "now": current, "run_left": expected},
            )


def _instance_for(change: dict):
    from django.apps import apps

    model = apps.get_model(change["model"])
    return model.objects.select_for_update().get(pk=change["pk"])


def _restore_fields(original: ActionRun) -> None:
    """Put back the exact values the run changed, newest change first, through save()."""
    for change in reversed(original.changes):
        if change["operation"] != "update":
            continue
        instance = _instance_for(change)
        for f in change["fields"]:
            model_field = next(x for x in instance._meta.concrete_fields if x.attname == f["field"])
            setattr(instance, f["field"], model_field.to_python(f["before"]))
        instance.save()


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
