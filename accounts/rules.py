"""Pure rules that reads and writes both need: how an account is onboarded, which provisioning
steps it has, which review opens for it and how soon an exception must be answered.

Functions of values only: no queries, no writes. Services apply them, selectors show them.
"""

from accounts.choices import OnboardingPath, ProvisioningStepName
from accounts.models import Account, Channel, ReasonCode
from accounts.shapes import EVENT_STEP_TRANSITIONS, shape_for
from opsconsole.errors import ValidationFailed

# Flags on a signup that ask for a person to walk the customer through onboarding.
MANAGED_ONBOARDING_FLAGS = frozenset({"white_glove", "migration_assist", "regulated"})
IDENTITY_REVIEW_FLAG = "identity_review"
REVIEW_REASON_IDENTITY = "identity_review"
REVIEW_REASON_ENTERPRISE = "enterprise_review"


def choose_onboarding_path(*, shape_code: str, channel: Channel, flags: list[str]) -> tuple[str, str]:
    """The onboarding rule: returns (path, the reason in words)."""
    shape = shape_for(shape_code)
    if shape.onboarding_path == OnboardingPath.MANAGED:
        return OnboardingPath.MANAGED, f"Shape {shape.code} is onboarded by a person."
    if channel.managed_onboarding:
        return OnboardingPath.MANAGED, f"Channel {channel.code} promises managed onboarding."
    asked = sorted(MANAGED_ONBOARDING_FLAGS.intersection(flags))
    if asked:
        return OnboardingPath.MANAGED, f"Signup flagged {', '.join(asked)}."
    return OnboardingPath.SELF_SERVE, f"Shape {shape.code} from {channel.code} is self-serve."


def applicable_steps(account: Account) -> tuple[str, ...]:
    """The account's provisioning steps in order: its shape's, led by an approval when the
    signup asked for an identity review."""
    steps = shape_for(account.shape).steps
    if IDENTITY_REVIEW_FLAG in (account.flags or []) and ProvisioningStepName.APPROVE not in steps:
        steps = (ProvisioningStepName.APPROVE,) + steps
    return steps


def review_reason_code(account: Account) -> str:
    """The reason code of the exception that waits for an account's approval."""
    return REVIEW_REASON_IDENTITY if IDENTITY_REVIEW_FLAG in account.flags else REVIEW_REASON_ENTERPRISE


def step_failure_event_types(step: str) -> list[str]:
    """The event types that report a failure of ``step`` (``import.failed`` for ``import_data``)."""
    return [t for t, tr in EVENT_STEP_TRANSITIONS.items() if tr.step == step and tr.outcome == "failed"]


def response_target_minutes(*, reason: ReasonCode, account: Account) -> int:
    """The tightest of the reason code's default, the shape's ceiling and the channel's SLA."""
    candidates = [reason.target_response_minutes, shape_for(account.shape).max_response_minutes]
    if account.channel.support_sla_minutes:
        candidates.append(account.channel.support_sla_minutes)
    return min(candidates)


def duplicate_link_check(*, account: Account, canonical: Account) -> None:
    """An account cannot be the duplicate of itself: the mark_duplicate action refuses it
    before it asks for approval, and the service refuses it again whoever calls it."""
    if canonical.pk == account.pk:
        raise ValidationFailed("duplicate_of_itself", "An account cannot duplicate itself.")
