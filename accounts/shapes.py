"""Account shapes, plans and the event vocabulary: defined in code, reviewed like code.

Nobody edits these in a database. A shape says how an account of that kind is set up: its
default roles, limits, settings and entitlements, which billing states are allowed, how it is
onboarded, which provisioning steps apply and what "activated" means for it.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from accounts.choices import BillingStatus, OnboardingPath
from accounts.choices import ProvisioningStepName as Step


@dataclass(frozen=True)
class ActivationDefinition:
    """Activated once every required event type has happened within ``window`` of signup."""

    required_event_types: tuple[str, ...]
    window: timedelta
    text: str


@dataclass(frozen=True)
class Plan:
    code: str
    name: str
    mrr_cents: int
    features: tuple[str, ...]
    limits: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Shape:
    code: str
    name: str
    default_roles: tuple[str, ...]
    limits: dict[str, int]
    default_settings: dict[str, object]
    entitlements: tuple[str, ...]
    allowed_billing_states: tuple[str, ...]
    onboarding_path: str
    steps: tuple[str, ...]
    activation: ActivationDefinition
    default_plan: str
    # The longest a customer of this shape should wait for a first response to an exception.
    max_response_minutes: int


PLANS: dict[str, Plan] = {
    plan.code: plan
    for plan in (
        Plan("free", "Free", 0, ("core",), {"seats": 3, "workspaces": 1}),
        Plan("starter", "Starter", 4_900, ("core", "imports"), {"seats": 5, "workspaces": 1}),
        Plan(
            "team",
            "Team",
            19_900,
            ("core", "imports", "integrations", "reports"),
            {"seats": 25, "workspaces": 3},
        ),
        Plan(
            "business",
            "Business",
            79_900,
            ("core", "imports", "integrations", "reports", "sso", "audit_log"),
            {"seats": 100, "workspaces": 10},
        ),
        Plan(
            "enterprise",
            "Enterprise",
            400_000,
            ("core", "imports", "integrations", "reports", "sso", "audit_log", "scim", "sandbox"),
            {"seats": 1000, "workspaces": 50},
        ),
    )
}

_STANDARD_STEPS = (Step.ASSIGN_PLAN, Step.CREATE_WORKSPACE, Step.INVITE_ADMIN)
_FULL_STEPS = _STANDARD_STEPS + (Step.CONNECT_INTEGRATION, Step.IMPORT_DATA)

SHAPES: dict[str, Shape] = {
    shape.code: shape
    for shape in (
        Shape(
            code="free_trial",
            name="Free trial",
            default_roles=("owner",),
            limits={"seats": 3, "workspaces": 1},
            default_settings={"trial_days": 14, "sample_data": True},
            entitlements=("core", "imports"),
            allowed_billing_states=(BillingStatus.NONE, BillingStatus.TRIALING, BillingStatus.CANCELED),
            onboarding_path=OnboardingPath.SELF_SERVE,
            steps=_STANDARD_STEPS,
            activation=ActivationDefinition(
                ("workspace.provisioned", "report.viewed"),
                timedelta(hours=72),
                "Workspace provisioned and a first report viewed within 72 h of signup.",
            ),
            default_plan="free",
            max_response_minutes=24 * 60,
        ),
        Shape(
            code="self_serve_team",
            name="Self-serve team",
            default_roles=("owner", "admin", "member"),
            limits={"seats": 25, "workspaces": 3},
            default_settings={"sample_data": False},
            entitlements=("core", "imports", "integrations"),
            allowed_billing_states=(
                BillingStatus.TRIALING,
                BillingStatus.ACTIVE,
                BillingStatus.PAST_DUE,
                BillingStatus.CANCELED,
            ),
            onboarding_path=OnboardingPath.SELF_SERVE,
            steps=_FULL_STEPS,
            activation=ActivationDefinition(
                ("workspace.provisioned", "integration.connected", "report.viewed"),
                timedelta(hours=24),
                "Workspace provisioned, one integration connected and a first report viewed "
                "within 24 h of signup.",
            ),
            default_plan="team",
            max_response_minutes=8 * 60,
        ),
        Shape(
            code="sales_assisted_business",
            name="Sales-assisted business",
            default_roles=("owner", "admin", "billing_admin", "member"),
            limits={"seats": 100, "workspaces": 10},
            default_settings={"sso_required": False, "dedicated_csm": True},
            entitlements=("core", "imports", "integrations", "reports", "sso"),
            allowed_billing_states=(
                BillingStatus.TRIALING,
                BillingStatus.ACTIVE,
                BillingStatus.PAST_DUE,
                BillingStatus.CANCELED,
            ),
            onboarding_path=OnboardingPath.MANAGED,
            steps=_FULL_STEPS,
            activation=ActivationDefinition(
                ("workspace.provisioned", "import.succeeded", "invite.accepted"),
                timedelta(days=14),
                "Workspace provisioned, a first import succeeded and an invited user joined "
                "within 14 days of signup.",
            ),
            default_plan="business",
            max_response_minutes=4 * 60,
        ),
        Shape(
            code="enterprise",
            name="Enterprise",
            default_roles=("owner", "admin", "billing_admin", "security_admin", "member"),
            limits={"seats": 1000, "workspaces": 50},
            default_settings={"sso_required": True, "dedicated_csm": True, "data_residency": "eu"},
            entitlements=("core", "imports", "integrations", "reports", "sso", "audit_log", "scim"),
            allowed_billing_states=(BillingStatus.ACTIVE, BillingStatus.PAST_DUE, BillingStatus.CANCELED),
            onboarding_path=OnboardingPath.MANAGED,
            steps=(Step.APPROVE,) + _FULL_STEPS,
            activation=ActivationDefinition(
                ("workspace.provisioned", "integration.connected", "import.succeeded", "first_value.reached"),
                timedelta(days=30),
                "Workspace provisioned, an integration connected, a first import succeeded and "
                "first value reached within 30 days of signup.",
            ),
            default_plan="enterprise",
            max_response_minutes=60,
        ),
    )
}

# --- The event vocabulary: which event moves which provisioning step, and to what. ----------


@dataclass(frozen=True)
class StepTransition:
    step: str
    outcome: str  # "started", "succeeded" or "failed"
    default_reason_code: str | None = None


EVENT_STEP_TRANSITIONS: dict[str, StepTransition] = {
    "account.approved": StepTransition(Step.APPROVE, "succeeded"),
    "identity.verified": StepTransition(Step.APPROVE, "succeeded"),
    "plan.assigned": StepTransition(Step.ASSIGN_PLAN, "succeeded"),
    "workspace.provisioned": StepTransition(Step.CREATE_WORKSPACE, "succeeded"),
    "workspace.failed": StepTransition(Step.CREATE_WORKSPACE, "failed", "workspace_failed"),
    "invite.sent": StepTransition(Step.INVITE_ADMIN, "started"),
    "invite.accepted": StepTransition(Step.INVITE_ADMIN, "succeeded"),
    "invite.expired": StepTransition(Step.INVITE_ADMIN, "failed", "invite_expired"),
    "integration.connected": StepTransition(Step.CONNECT_INTEGRATION, "succeeded"),
    "integration.failed": StepTransition(Step.CONNECT_INTEGRATION, "failed", "integration_failed"),
    "import.started": StepTransition(Step.IMPORT_DATA, "started"),
    "import.succeeded": StepTransition(Step.IMPORT_DATA, "succeeded"),
    "import.failed": StepTransition(Step.IMPORT_DATA, "failed", "import_failed"),
}

KNOWN_EVENT_TYPES = (
    "account.created",
    "account.approved",
    "identity.verified",
    "workspace.provisioned",
    "workspace.failed",
    "plan.assigned",
    "invite.sent",
    "invite.accepted",
    "invite.expired",
    "integration.connected",
    "integration.failed",
    "import.started",
    "import.succeeded",
    "import.failed",
    "user.login",
    "report.viewed",
    "first_value.reached",
    "subscription.cancelled",
)

# The post-acquisition journey the timeline is read against, in order.
JOURNEY_STEPS = (
    "created",
    "identity verified or approved",
    "workspace provisioned",
    "import or integration set up",
    "plan assigned",
    "user invited",
    "activation",
    "support intake",
    "escalation",
    "refund, cancellation or change",
)


# The product reports a failure of a step as ``<step>.failed`` or ``<step>.expired``; the
# provisioning status, exceptions, routing context and failure metrics all use this one rule.
FAILURE_EVENT_SUFFIXES = (".failed", ".expired")


def is_failure_event(event_type: str) -> bool:
    return event_type.endswith(FAILURE_EVENT_SUFFIXES)


def shape_for(code: str) -> Shape:
    return SHAPES[code]


def plan_for(code: str) -> Plan:
    return PLANS[code]
