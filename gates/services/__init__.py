"""Writes of gates, one module per topic. Every write takes ``actor`` and runs as ``@service``."""

from gates.services.cycles import candidate_move_add, cycle_close, cycle_constraint_ship
from gates.services.decisions import decision_draft, decision_sign
from gates.services.plans import (
    ramp_plan_approve,
    ramp_plan_complete,
    ramp_plan_create,
    ramp_plan_update,
    stop_rule_add,
)
from gates.services.reviews import check_override, review_evaluate, review_open
from gates.services.simulate import ramp_day_simulate
from gates.services.stops import (
    after_snapshot,
    ramp_pause,
    restart_conditions_evaluate,
    stop_rules_evaluate,
)

__all__ = [
    "after_snapshot",
    "candidate_move_add",
    "check_override",
    "cycle_close",
    "cycle_constraint_ship",
    "decision_draft",
    "decision_sign",
    "ramp_day_simulate",
    "ramp_pause",
    "ramp_plan_approve",
    "ramp_plan_complete",
    "ramp_plan_create",
    "ramp_plan_update",
    "restart_conditions_evaluate",
    "review_evaluate",
    "review_open",
    "stop_rule_add",
    "stop_rules_evaluate",
]
