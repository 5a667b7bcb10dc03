"""The constraint cost formula, written once: the page shows ``FORMULA``, the selectors call
``account_weight`` and ``cost``, and the weights are the setting ``REPORTS_CONSTRAINT_WEIGHTS``.

    cost = accounts hit x handling minutes x risk weight
    risk weight = mean over the accounts hit of
        shape value[shape] x (1 + MRR in dollars / mrr_unit_dollars)
        x (blocking_factor if the reason blocks that account's activation, else 1)

A reason blocks an account's activation when the provisioning step it fails is one whose
success the account's shape requires for activation (``accounts.shapes``): a failed import
blocks a sales-assisted or enterprise account, not a free trial.
"""

from django.conf import settings

from accounts.shapes import EVENT_STEP_TRANSITIONS, SHAPES

FORMULA = (
    "cost = accounts hit × handling minutes × risk weight; risk weight = mean over the accounts "
    "hit of shape value × (1 + MRR $ / {mrr_unit_dollars}) × ({blocking_factor} if the reason "
    "blocks the account's activation, else 1); shape values: {shape_values}"
)
NEEDS_ENGINEERING = "needs engineering"


def weights() -> dict:
    return settings.REPORTS_CONSTRAINT_WEIGHTS


def formula_text() -> str:
    w = weights()
    values = ", ".join(f"{shape} {value:g}" for shape, value in w["shape_value"].items())
    return FORMULA.format(
        mrr_unit_dollars=w["mrr_unit_dollars"],
        blocking_factor=f"{w['blocking_factor']:g}",
        shape_values=values,
    )


def _success_types(step: str) -> set[str]:
    return {t for t, tr in EVENT_STEP_TRANSITIONS.items() if tr.step == step and tr.outcome == "succeeded"}


def blocks_activation(step: str, shape: str) -> bool:
    """Whether failing provisioning ``step`` holds back the activation of a ``shape`` account."""
    if not step or shape not in SHAPES:
        return False
    return bool(_success_types(step) & set(SHAPES[shape].activation.required_event_types))


def account_weight(*, shape: str, mrr_cents: int, blocking: bool) -> float:
    w = weights()
    value = w["shape_value"].get(shape, 1.0)
    mrr = 1 + (mrr_cents / 100) / w["mrr_unit_dollars"]
    return value * mrr * (w["blocking_factor"] if blocking else 1.0)


def cost(*, accounts_hit: int, handling_minutes: float, risk_weight: float) -> float:
    return accounts_hit * handling_minutes * risk_weight
