"""What staff do with a demo account's exceptions: which they raise by hand, and a draw per
reason code deciding whether they closed it or moved it along.

The draws are made when the account is planned (``accounts.demo.plan_account``), one per reason
code the account could have open, so that every loader applies the same ones: the services
(``accounts.demo``) and the benchmarks' bulk loader (``bench.bulk``), whatever exceptions the
events turn out to open.
"""

import random

from accounts.choices import ExceptionStatus
from accounts.rules import IDENTITY_REVIEW_FLAG, REVIEW_REASON_ENTERPRISE, REVIEW_REASON_IDENTITY
from accounts.shapes import EVENT_STEP_TRANSITIONS

RESOLUTION_NOTES = {
    "unclear_setup_step": "Walked the admin through the setup checklist on a call.",
    "duplicate_account": "Confirmed with the customer which account to keep; the other is closed.",
    "billing_mismatch": "Stripe was right; corrected the CRM deal amount.",
    "import_failed": "Fixed the customer's CSV encoding and re-ran the import.",
    "token_expired": "Customer reconnected Google Workspace after our email.",
    "invite_expired": "Sent a fresh invitation; the admin joined.",
}


def plan_staff_work(plan, rng: random.Random) -> None:
    if rng.random() < 0.04:
        plan.manual_exceptions.append("unclear_setup_step")
    if rng.random() < 0.012:
        plan.manual_exceptions.append("duplicate_account")
    if plan.shape != "free_trial" and rng.random() < 0.02:
        plan.manual_exceptions.append("billing_mismatch")


STAFF_STATUS_WEIGHTS = {
    ExceptionStatus.IN_PROGRESS: 5,
    ExceptionStatus.WAITING_ON_CUSTOMER: 3,
    ExceptionStatus.ESCALATED: 1,
    ExceptionStatus.OPEN: 3,
}


def staff_draws(plan) -> dict[str, tuple[float, str]]:
    """One (roll, status) per reason code the account could have open: its failures' error
    codes and their steps' defaults, the review and the exceptions staff open by hand."""
    candidates = set(plan.manual_exceptions)
    for event in plan.events:
        transition = EVENT_STEP_TRANSITIONS.get(event.type)
        if transition is not None and transition.outcome == "failed":
            candidates.update(c for c in (event.error_code, transition.default_reason_code) if c)
    if IDENTITY_REVIEW_FLAG in plan.flags:
        candidates.add(REVIEW_REASON_IDENTITY)
    if plan.shape == "enterprise":
        candidates.add(REVIEW_REASON_ENTERPRISE)
    rng = random.Random(plan.staff_seed)
    return {
        code: (
            rng.random(),
            rng.choices(list(STAFF_STATUS_WEIGHTS), weights=list(STAFF_STATUS_WEIGHTS.values()))[0],
        )
        for code in sorted(candidates)
    }


def staff_resolves(code: str, roll: float, age_days: int) -> bool:
    """Older problems are more likely to have been worked on or closed by hand."""
    return code in RESOLUTION_NOTES and roll < min(0.5, 0.05 * age_days)


# Below this roll an exception staff did not close has been moved to the drawn status.
STAFF_WORKED_BELOW = 0.6
