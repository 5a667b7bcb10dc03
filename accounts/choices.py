from django.db import models


class ChannelKind(models.TextChoices):
    PAID_SEARCH = "paid_search", "Paid search"
    PARTNER = "partner", "Partner"
    OUTBOUND = "outbound", "Outbound"
    ORGANIC = "organic", "Organic"
    MARKETPLACE = "marketplace", "Marketplace"
    REFERRAL = "referral", "Referral"
    PAID_SOCIAL = "paid_social", "Paid social"
    EVENTS = "events", "Events"
    # The built-in channel of signups whose attribution was lost (models.UNATTRIBUTED_CHANNEL).
    UNATTRIBUTED = "unattributed", "Unattributed"


class LifecycleStage(models.TextChoices):
    SIGNED_UP = "signed_up", "Signed up"
    ONBOARDING = "onboarding", "Onboarding"
    ACTIVATED = "activated", "Activated"
    AT_RISK = "at_risk", "At risk"
    CHURNED = "churned", "Churned"


class OnboardingPath(models.TextChoices):
    SELF_SERVE = "self_serve", "Self-serve"
    MANAGED = "managed", "Managed"


class BillingStatus(models.TextChoices):
    NONE = "none", "No billing"
    TRIALING = "trialing", "Trialing"
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Past due"
    UNPAID = "unpaid", "Unpaid"
    CANCELED = "canceled", "Canceled"
    INCOMPLETE = "incomplete", "Incomplete"


class SystemOfRecord(models.TextChoices):
    PRODUCT = "product", "Product"
    STRIPE = "stripe", "Stripe"
    CRM = "crm", "CRM"


class EventSource(models.TextChoices):
    PRODUCT = "product", "Product"
    OPS = "ops", "Ops"
    STRIPE = "stripe", "Stripe"
    CRM = "crm", "CRM"
    SYSTEM = "system", "System"


class Layer(models.TextChoices):
    ONBOARDING = "onboarding", "Onboarding"
    PROVISIONING = "provisioning", "Provisioning"
    SUPPORT = "support", "Support"
    ESCALATION = "escalation", "Escalation"
    BILLING = "billing", "Billing"


class Team(models.TextChoices):
    SUPPORT = "support", "Support"
    BILLING = "billing", "Billing"
    ENGINEERING = "engineering", "Engineering"
    OPS_LEAD = "ops_lead", "Ops lead"


class ExceptionStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    WAITING_ON_CUSTOMER = "waiting_on_customer", "Waiting on customer"
    ESCALATED = "escalated", "Escalated"
    RESOLVED = "resolved", "Resolved"


UNRESOLVED_EXCEPTION_STATUSES = [s for s in ExceptionStatus.values if s != ExceptionStatus.RESOLVED]


class ProvisioningStepName(models.TextChoices):
    APPROVE = "approve", "Approve"
    ASSIGN_PLAN = "assign_plan", "Assign plan"
    CREATE_WORKSPACE = "create_workspace", "Create workspace"
    INVITE_ADMIN = "invite_admin", "Invite admin"
    CONNECT_INTEGRATION = "connect_integration", "Connect integration"
    IMPORT_DATA = "import_data", "Import data"


class StepStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    IN_PROGRESS = "in_progress", "In progress"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class ProvisioningStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    IN_PROGRESS = "in_progress", "In progress"
    ACTION_REQUIRED = "action_required", "Action required"
    UNDER_REVIEW = "under_review", "Under review"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class EntitlementKind(models.TextChoices):
    STANDARD = "standard", "Standard"
    TEMPORARY = "temporary", "Temporary"
    BETA = "beta", "Beta"
    GRANDFATHERED = "grandfathered", "Grandfathered"


class StripeEventStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSED = "processed", "Processed"
    IGNORED = "ignored", "Ignored (no handler or no account)"
    FAILED = "failed", "Failed"


class StripeEventVia(models.TextChoices):
    WEBHOOK = "webhook", "Webhook"
    EVENTS_API = "events_api", "Events API"


class ReconciliationTarget(models.TextChoices):
    STRIPE = "stripe", "Stripe"
    CRM = "crm", "CRM"


class ReconciliationMode(models.TextChoices):
    FULL = "full", "Full scan"
    INCREMENTAL = "incremental", "Incremental (events since the last cursor)"


class ReconciliationStatus(models.TextChoices):
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class DriftKind(models.TextChoices):
    """A class of disagreement; each has its own reason code of the same name."""

    NO_SUBSCRIPTION = "billing_no_subscription", "Active in the product, no subscription"
    PLAN = "billing_plan_mismatch", "Plan mismatch"
    BILLING_STATUS = "billing_status_mismatch", "Billing-status mismatch"
    TRIAL_END = "billing_trial_end_mismatch", "Trial-end mismatch"
    UNMATCHED = "unmatched_billing_record", "Billing record with no account"
    DUPLICATE_CUSTOMER = "duplicate_customer", "Two customers for one account"
    CRM_OWNER = "crm_owner_mismatch", "CRM owner mismatch"
    CRM_PLAN = "crm_plan_mismatch", "CRM plan/tier mismatch"
    CRM_LIFECYCLE = "crm_lifecycle_mismatch", "CRM lifecycle-stage mismatch"


class DriftStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"
