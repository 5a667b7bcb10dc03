"""One reason code per drift class, so each mismatch is its own open exception on an account
(exceptions are unique per account and reason code while unresolved)."""

from django.db import migrations

# code, title, owner team, handling min, response min, customer message, next action
REASON_CODES = [
    (
        "billing_no_subscription",
        "Active in the product but no Stripe subscription",
        "billing",
        20,
        480,
        "We are confirming your subscription.",
        "No action needed; we will contact you if anything changes.",
    ),
    (
        "billing_plan_mismatch",
        "Plan differs between the product and Stripe",
        "billing",
        15,
        480,
        "We are confirming your plan.",
        "No action needed; we will contact you if anything changes.",
    ),
    (
        "billing_status_mismatch",
        "Billing status differs between the product and Stripe",
        "billing",
        15,
        480,
        "We are confirming your billing status.",
        "No action needed; we will contact you if anything changes.",
    ),
    (
        "billing_trial_end_mismatch",
        "Trial end differs between the product and Stripe",
        "billing",
        10,
        480,
        "We are confirming when your trial ends.",
        "No action needed; we will contact you if anything changes.",
    ),
    (
        "duplicate_customer",
        "Two Stripe customers for one account",
        "billing",
        20,
        480,
        "We found two billing profiles for your account.",
        "No action needed; we will merge them.",
    ),
    (
        "crm_owner_mismatch",
        "Account owner differs between the product and the CRM",
        "ops_lead",
        5,
        1440,
        "No customer impact.",
        "No action needed.",
    ),
    (
        "crm_plan_mismatch",
        "Plan or tier differs between the product and the CRM",
        "ops_lead",
        5,
        1440,
        "No customer impact.",
        "No action needed.",
    ),
    (
        "crm_lifecycle_mismatch",
        "Lifecycle stage differs between the product and the CRM",
        "ops_lead",
        5,
        1440,
        "No customer impact.",
        "No action needed.",
    ),
]


def seed(apps, schema_editor):
    ReasonCode = apps.get_model("accounts", "ReasonCode")
    for code, title, team, handling, response, message, next_action in REASON_CODES:
        ReasonCode.objects.update_or_create(
            code=code,
            defaults={
                "title": title,
                "layer": "billing",
                "owner_team": team,
                "estimated_handling_minutes": handling,
                "target_response_minutes": response,
                "customer_message": message,
                "customer_next_action": next_action,
                "provisioning_step": "",
                "has_runbook": False,
            },
        )


def unseed(apps, schema_editor):
    apps.get_model("accounts", "ReasonCode").objects.filter(code__in=[r[0] for r in REASON_CODES]).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_billing_stripe_events_reconciliation")]
    operations = [migrations.RunPython(seed, unseed)]
