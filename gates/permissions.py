"""Who may do what with a ramp plan, its reviews and decisions (the role × action matrix).

- edit a plan, its targets and stop rules: ``gates.change_rampplan`` (ops leads);
- open and evaluate a review, draft a decision: ops leads, and the plan's executive owner;
- override a failed check: ``gates.override_check`` (ops leads), or the plan's executive owner;
- sign a decision: an ops lead, or the plan's executive owner (``gates.sign_decision``);
- read the ramp status (API): ``gates.view_ramp`` (ops leads, leadership, analytics).
"""

from opsconsole import roles


def _active(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def is_ops_lead(user) -> bool:
    return _active(user) and (user.is_superuser or user.groups.filter(name=roles.OPS_LEAD).exists())


def is_owner(user, plan) -> bool:
    return _active(user) and user.pk == plan.executive_owner_id and user.has_perm(roles.SIGN_DECISION)


def may_edit_plan(user) -> bool:
    return _active(user) and user.has_perm("gates.change_rampplan")


def may_create_plan(user) -> bool:
    return _active(user) and user.has_perm("gates.add_rampplan")


def may_run_review(user, plan) -> bool:
    return _active(user) and (user.has_perm("gates.add_gatereview") or is_owner(user, plan))


def may_override(user, plan) -> bool:
    return _active(user) and (user.has_perm(roles.OVERRIDE_CHECK) or is_owner(user, plan))


def may_sign(user, plan) -> bool:
    return (
        _active(user) and user.has_perm(roles.SIGN_DECISION) and (is_ops_lead(user) or is_owner(user, plan))
    )


def may_run_cycle(user, cycle) -> bool:
    owners = {cycle.sponsor_id, cycle.technical_owner_id, cycle.operations_owner_id}
    return _active(user) and (user.has_perm("gates.change_hardeningcycle") or user.pk in owners)


def may_view_ramp(user) -> bool:
    return _active(user) and user.has_perm(roles.VIEW_RAMP)
