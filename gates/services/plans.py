"""Ramp plans: create, edit targets and steps, stop rules, status moves (with history)."""

from django.db import IntegrityError, transaction

from gates import permissions
from gates.choices import RAMP_TRANSITIONS, Comparator, RampStatus
from gates.models import RampPlan, StopRule
from opsconsole import roles
from opsconsole.errors import Conflict, PermissionRefused, ValidationFailed
from opsconsole.history import service
from reports.metrics import COHORT_METRICS

TARGET_FIELDS = (
    "target_activation",
    "target_tickets_per_100",
    "target_provisioning_failure",
    "target_escalations_per_100",
)
BUILTIN_GROWTH_RULE = "Tickets per 100 grow faster than signups"


def refuse(code: str, message: str):
    raise PermissionRefused(code, message)


def _check_owner(owner) -> None:
    names = set(owner.groups.values_list("name", flat=True))
    if not owner.is_active or not names & {roles.LEADERSHIP, roles.OPS_LEAD}:
        raise ValidationFailed(
            "owner_not_executive",
            "The executive owner must be an active user with the leadership or ops_lead role.",
            {"owner": owner.get_username()},
        )


def _check_steps(steps: list[dict], weekly_signups: int) -> list[dict]:
    if not steps:
        raise ValidationFailed("steps_required", "A ramp plan needs at least one step.")
    clean = []
    for i, step in enumerate(steps):
        try:
            multiplier = float(step["multiplier"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationFailed(
                "invalid_step", f"Step {i + 1} needs a numeric multiplier.", {"step": i}
            ) from exc
        if multiplier <= 0:
            raise ValidationFailed(
                "invalid_step", f"Step {i + 1}'s multiplier must be positive.", {"step": i}
            )
        clean.append(
            {
                "label": step.get("label") or f"{multiplier:g}× now",
                "multiplier": multiplier,
                "expected_signups": int(step.get("expected_signups") or round(multiplier * weekly_signups)),
            }
        )
    return clean


def _check_targets(targets: dict) -> dict:
    for name in ("target_activation", "target_provisioning_failure"):
        if name in targets and not 0 <= float(targets[name]) <= 1:
            raise ValidationFailed(
                "invalid_target", f"{name} is a fraction between 0 and 1.", {"field": name}
            )
    for name in ("target_tickets_per_100", "target_escalations_per_100"):
        if name in targets and float(targets[name]) < 0:
            raise ValidationFailed("invalid_target", f"{name} cannot be negative.", {"field": name})
    return {k: float(v) for k, v in targets.items() if k in TARGET_FIELDS}


def default_stop_rules(plan: RampPlan) -> list[StopRule]:
    return [
        StopRule(
            plan=plan,
            name="24 h activation below target",
            metric="activation_24h",
            comparator=Comparator.BELOW,
            threshold=plan.target_activation,
            consecutive_periods=2,
            min_sample=20,
        ),
        StopRule(
            plan=plan,
            name="24 h activation 10 points below the pre-ramp baseline",
            metric="activation_24h",
            comparator=Comparator.DROP_VS_BASELINE,
            threshold=0.10,
            consecutive_periods=2,
            min_sample=20,
        ),
        StopRule(
            plan=plan,
            name=BUILTIN_GROWTH_RULE,
            metric="tickets_per_100",
            comparator=Comparator.GROWS_FASTER_THAN_SIGNUPS,
            threshold=0.0,
            consecutive_periods=2,
            min_sample=20,
            builtin=True,
        ),
    ]


@service
def ramp_plan_create(
    *, channel, weekly_signups: int, steps: list[dict], executive_owner, targets: dict, actor
) -> RampPlan:
    if not permissions.may_create_plan(actor):
        refuse("not_allowed", "Only ops leads create ramp plans.")
    _check_owner(executive_owner)
    if weekly_signups < 0:
        raise ValidationFailed("invalid_volume", "Weekly signups cannot be negative.")
    missing = [name for name in TARGET_FIELDS if name not in targets]
    if missing:
        raise ValidationFailed("targets_required", "Every target is needed.", {"missing": missing})
    try:
        with transaction.atomic():
            plan = RampPlan.objects.create(
                channel=channel,
                weekly_signups=weekly_signups,
                steps=_check_steps(steps, weekly_signups),
                executive_owner=executive_owner,
                **_check_targets(targets),
            )
    except IntegrityError as exc:
        raise Conflict(
            "plan_exists",
            f"{channel.code} already has a ramp plan that is not completed.",
            {"channel": channel.code},
        ) from exc
    for rule in default_stop_rules(plan):
        rule.save()
    return plan


@service
def ramp_plan_update(
    *,
    plan: RampPlan,
    targets: dict | None = None,
    steps: list[dict] | None = None,
    executive_owner=None,
    actor,
) -> RampPlan:
    if not permissions.may_edit_plan(actor):
        refuse("not_allowed", "Only ops leads edit ramp plans.")
    plan = RampPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status == RampStatus.COMPLETED:
        raise Conflict("plan_completed", "A completed plan does not change.")
    if targets:
        for name, value in _check_targets(targets).items():
            setattr(plan, name, value)
    if steps is not None:
        plan.steps = _check_steps(steps, plan.weekly_signups)
    if executive_owner is not None:
        _check_owner(executive_owner)
        plan.executive_owner = executive_owner
    plan.save()
    return plan


@service
def stop_rule_add(
    *,
    plan: RampPlan,
    name: str,
    metric: str,
    comparator: str,
    threshold: float,
    consecutive_periods: int = 2,
    min_sample: int = 20,
    actor,
) -> StopRule:
    if not permissions.may_edit_plan(actor):
        refuse("not_allowed", "Only ops leads edit stop rules.")
    if metric not in COHORT_METRICS:
        raise ValidationFailed("unknown_metric", f"{metric!r} is not a cohort metric of METRICS.md.")
    if comparator not in Comparator.values:
        raise ValidationFailed("unknown_comparator", f"Unknown comparator {comparator!r}.")
    if consecutive_periods < 1 or min_sample < 1:
        raise ValidationFailed("invalid_rule", "Consecutive periods and minimum sample must be at least 1.")
    try:
        with transaction.atomic():
            return StopRule.objects.create(
                plan=plan,
                name=name,
                metric=metric,
                comparator=comparator,
                threshold=threshold,
                consecutive_periods=consecutive_periods,
                min_sample=min_sample,
            )
    except IntegrityError as exc:
        raise Conflict("rule_exists", f"The plan already has a rule named {name!r}.") from exc


def set_status(plan: RampPlan, status: str, *, save: bool = True) -> RampPlan:
    """Move a locked plan to ``status`` if the move is allowed (callers are services); with
    ``save=False`` the caller saves it with its other changes (one history row)."""
    if plan.status == status:
        return plan
    if status not in RAMP_TRANSITIONS[RampStatus(plan.status)]:
        raise Conflict(
            "ramp_transition_refused",
            f"A {plan.status} ramp cannot become {status}.",
            {"from": plan.status, "to": status},
        )
    plan.status = status
    if save:
        plan.save()
    return plan


@service
def ramp_plan_approve(*, plan: RampPlan, actor) -> RampPlan:
    if not permissions.may_edit_plan(actor):
        refuse("not_allowed", "Only ops leads approve ramp plans.")
    return set_status(RampPlan.objects.select_for_update().get(pk=plan.pk), RampStatus.APPROVED)


@service
def ramp_plan_complete(*, plan: RampPlan, actor) -> RampPlan:
    if not permissions.may_edit_plan(actor):
        refuse("not_allowed", "Only ops leads complete ramp plans.")
    return set_status(RampPlan.objects.select_for_update().get(pk=plan.pk), RampStatus.COMPLETED)
