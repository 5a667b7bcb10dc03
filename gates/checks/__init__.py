"""The six gate checks, each a registered class (``base.register``)."""

from gates.checks import accounts, operations  # noqa: F401  (registers the checks)
from gates.checks.base import (
    BOARD_TARGET_MIN,
    LIMITED_RAMP_MIN,
    CheckContext,
    CheckOutcome,
    GateCheck,
    all_checks,
    get_check,
    register,
)

__all__ = [
    "BOARD_TARGET_MIN",
    "LIMITED_RAMP_MIN",
    "CheckContext",
    "CheckOutcome",
    "GateCheck",
    "all_checks",
    "get_check",
    "register",
]
