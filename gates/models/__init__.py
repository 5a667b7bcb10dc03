"""The gates app's tables, one module per topic (plans, reviews, decisions, stops, cycles)."""

from gates.models.cycles import CandidateMove, CycleConstraint, HardeningCycle
from gates.models.decisions import Decision, DecisionFix, RestartCondition
from gates.models.plans import RampPlan, StopRule
from gates.models.reviews import CheckOverride, CheckResult, GateEvaluation, GateReview
from gates.models.stops import RampPause, RestartNotice, RuleEvaluation

__all__ = [
    "CandidateMove",
    "CheckOverride",
    "CheckResult",
    "CycleConstraint",
    "Decision",
    "DecisionFix",
    "GateEvaluation",
    "GateReview",
    "HardeningCycle",
    "RampPause",
    "RampPlan",
    "RestartCondition",
    "RestartNotice",
    "RuleEvaluation",
    "StopRule",
]
