from django.db import models


class Category(models.TextChoices):
    BILLING = "billing", "Billing"
    AUTHENTICATION = "authentication", "Authentication"
    PROVISIONING = "provisioning", "Provisioning"
    INTEGRATION_FAILURE = "integration_failure", "Integration failure"
    PRODUCT_DEFECT = "product_defect", "Product defect"
    DOCUMENTATION = "documentation", "Documentation"
    CANCELLATION = "cancellation", "Cancellation"


class Severity(models.TextChoices):
    SEV1 = "sev1", "Sev 1"
    SEV2 = "sev2", "Sev 2"
    SEV3 = "sev3", "Sev 3"
    SEV4 = "sev4", "Sev 4"


class TicketStatus(models.TextChoices):
    NEW = "new", "New"
    ASSIGNED = "assigned", "Assigned"
    WAITING = "waiting", "Waiting on customer"
    ESCALATED = "escalated", "Escalated"
    SOLVED = "solved", "Solved"


OPEN_TICKET_STATUSES = [s for s in TicketStatus.values if s != TicketStatus.SOLVED]


class AccountMatch(models.TextChoices):
    EXTERNAL_ID = "external_id", "By account external id"
    EMAIL = "email", "By requester email"
    DOMAIN = "domain", "By email domain"
    NONE = "none", "No account matched"


class RuleSetStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class MatchMode(models.TextChoices):
    ALL = "all", "All conditions"
    ANY = "any", "Any condition"


class DecisionKind(models.TextChoices):
    RULE = "rule", "Routed by a rule"
    MANUAL = "manual", "Reassigned by a person"


class SlaTarget(models.TextChoices):
    OWNER = "owner", "Owner assigned"
    FIRST_RESPONSE = "first_response", "First response"
    RESOLUTION = "resolution", "Resolution"


class EscalationKind(models.TextChoices):
    OPS = "ops", "Known exception, to the ops queue"
    ENGINEERING = "engineering", "Unknown defect, to engineering triage"


class EscalationStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


class BacktestStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Via(models.TextChoices):
    """How the customer reached the help desk."""

    CHAT = "chat", "Chat"
    EMAIL = "email", "Email"
    WEB = "web", "Web form"
    PHONE = "phone", "Phone"
    API = "api", "API"


class TicketType(models.TextChoices):
    """What a ticket is evidence of, for the product backlog."""

    BUG = "bug", "Bug"
    FRICTION = "friction", "Friction"
    REQUEST = "request", "Feature request"
    STRATEGY_SIGNAL = "strategy_signal", "Strategy signal"
    QUESTION = "question", "Question"
    BILLING = "billing", "Billing"
    ACCOUNT_SPECIFIC = "account_specific", "Account-specific"


class UpdateKind(models.TextChoices):
    """An update the help desk sends about a ticket."""

    AGENT_REPLIED = "agent_replied", "Agent replied"
    CUSTOMER_REPLIED = "customer_replied", "Customer replied"
    SOLVED = "solved", "Solved"
    REOPENED = "reopened", "Reopened"
    SATISFACTION = "satisfaction", "Satisfaction rating"


class Rating(models.TextChoices):
    GOOD = "good", "Good"
    BAD = "bad", "Bad"


class Tier(models.IntegerChoices):
    """Who works a queue: tier 0 is self-service (help articles) and has no queue."""

    FRONTLINE = 1, "Tier 1: frontline"
    SPECIALIST = 2, "Tier 2: specialist"
    ENGINEERING = 3, "Tier 3: engineering"


class KnownIssueStatus(models.TextChoices):
    INVESTIGATING = "investigating", "Investigating"
    FIX_IN_PROGRESS = "fix_in_progress", "Fix in progress"
    FIXED = "fixed", "Fixed"
    WONT_FIX = "wont_fix", "Won't fix"


OPEN_KNOWN_ISSUE_STATUSES = [KnownIssueStatus.INVESTIGATING, KnownIssueStatus.FIX_IN_PROGRESS]
CLOSED_KNOWN_ISSUE_STATUSES = [KnownIssueStatus.FIXED, KnownIssueStatus.WONT_FIX]


class NoticeKind(models.TextChoices):
    """Why a ticket's requester was told something when a known issue closed."""

    FIXED = "fixed", "Fixed in a release"
    WONT_FIX = "wont_fix", "Won't fix"
