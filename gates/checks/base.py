"""The check registry: each of the six gate checks is a class registered here by its code.

A check reads (it never writes) and returns a :class:`CheckOutcome` with everything it used:
the numbers and their as-of time, the metric definition versions, the snapshot rows it cites,
the threshold, pass or fail, what is missing, and links to the evidence. The review service
freezes that into a ``CheckResult``. Thresholds are settings (``GATES_*``), with the defaults
the gate's charter names.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import ClassVar
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

from gates.choices import CheckCode

_REGISTRY: dict[str, "GateCheck"] = {}

# Defaults of the thresholds; each may be set in settings under the same name.
DEFAULTS = {
    "GATES_ONBOARDING_MIN_RATE": 0.80,
    "GATES_PROVISIONING_MIN_RATE": 0.95,
    "GATES_PROVISIONING_MAX_DIRECT_EDITS": 0,
    "GATES_SUPPORT_MIN_AUTO_OWNER_RATE": 0.90,
    "GATES_ESCALATION_TOP_N": 10,
    "GATES_ESCALATION_RECURRING_MIN": 2,
    "GATES_SNAPSHOT_MAX_AGE_HOURS": 24,
}
# 4 of 6 makes a limited ramp eligible; 6 of 6 before a board-level target depends on it.
LIMITED_RAMP_MIN = 4
BOARD_TARGET_MIN = 6


def threshold(name: str):
    return getattr(settings, name, DEFAULTS[name])


@dataclass(frozen=True)
class CheckContext:
    plan: object
    channel: object
    since: date
    until: date
    now: datetime


@dataclass
class CheckOutcome:
    passed: bool
    summary: str
    measured: dict
    threshold: dict
    as_of: datetime
    metric_versions: dict = field(default_factory=dict)
    snapshot_ids: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    evidence: list = field(default_factory=list)


class GateCheck(ABC):
    """One of the six readiness checks; ``register`` refuses a class without ``evaluate``."""

    code: ClassVar[str]
    label: ClassVar[str]
    rule: ClassVar[str]  # what passing means, in words

    @abstractmethod
    def evaluate(self, ctx: CheckContext) -> CheckOutcome: ...


def register(cls: type[GateCheck]) -> type[GateCheck]:
    _REGISTRY[cls.code] = cls()
    return cls


def all_checks() -> list[GateCheck]:
    return [_REGISTRY[code] for code in CheckCode.values if code in _REGISTRY]


def get_check(code: str) -> GateCheck:
    return _REGISTRY[code]


def admin_link(label: str, name: str, **query) -> dict:
    """An evidence link: an admin page with its filters."""
    url = reverse(name)
    clean = {k: v for k, v in query.items() if v not in (None, "")}
    return {"label": label, "url": f"{url}?{urlencode(clean)}" if clean else url}


def rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"
