"""How the account pages show things: status tones, times, owners of record and links."""

from django.urls import reverse
from django.utils.html import format_html

from accounts.choices import (
    BillingStatus,
    ExceptionStatus,
    LifecycleStage,
    ProvisioningStatus,
    StepStatus,
    SystemOfRecord,
)
from accounts.models import OpsException
from opsconsole.formatting import human_time_html

CONSOLE_CSS = {"all": ("opsconsole/console.css",)}

LIFECYCLE_TONES = {
    LifecycleStage.SIGNED_UP: "info",
    LifecycleStage.ONBOARDING: "info",
    LifecycleStage.ACTIVATED: "ok",
    LifecycleStage.AT_RISK: "warn",
    LifecycleStage.CHURNED: "bad",
}
STEP_TONES = {
    StepStatus.PENDING: "muted",
    StepStatus.IN_PROGRESS: "info",
    StepStatus.SUCCEEDED: "ok",
    StepStatus.FAILED: "bad",
}
PROVISIONING_TONES = {
    ProvisioningStatus.PENDING: "muted",
    ProvisioningStatus.IN_PROGRESS: "info",
    ProvisioningStatus.ACTION_REQUIRED: "bad",
    ProvisioningStatus.UNDER_REVIEW: "warn",
    ProvisioningStatus.READY: "ok",
    ProvisioningStatus.FAILED: "bad",
}
EXCEPTION_TONES = {
    ExceptionStatus.OPEN: "bad",
    ExceptionStatus.IN_PROGRESS: "info",
    ExceptionStatus.WAITING_ON_CUSTOMER: "warn",
    ExceptionStatus.ESCALATED: "warn",
    ExceptionStatus.RESOLVED: "ok",
}
BILLING_TONES = {
    BillingStatus.ACTIVE: "ok",
    BillingStatus.TRIALING: "info",
    BillingStatus.PAST_DUE: "bad",
    BillingStatus.UNPAID: "bad",
    BillingStatus.INCOMPLETE: "warn",
    BillingStatus.CANCELED: "muted",
    BillingStatus.NONE: "muted",
}


def with_source(value, source: str):
    """A value and the system that owns it, so nobody "fixes" a field in the wrong place."""
    label = SystemOfRecord(source).label if source in SystemOfRecord.values else source
    return format_html('{} <span class="oc-source" title="System of record">source: {}</span>', value, label)


def local_time(value):
    """The console's one format for a time: '2026-11-30 16:48 · 21 h ago' (``human_time``),
    breaking between the date and the age in a narrow column."""
    return human_time_html(value)


def exception_link(exception: OpsException):
    url = reverse("admin:accounts_opsexception_change", args=[exception.pk])
    return format_html('<a href="{}">#{}</a>', url, exception.pk)
