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
