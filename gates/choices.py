"""The enums of gates: ramp statuses, decisions, check codes, rule comparators and outcomes."""

from django.db import models


class RampStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"
    RAMPING = "ramping", "Ramping"
    HELD = "held", "Held (insufficient data)"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"


# Which moves a ramp plan may make; everything else is refused (``ramp_transition_refused``).
RAMP_TRANSITIONS = {
    RampStatus.DRAFT: {RampStatus.APPROVED, RampStatus.PAUSED},
    RampStatus.APPROVED: {RampStatus.RAMPING, RampStatus.PAUSED},
    RampStatus.RAMPING: {RampStatus.HELD, RampStatus.PAUSED, RampStatus.COMPLETED},
    RampStatus.HELD: {RampStatus.RAMPING, RampStatus.PAUSED, RampStatus.COMPLETED},
    RampStatus.PAUSED: {RampStatus.RAMPING, RampStatus.APPROVED, RampStatus.COMPLETED},
    RampStatus.COMPLETED: set(),
}
# The statuses whose stop rules are evaluated (and whose channel the hourly snapshot covers).
WATCHED_STATUSES = (RampStatus.RAMPING, RampStatus.HELD)


class ReviewKind(models.TextChoices):
    GATE = "gate", "Readiness gate"
    PAUSE = "pause", "Pause review"
    CYCLE_END = "cycle_end", "End of hardening cycle"


class Outcome(models.TextChoices):
    PROCEED = "proceed", "Proceed"
    HARDEN = "harden", "Harden before the ramp"
    PAUSE = "pause", "Pause"


class CheckCode(models.TextChoices):
    ONBOARDING = "onboarding", "Onboarding"
    PROVISIONING = "provisioning", "Provisioning"
    SUPPORT = "support", "Support"
    ESCALATION = "escalation", "Escalation"
    OBSERVABILITY = "observability", "Observability"
    CONTROLS = "controls", "Controls"


class Comparator(models.TextChoices):
    BELOW = "below", "below"
    ABOVE = "above", "above"
    DROP_VS_BASELINE = "drop_vs_baseline", "drops by at least … below the pre-ramp baseline"
    RISE_VS_BASELINE = "rise_vs_baseline", "rises by at least … above the pre-ramp baseline"
    GROWS_FASTER_THAN_SIGNUPS = "grows_faster_than_signups", "grows faster than signups"


class RuleOutcome(models.TextChoices):
    PASS = "pass", "Pass"
    TRIPPED = "tripped", "Tripped"
    INSUFFICIENT_DATA = "insufficient_data", "Insufficient data"


class ConditionOutcome(models.TextChoices):
    MET = "met", "Met"
    NOT_MET = "not_met", "Not met"
    INSUFFICIENT_DATA = "insufficient_data", "Insufficient data"


class CycleStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed (new review opened)"
